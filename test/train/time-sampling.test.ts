/**
 * Training times with a uniform fraction (data.uniformTimeFraction), offset noise (data.noiseOffset) and the flicker
 * loss (data.temporalDifferenceWeight): each option reaches the run, and at 0 leaves a run bit-identical to one that never heard of it, so earlier runs resume and
 * repeat exactly.
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

/**
 * Trains the tiny run three times: without the option, with it at 0 and with it at `value`. Asserts that 0 leaves every
 * weight bit-identical to the plain run and returns how far `value` moved the furthest weight.
 */
async function optionEffect(option: string, value: number): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), `tessera-${option}-`));
  const vaeDir = join(work, 'vae');
  await saveTinyVae(vaeDir);
  const train = async (name: string, data: Record<string, number>) => {
    await runTraining(parseTrainConfig(tinyDitConfig(join(work, name), vaeDir, { data }), 'c.json'));
    return (await loadLatestCheckpoint(join(work, name)))!.weights;
  };
  const plain = await train('plain', {});
  const zero = await train('zero', { [option]: 0 });
  const on = await train('on', { [option]: value });
  let changed = 0;
  for (const [name, w] of plain) {
    assert.deepEqual(zero.get(name)!.data, w.data, `${name}: ${option} 0 changed the run`);
    const o = on.get(name)!.data as Float32Array;
    changed = Math.max(changed, (w.data as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - o[i]!)), 0));
  }
  return changed;
}

test('a run with uniformly drawn times trains differently; a fraction of 0 is the plain run exactly', async () => {
  const changed = await optionEffect('uniformTimeFraction', 0.5);
  assert.ok(changed > 1e-5, `uniform times changed the weights by ${changed}`);
});

test('a run with offset noise trains differently; an offset of 0 is the plain run exactly', async () => {
  const changed = await optionEffect('noiseOffset', 0.1);
  assert.ok(changed > 1e-5, `offset noise changed the weights by ${changed}`);
});

test('a run with the flicker loss trains differently; a weight of 0 is the plain run exactly', async () => {
  const changed = await optionEffect('temporalDifferenceWeight', 4);
  assert.ok(changed > 1e-5, `the flicker loss changed the weights by ${changed}`);
});
