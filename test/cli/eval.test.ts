/**
 * `tessera eval` through the real CLI entry: --save-clips keeps every graded clip as an MP4. `--vae-only`: a model folder is measured at its native size, a bare VAE
 * folder at 128x128 x 17 frames, and generation flags or a folder without a model are refused by name.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savedClipName } from '../../src/cli/commands/eval.js';
import { readVideo } from '../../src/media/index.js';
import { loadVae } from '../../src/models/index.js';
import { readModelDefaults } from '../../src/pipelines/index.js';
import { createRandomModel } from '../../src/train/init.js';
import { tessera } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-cli-eval-'));
const model = join(work, 'model');

before(async () => {
  await createRandomModel(model);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('eval --vae-only measures a model folder\'s VAE at the model\'s size, and a VAE folder at 128x128', () => {
  const whole = tessera('eval', '--vae-only', '--model', model, '--limit', '2', '--json');
  assert.equal(whole.code, 0, whole.stderr);
  const report = JSON.parse(whole.stdout);
  assert.equal(report.prompts, 2);
  assert.equal(report.vae.clips, 2);
  assert.ok(Number.isFinite(report.vae.psnr) && report.vae.psnr > 0, `psnr ${report.vae.psnr}`);
  assert.equal(report.vae.judged.all.samples, 2);
  assert.ok(report.size.width < 128, 'the tiny model\'s native size, not the default');

  const bare = tessera('eval', '--vae-only', '--model', join(model, 'vae'), '--limit', '1');
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, /1 prompts rendered at 128x128, 17 frames \(seed 0\)/);
  assert.match(bare.stdout, /VAE reconstruction of 1 rendered clips: \d+\.\d+ dB PSNR/);
});

test('eval --vae-only refuses generation flags and folders without a model', () => {
  const steps = tessera('eval', '--vae-only', '--model', model, '--steps', '3');
  assert.equal(steps.code, 1);
  assert.match(steps.stderr, /--vae-only: generates nothing, so it takes no --steps/);
  const noise = tessera('eval', '--vae-only', '--model', model, '--noise-correlation', '0.5');
  assert.match(noise.stderr, /takes no --noise-correlation/);
  const contradiction = tessera('eval', '--vae-only', '--no-vae', '--model', model);
  assert.equal(contradiction.code, 1);
  assert.match(contradiction.stderr, /--vae-only: measures the VAE, so it cannot be combined with --no-vae/);
  const empty = tessera('eval', '--vae-only', '--model', work);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no model or VAE at .* \(expected model_index.json or config.json\)/);
  assert.equal(empty.stderr.trim().split('\n').length, 1, 'one line, no stack');
});

test('eval checks --noise-correlation against the range requests use, before loading anything', () => {
  for (const value of ['1', '-0.1', 'some', '']) {
    const bad = tessera('eval', '--model', model, '--limit', '1', '--noise-correlation', value);
    assert.equal(bad.code, 1, `--noise-correlation ${JSON.stringify(value)}`);
    assert.match(bad.stderr, /--noise-correlation: expected a number from 0 up to \(not including\) 1, got "/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line, no stack');
  }
});

test('eval --save-clips writes every graded clip as MP4, named by prompt id and seed', async () => {
  const dir = join(work, 'clips');
  const run = tessera('eval', '--model', model, '--limit', '2', '--seeds', '0,3', '--steps', '1', '--no-distance', '--no-vae', '--no-reference', '--save-clips', dir, '--json', '--quiet');
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const expected = report.results.map((r: { id: string; seed: number }) => savedClipName(r.id, r.seed)).sort();
  assert.equal(expected.length, 4);
  assert.deepEqual(readdirSync(dir).sort(), expected, 'one file per graded clip, no temporary files left');
  const size = await readModelDefaults(model, await loadVae(model));
  for (const name of expected) {
    const clip = await readVideo(join(dir, name));
    assert.deepEqual([clip.width, clip.height, clip.frames], [size.width, size.height, size.frames], name);
  }
  assert.equal(savedClipName('a/b', 2), 'a%2Fb-seed2.mp4', 'an id cannot reach outside the folder');
});

test('eval --save-clips refuses a path it cannot make a folder at, before generating anything', () => {
  const file = join(work, 'a-file');
  writeFileSync(file, 'not a folder');
  const bad = tessera('eval', '--model', model, '--limit', '1', '--save-clips', join(file, 'clips'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--save-clips: cannot make the folder .*a-file\/clips/);
  assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line, no stack');
  const vaeOnly = tessera('eval', '--vae-only', '--model', model, '--save-clips', join(work, 'x'));
  assert.match(vaeOnly.stderr, /--vae-only: generates nothing, so it takes no --save-clips/);
});
