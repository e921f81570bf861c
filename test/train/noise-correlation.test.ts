/**
 * Training with noise shared across latent frames (PYoCo's mixed noise): the run trains on it, its export
 * records it, and a pipeline loaded from the export samples with it unless a request asks for other noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint.js';
import { loadPipeline, type GenerationRequest } from '../../src/pipelines/index.js';
import { TesseraError } from '../../src/errors.js';
import { saveTinyVae, tinyDitConfig } from './tiny-run.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-noise-'));
const vaeDir = join(work, 'vae');

const config = (runDir: string, noiseCorrelation: number) => parseTrainConfig(tinyDitConfig(runDir, vaeDir, { data: { noiseCorrelation } }), 'c.json');

const request = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: 'a red ball bounces', width: 32, height: 32, frames: 9, fps: 8, steps: 2, guidanceScale: 1, seed: 5, sampler: 'euler', expandPrompt: false, ...over,
});

test('a run with correlated noise trains differently, and its export samples with that noise by default', async () => {
  await saveTinyVae(vaeDir);
  await runTraining(config(join(work, 'plain'), 0));
  await runTraining(config(join(work, 'mixed'), 0.5));
  const plain = (await loadLatestCheckpoint(join(work, 'plain')))!.weights;
  const mixed = (await loadLatestCheckpoint(join(work, 'mixed')))!.weights;
  const name = [...plain.keys()].find((k) => k.startsWith('transformer.'))!;
  assert.notDeepEqual(mixed.get(name)!.data, plain.get(name)!.data, 'the noise did not reach training');

  const scheduler = (run: string) => JSON.parse(readFileSync(join(work, run, 'export', 'scheduler', 'config.json'), 'utf8'));
  assert.equal(scheduler('mixed').noiseCorrelation, 0.5);
  assert.equal(scheduler('plain').noiseCorrelation, undefined);

  const pipe = await loadPipeline(join(work, 'mixed', 'export'));
  const byDefault = await pipe.generate(request());
  assert.deepEqual(byDefault.clip.data, (await pipe.generate(request({ noiseCorrelation: 0.5 }))).clip.data);
  assert.notDeepEqual(byDefault.clip.data, (await pipe.generate(request({ noiseCorrelation: 0 }))).clip.data);
});

test('a bad noise correlation is refused by name, in a run config and in a model folder', async () => {
  assert.throws(() => config(join(work, 'x'), 1), /c\.json\.data\.noiseCorrelation/);
  assert.throws(() => config(join(work, 'x'), -0.2), /c\.json\.data\.noiseCorrelation/);
  const broken = join(work, 'broken');
  cpSync(join(work, 'mixed', 'export'), broken, { recursive: true });
  const file = join(broken, 'scheduler', 'config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), noiseCorrelation: 1.5 }));
  await assert.rejects(loadPipeline(broken), (e: unknown) => e instanceof TesseraError && /noiseCorrelation: expected a number from 0 up to/.test(e.message));
});
