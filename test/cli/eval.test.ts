/**
 * `tessera eval --vae-only` through the real CLI entry: a model folder is measured at its native size, a bare VAE
 * folder at 128x128 x 17 frames, and generation flags or a folder without a model are refused by name.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
