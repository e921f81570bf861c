import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/random.js';
import {
  NO_COLOUR, WorldClassifier, classifyClips, clipsToInput, defaultClassifierConfig, labelsOf, loadClassifier, saveClassifier, writeClipInput,
} from '../../src/eval/classifier.js';
import { clipFrechetDistance } from '../../src/eval/fvd.js';
import type { VideoClip } from '../../src/media/types.js';
import { renderScene } from '../../src/world/render.js';
import { randomSpec, validateSpec } from '../../src/world/spec.js';

const tinyConfig = () => ({ ...defaultClassifierConfig(), channels: [4, 8, 8] as [number, number, number], featureDim: 8 });

test('clip input: frames spread over time, pixels area-averaged into [-1, 1]', () => {
  // 4 frames of 4x4; frame f has value 40 f; each frame is a checkerboard of +-20 around it
  const frames = 4, side = 4;
  const data = new Uint8Array(frames * side * side * 3);
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data.fill(40 * f + 50 + ((x + y) % 2 ? 20 : -20), ((f * side + y) * side + x) * 3, ((f * side + y) * side + x + 1) * 3);
  }
  const clip: VideoClip = { frames, height: side, width: side, fps: 8, data };
  const out = new Float32Array(3 * 2 * 2 * 2);
  writeClipInput(clip, { frames: 2, size: 2 }, out);
  // output frame 0 <- source frame 1 (centre of the first half), frame 1 <- source frame 3; 2x2 boxes average the board away
  const expect = (v: number) => v / 127.5 - 1;
  assert.ok(Math.abs(out[0]! - expect(90)) < 1e-6, `${out[0]}`);
  assert.ok(Math.abs(out[4]! - expect(170)) < 1e-6, `${out[4]}`);
  assert.ok(Math.abs(out[8 + 3]! - expect(90)) < 1e-6, 'green plane');
  assert.throws(() => writeClipInput({ ...clip, data: data.subarray(1) }, { frames: 2, size: 2 }, out), /clip/);
});

test('labels: first object kind, colour (none for sprites), motion, background', () => {
  const config = defaultClassifierConfig();
  const spec = validateSpec({ background: 'sea', objects: [{ kind: 'dolphin', motion: { type: 'move', direction: 'left' } }, { kind: 'star', colour: 'red' }] });
  const l = labelsOf(spec, config);
  assert.equal(config.labels.kind[l.kind], 'dolphin');
  assert.equal(config.labels.colour[l.colour], NO_COLOUR);
  assert.equal(config.labels.motion[l.motion], 'move');
  assert.equal(config.labels.background[l.background], 'sea');
});

test('save as float16 and load back: same features; identical clip sets are at distance 0', async () => {
  const model = new WorldClassifier(tinyConfig(), new Rng(3)).eval();
  const clips = [0, 1, 2, 3].map((s) => renderScene(randomSpec(s, { maxObjects: 1, width: 32, height: 32, frames: 8 })));
  const dir = await mkdtemp(join(tmpdir(), 'tessera-classifier-'));
  try {
    await saveClassifier(model, dir, { training: { note: 'test' } });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    assert.equal(config._class_name, 'WorldClassifier');
    assert.equal(config.training.note, 'test');
    const loaded = await loadClassifier(dir);
    const a = classifyClips(model, clips);
    const b = classifyClips(loaded, clips);
    for (let i = 0; i < clips.length; i++) {
      for (let j = 0; j < 8; j++) assert.ok(Math.abs(a[i]!.features[j]! - b[i]!.features[j]!) < 2e-2, 'float16 weights give nearly the same features');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(clipFrechetDistance(model, clips, clips).distance, 0);
  const grey = clips.map((c) => ({ ...c, data: new Uint8Array(c.data.length).fill(128) }));
  assert.ok(clipFrechetDistance(model, clips, grey).distance > 0);
  assert.deepEqual(clipsToInput(clips, model.config).shape, [4, 3, 8, 32, 32]);
});

test('the trained classifier in models/world-classifier reads rendered clips better than chance', { skip: !existsSync('models/world-classifier/config.json') }, async () => {
  const model = await loadClassifier('models/world-classifier');
  const specs = Array.from({ length: 24 }, (_, i) => randomSpec(2_000_000 + i, { maxObjects: 1, width: 64, height: 64, frames: 16 }));
  const predictions = classifyClips(model, specs.map((s) => renderScene(s)));
  const hits = { background: 0, colour: 0 };
  predictions.forEach((p, i) => {
    const truth = labelsOf(specs[i]!, model.config);
    if (p.labels.background === model.config.labels.background[truth.background]) hits.background++;
    if (p.labels.colour === model.config.labels.colour[truth.colour]) hits.colour++;
  });
  assert.ok(hits.background >= 20, `background ${hits.background}/24`);
  assert.ok(hits.colour >= 12, `colour ${hits.colour}/24`);
});
