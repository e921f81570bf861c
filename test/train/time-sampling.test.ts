/**
 * Training times with a uniform fraction (data.uniformTimeFraction): the option reaches the run, and a fraction of
 * 0 leaves a run bit-identical to one that never heard of it, so earlier runs resume and repeat exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint.js';
import { saveTinyVae, tinyDitConfig } from './tiny-run.js';

test('a run with uniformly drawn times trains differently; a fraction of 0 is the plain run exactly', async () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-times-'));
  const vaeDir = join(work, 'vae');
  await saveTinyVae(vaeDir);
  const train = async (name: string, data: Record<string, number>) => {
    await runTraining(parseTrainConfig(tinyDitConfig(join(work, name), vaeDir, { data }), 'c.json'));
    return (await loadLatestCheckpoint(join(work, name)))!.weights;
  };
  const plain = await train('plain', {});
  const zero = await train('zero', { uniformTimeFraction: 0 });
  const half = await train('half', { uniformTimeFraction: 0.5 });
  let changed = 0;
  for (const [name, w] of plain) {
    assert.deepEqual(zero.get(name)!.data, w.data, `${name}: fraction 0 changed the run`);
    const h = half.get(name)!.data as Float32Array;
    changed = Math.max(changed, (w.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - h[i]!)), 0));
  }
  assert.ok(changed > 1e-5, `uniform times changed the weights by ${changed}`);
});
