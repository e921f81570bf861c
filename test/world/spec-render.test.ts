import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { isTesseraError } from '../../src/errors.js';
import { randomSpec, validateSpec, renderScene, SPRITES } from '../../src/world/index.js';
import { decodePng } from '../../src/world/sprites.js';

const minimal = { width: 64, height: 64, objects: [{ kind: 'circle', colour: 'red', motion: { type: 'bounce' } }] };

test('validateSpec fills defaults and names the bad field', () => {
  const spec = validateSpec(minimal);
  assert.equal(spec.frames, 16);
  assert.equal(spec.background.kind, 'sky');
  assert.equal(spec.objects[0]!.size, 'medium');
  const bad: [unknown, RegExp][] = [
    [{ ...minimal, width: 40 }, /^width: expected a multiple of 16/],
    [{ ...minimal, height: 512 }, /^height: /],
    [{ ...minimal, objects: [] }, /^objects: expected an array of 1 to 4/],
    [{ ...minimal, objects: [{ kind: 'dragon' }] }, /^objects\[0\]\.kind: /],
    [{ ...minimal, objects: [{ kind: 'elephant', colour: 'red' }] }, /^objects\[0\]\.colour: sprite 'elephant'/],
    [{ ...minimal, objects: [{ kind: 'circle', motion: { type: 'walk', direction: 'up' } }] }, /^objects\[0\]\.motion\.direction: /],
    [{ ...minimal, camera: 'dolly' }, /^camera: expected one of still/],
    [{ ...minimal, background: { kind: 'sky', colour: 'red' } }, /^background\.colour: /],
  ];
  for (const [json, message] of bad) {
    assert.throws(() => validateSpec(json), (e: unknown) => isTesseraError(e) && e.code === 'invalid_argument' && message.test(e.message));
  }
});

test('random specs are valid and round-trip through JSON', () => {
  for (let seed = 0; seed < 200; seed++) {
    const spec = randomSpec(seed, { width: 96, height: 64 });
    assert.deepEqual(validateSpec(JSON.parse(JSON.stringify(spec))), spec);
  }
});

test('rendering is deterministic, sized as asked, and differs between scenes', () => {
  const spec = randomSpec(7, { width: 80, height: 48, frames: 5 });
  const a = renderScene(spec), b = renderScene(JSON.parse(JSON.stringify(spec)));
  assert.equal(a.data.length, 5 * 48 * 80 * 3);
  assert.deepEqual([a.frames, a.height, a.width, a.fps], [5, 48, 80, 8]);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(renderScene(randomSpec(8, { width: 80, height: 48, frames: 5 })).data, a.data);
  const image = renderScene({ ...spec, frames: 1 });
  assert.deepEqual(image.data, a.data.subarray(0, 48 * 80 * 3));
});

test('a still red circle on white is drawn where and how big the spec says, with soft edges', () => {
  const spec = validateSpec({ width: 64, height: 64, frames: 2, background: { kind: 'solid', colour: 'white' },
    objects: [{ kind: 'circle', colour: 'red', size: 'large', position: { x: 0.25, y: 0.5 }, motion: 'stay' }] });
  const clip = renderScene(spec);
  const px = (x: number, y: number) => Array.from(clip.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
  assert.deepEqual(px(16, 32), [220, 40, 40]);
  assert.deepEqual(px(48, 32), [245, 245, 245]);
  let red = 0, partial = 0;
  for (let i = 0; i < 64 * 64; i++) {
    const g = clip.data[i * 3 + 1]!;
    if (g === 40) red++;
    else if (g > 40 && g < 245) partial++;
  }
  const radius = 0.3 * 64 / 2;
  assert.ok(Math.abs(red + partial / 2 - Math.PI * radius * radius) < 12, `area ${red + partial / 2}`);
  assert.ok(partial > 20, 'edges are anti-aliased');
});

test('moving objects move, spinning ones turn, weather and night change pixels', () => {
  const base = { width: 64, height: 64, frames: 6, background: { kind: 'solid', colour: 'white' } };
  const moving = renderScene(validateSpec({ ...base, objects: [{ kind: 'square', colour: 'blue', position: { x: 0.3, y: 0.5 }, motion: { type: 'move', direction: 'right', speed: 'fast' } }] }));
  const centreX = (clip: typeof moving, f: number) => {
    let sx = 0, n = 0;
    for (let i = 0; i < 64 * 64; i++) if (clip.data[f * 64 * 64 * 3 + i * 3]! < 100) { sx += i % 64; n++; }
    return sx / n;
  };
  assert.ok(centreX(moving, 5) - centreX(moving, 0) > 8);
  const clear = validateSpec({ ...base, objects: [{ kind: 'star', colour: 'red', motion: 'stay' }] });
  assert.notDeepEqual(renderScene({ ...clear, weather: 'snow' }).data, renderScene(clear).data);
  const night = renderScene({ ...clear, lighting: 'night' });
  assert.ok(night.data[0]! < 245 * 0.5, 'night darkens the background');
});

test('sprite PNGs decode exactly as sharp decodes them', async () => {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('emoji-datasource-twitter/package.json')), 'img', 'twitter', '64');
  assert.ok(SPRITES.length >= 32);
  assert.ok(SPRITES.some((s) => s.name === 'elephant') && SPRITES.some((s) => s.name === 'rocket') && SPRITES.some((s) => s.name === 'robot'));
  for (const s of SPRITES.filter((_, i) => i % 4 === 0)) {
    const file = join(dir, s.image);
    const ours = decodePng(readFileSync(file), file);
    const theirs = await sharp(file).ensureAlpha().raw().toBuffer();
    assert.deepEqual(Buffer.from(ours.rgba), theirs, s.image);
  }
});

test('renders 17 frames of 128x128 fast (reported)', () => {
  const specs = Array.from({ length: 40 }, (_, i) => randomSpec(500 + i, { width: 128, height: 128, frames: 17 }));
  for (const s of specs.slice(0, 10)) renderScene(s);
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (const s of specs) renderScene(s);
  const wall = (performance.now() - t0) / specs.length;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / specs.length;
  console.log(`# render 17x128x128: ${cpuMs.toFixed(2)} ms CPU, ${wall.toFixed(2)} ms wall per clip`);
  // generous bound: the machine running tests is shared; the 5 ms target is measured on an idle one
  assert.ok(cpuMs < 40, `${cpuMs} ms`);
});
