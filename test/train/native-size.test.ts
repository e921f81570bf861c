/**
 * `nativeSize` in a DiT run config: the export calls that size native and generates at it by default, and a bad
 * size is refused by name before any work starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_PRESET } from '../../src/train/presets.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { loadPipeline } from '../../src/pipelines/index.js';
import { saveTinyVae, tinyDitConfig } from './tiny-run.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-native-'));
const vaeDir = join(work, 'vae');

const config = (runDir: string, extra: object) => parseTrainConfig(tinyDitConfig(runDir, vaeDir, {
  data: { buckets: [{ width: 48, height: 32, frames: 9, batch: 1, weight: 1 }] }, optim: { totalSteps: 2 }, checkpointEvery: 2, ...extra,
}), 'c.json');

test('a run with nativeSize exports that size as native and default', async (t) => {
  t.after(() => rmSync(work, { recursive: true, force: true }));
  await saveTinyVae(vaeDir);
  await runTraining(config(join(work, 'wide'), { nativeSize: { width: 48, height: 32 } }));
  await runTraining(config(join(work, 'preset'), {}));

  const index = (run: string) => JSON.parse(readFileSync(join(work, run, 'export', 'model_index.json'), 'utf8'))._tessera;
  assert.deepEqual(index('wide').nativeSizes, [{ width: 48, height: 32 }]);
  assert.equal(index('wide').defaults.width, 48);
  assert.equal(index('wide').defaults.height, 32);
  assert.equal(index('wide').defaults.frames, TINY_PRESET.capabilities.defaults.frames, 'the rest of the defaults are the preset\'s');
  assert.deepEqual(index('preset').nativeSizes, TINY_PRESET.capabilities.nativeSizes);

  const recorded = JSON.parse(readFileSync(join(work, 'wide', 'train_config.json'), 'utf8'));
  assert.deepEqual(recorded.nativeSize, { width: 48, height: 32 }, 'the run folder records the config it ran with');
  assert.deepEqual(recorded.data.buckets, [{ width: 48, height: 32, frames: 9, batch: 1, weight: 1 }]);

  const pipe = await loadPipeline(join(work, 'wide', 'export'));
  assert.deepEqual(pipe.capabilities.defaults.width, 48);
  assert.deepEqual(pipe.capabilities.defaults.height, 32);
});

test('a bad nativeSize is refused by name', () => {
  assert.throws(() => config(join(work, 'x'), { nativeSize: { width: 40, height: 32 } }), /c\.json\.nativeSize\.width: expected a multiple of 16, got 40/);
  assert.throws(() => config(join(work, 'x'), { nativeSize: { width: 48 } }), /c\.json\.nativeSize\.height/);
  assert.throws(() => config(join(work, 'x'), { nativeSize: [64, 64] }), /c\.json\.nativeSize: expected \{"width": w, "height": h\}/);
  assert.throws(() => parseTrainConfig({
    task: 'vae', runDir: join(work, 'v'), data: { source: 'world', buckets: [{ width: 32, height: 32, frames: 9 }] },
    optim: { lr: 1e-3, totalSteps: 1 }, nativeSize: { width: 64, height: 64 },
  }, 'v.json'), /v\.json\.nativeSize: only a DiT run/);
});
