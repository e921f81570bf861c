import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../../src/train/run.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint.js';
import { objectFootprints, renderScene, validateSpec } from '../../src/world/index.js';
import { objectLossWeight } from '../../src/train/tasks.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { saveTinyVae, tinyDitConfig } from './tiny-run.js';

// one sprite and one shape moving across a plain background: every pixel unlike the corner's belongs to an object
/** Whether pixel o (a byte offset) differs from the background, which is the colour of its frame's first pixel. */
function isObject(data: Uint8Array, frameOffset: number, o: number): boolean {
  return [0, 1, 2].some((c) => Math.abs(data[o + c]! - data[frameOffset + c]!) > 2);
}

const spec = validateSpec({
  width: 64, height: 48, frames: 9, background: { kind: 'solid', colour: 'white' },
  objects: [
    { kind: 'elephant', size: 'large', position: { x: 0.3, y: 0.5 }, motion: { type: 'move', direction: 'right', speed: 'fast' } },
    { kind: 'star', colour: 'red', size: 'small', position: { x: 0.8, y: 0.3 }, motion: { type: 'spin' } },
  ],
});

test('object footprints hold every pixel the renderer draws for an object', () => {
  const clip = renderScene(spec);
  const discs = objectFootprints(spec);
  assert.equal(discs.length, spec.frames);
  let drawn = 0;
  for (let f = 0; f < spec.frames; f++) {
    for (let y = 0; y < spec.height; y++) {
      for (let x = 0; x < spec.width; x++) {
        const o = ((f * spec.height + y) * spec.width + x) * 3;
        if (!isObject(clip.data, f * spec.height * spec.width * 3, o)) continue;
        drawn++;
        const inside = discs[f]!.some((d) => (x + 0.5 - d.x) ** 2 + (y + 0.5 - d.y) ** 2 <= d.radius ** 2);
        assert.ok(inside, `frame ${f} pixel (${x}, ${y}) drawn outside every footprint`);
      }
    }
  }
  assert.ok(drawn > 100, `${drawn} object pixels`);
});

test('the object loss weight boosts the latent cells objects touch, grouped as the causal VAE groups frames', () => {
  const discs = objectFootprints(spec); // 9 frames: latent frames {0}, {1..4}, {5..8} at temporal factor 4
  const shape = [1, 2, 3, 12, 16]; // 4x spatial factor
  const w = objectLossWeight([discs], shape, { spatial: 4, temporal: 4 }, 3);
  const at = (c: number, t: number, i: number, j: number) => w.data[((c * 3 + t) * 12 + i) * 16 + j]!;
  const clip = renderScene(spec);
  for (let t = 0; t < 3; t++) {
    const frames = t === 0 ? [0] : [4 * t - 3, 4 * t - 2, 4 * t - 1, 4 * t];
    let boosted = 0;
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 16; j++) {
        assert.equal(at(0, t, i, j), at(1, t, i, j), 'every channel alike');
        assert.ok(at(0, t, i, j) === 1 || at(0, t, i, j) === 4);
        if (at(0, t, i, j) === 4) boosted++;
        // a cell with an object pixel in any of its frames is boosted
        let hasObject = false;
        for (const f of frames) {
          for (let y = 4 * i; y < 4 * i + 4 && !hasObject; y++) {
            for (let x = 4 * j; x < 4 * j + 4; x++) {
              const o = ((f * 48 + y) * 64 + x) * 3;
              if (isObject(clip.data, f * 48 * 64 * 3, o)) { hasObject = true; break; }
            }
          }
        }
        if (hasObject) assert.equal(at(0, t, i, j), 4, `latent frame ${t} cell (${i}, ${j})`);
      }
    }
    assert.ok(boosted > 0 && boosted < 0.6 * 12 * 16, `latent frame ${t}: ${boosted} of 192 cells boosted`);
  }
  assert.throws(() => objectLossWeight([], shape, { spatial: 4, temporal: 4 }, 3), /footprints: expected one list per sample/);
});

test('a run config refuses an object weight for a folder source, which has no objects to find', () => {
  const base = { task: 'dit', runDir: 'runs/x', vaeFrom: 'models/vae', optim: { totalSteps: 10, lr: 1e-4 }, data: { source: 'folder', folder: 'clips', buckets: [{ width: 32, height: 32, frames: 1, batch: 1, weight: 1 }], objectWeight: 2 } };
  assert.throws(() => parseTrainConfig(base, 'c.json'), /c\.json\.data\.objectWeight: expected 0 for a folder source/);
  assert.equal(parseTrainConfig({ ...base, data: { ...base.data, source: 'world', folder: undefined } }, 'c.json').data.objectWeight, 2);
});

test('per-sample boosts weigh each sample on its own; a zero boost leaves a sample unweighted', () => {
  const discs = objectFootprints(spec);
  const shape = [2, 2, 3, 12, 16];
  const both = objectLossWeight([discs, discs], shape, { spatial: 4, temporal: 4 }, [3, 0]);
  const one = objectLossWeight([discs], [1, 2, 3, 12, 16], { spatial: 4, temporal: 4 }, 3);
  const half = both.data.length / 2;
  assert.deepEqual(both.data.subarray(0, half), one.data, 'the first sample as with one boost for all');
  assert.ok(both.data.subarray(half).every((v) => v === 1), 'the second sample unweighted');
  assert.ok(one.data.some((v) => v === 4));
  assert.throws(() => objectLossWeight([discs, discs], shape, { spatial: 4, temporal: 4 }, [3]), /boost: expected one boost per sample \(2\), got 1/);
});

test('a run config reads the flow time below which objects are weighted, 1 when absent', () => {
  const data = { source: 'world', buckets: [{ width: 32, height: 32, frames: 1, batch: 1, weight: 1 }], objectWeight: 3 };
  const base = { task: 'dit', runDir: 'runs/x', vaeFrom: 'models/vae', optim: { totalSteps: 10, lr: 1e-4 }, data };
  assert.equal(parseTrainConfig(base, 'c.json').data.objectWeightMaxTime, 1);
  assert.equal(parseTrainConfig({ ...base, data: { ...data, objectWeightMaxTime: 0.6 } }, 'c.json').data.objectWeightMaxTime, 0.6);
  assert.throws(() => parseTrainConfig({ ...base, data: { ...data, objectWeightMaxTime: 1.5 } }, 'c.json'), /c\.json\.data\.objectWeightMaxTime/);
});

test('a run config reads the fraction of uniformly drawn training times, 0 when absent', () => {
  const data = { source: 'world', buckets: [{ width: 32, height: 32, frames: 1, batch: 1, weight: 1 }] };
  const base = { task: 'dit', runDir: 'runs/x', vaeFrom: 'models/vae', optim: { totalSteps: 10, lr: 1e-4 }, data };
  assert.equal(parseTrainConfig(base, 'c.json').data.uniformTimeFraction, 0);
  assert.equal(parseTrainConfig({ ...base, data: { ...data, uniformTimeFraction: 0.3 } }, 'c.json').data.uniformTimeFraction, 0.3);
  assert.throws(() => parseTrainConfig({ ...base, data: { ...data, uniformTimeFraction: -0.1 } }, 'c.json'), /c\.json\.data\.uniformTimeFraction/);
});

test('a run weighs objects only on samples at or below objectWeightMaxTime', async () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-objects-'));
  const vaeDir = join(work, 'vae');
  await saveTinyVae(vaeDir);
  const train = async (name: string, objects: Record<string, number>) => {
    await runTraining(parseTrainConfig(tinyDitConfig(join(work, name), vaeDir, {
      data: { buckets: [{ width: 32, height: 32, frames: 9, batch: 2, weight: 1 }], ...objects },
    }), 'c.json'));
    return (await loadLatestCheckpoint(join(work, name)))!.weights;
  };
  const plain = await train('plain', {});
  const everywhere = await train('everywhere', { objectWeight: 3 });
  const never = await train('never', { objectWeight: 3, objectWeightMaxTime: 0 }); // flow times are above 0
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  let weighted = 0, cut = 0;
  for (const [name, w] of plain) {
    if (!name.startsWith('transformer.')) continue;
    weighted = Math.max(weighted, maxDiff(everywhere.get(name)!.data as Float32Array, w.data as Float32Array));
    cut = Math.max(cut, maxDiff(never.get(name)!.data as Float32Array, w.data as Float32Array));
  }
  assert.ok(weighted > 1e-4, `object weighting changed the weights by ${weighted}`);
  // the cut run computes the same loss through a weight of ones: equal up to rounding
  assert.ok(cut < weighted / 100, `a cut below every flow time should leave the run as without weighting: ${cut} against ${weighted}`);
});
