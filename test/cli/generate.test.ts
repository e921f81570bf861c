/**
 * The generation commands end to end, through the real CLI entry (run with tsx so no build is needed): every mode
 * runs on a tiny model, outputs land by extension, the seed is printed, bad input exits non-zero with one line,
 * and the CLI and the library API give bit-identical frames for the same inputs and seed.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandomModel } from '../../src/train/init.js';
import { loadPipeline } from '../../src/pipelines/index.js';
import { readVideo, writeVideo } from '../../src/media/index.js';
import { tessera } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
const model = join(work, 'model');

before(async () => {
  await createRandomModel(model);
});

test('generate writes an MP4, a sidecar with the request, and prints the seed', () => {
  const out = join(work, 'a.mp4');
  const r = tessera('generate', 'a red ball bounces', '--model', model, '--out', out, '--seed', '11', '--steps', '3');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /seed 11/);
  assert.ok(existsSync(out));
  const record = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
  assert.equal(record.request.seed, 11);
  assert.equal(record.request.prompt, 'a red ball bounces');
});

test('CLI and library API give bit-identical frames for the same request', async () => {
  const out = join(work, 'same.png');
  const r = tessera('image', 'a blue star spins', '--model', model, '--out', out, '--seed', '5', '--steps', '3', '--guidance', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.seed, 5);
  const pipe = await loadPipeline(model);
  const res = await pipe.generate({
    prompt: 'a blue star spins', width: 32, height: 32, frames: 1, fps: 8, steps: 3, guidanceScale: 2, seed: 5, sampler: 'euler', expandPrompt: true,
  });
  const viaCli = await readVideo(out);
  assert.deepEqual(viaCli.data, res.clip.data);
});

test('every mode runs from the CLI', async () => {
  const video = join(work, 'in.mp4');
  const gen = tessera('generate', 'a green square moves right', '--model', model, '--out', video, '--seed', '1', '--steps', '2');
  assert.equal(gen.code, 0, gen.stderr);
  const png = join(work, 'in.png');
  assert.equal(tessera('image', 'a ring', '--model', model, '--out', png, '--steps', '2').code, 0);
  const runs: string[][] = [
    ['animate', 'the ring rises', '--image', png],
    ['extend', 'it keeps moving', '--video', video, '--frames', '8'],
    ['extend', 'it came from the left', '--video', video, '--frames', '8', '--backward'],
    ['loop', 'a spinning star', '--image', png],
    ['loop', 'a spinning star'],
    ['connect', 'a transition', '--from', video, '--to', video],
    ['edit', 'a blue square instead', '--video', video, '--strength', '0.5'],
  ];
  for (const [i, args] of runs.entries()) {
    const out = join(work, `mode-${i}.gif`);
    const r = tessera(...args, '--model', model, '--out', out, '--steps', '2');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    const clip = await readVideo(out);
    assert.ok(clip.frames > 1, `${args[0]} wrote ${clip.frames} frames`);
  }
  // extension returns the input plus the new frames
  const input = await readVideo(video);
  const extended = await readVideo(join(work, 'mode-1.gif'));
  assert.equal(extended.frames, input.frames + 8);
});

test('remix replays the stored parameters with a new prompt', () => {
  const first = join(work, 'r1.mp4');
  assert.equal(tessera('generate', 'a red ball', '--model', model, '--out', first, '--seed', '77', '--steps', '2', '--noise-correlation', '0.5').code, 0);
  const second = join(work, 'r2.mp4');
  const r = tessera('generate', 'a blue ball', '--model', model, '--out', second, '--remix', first);
  assert.equal(r.code, 0, r.stderr);
  const rec = JSON.parse(readFileSync(`${second}.json`, 'utf8'));
  assert.equal(rec.request.seed, 77);
  assert.equal(rec.request.steps, 2);
  assert.equal(rec.request.noiseCorrelation, 0.5);
  assert.equal(rec.request.prompt, 'a blue ball');
});

test('bad input exits non-zero with a one-line message naming the problem', async () => {
  await writeVideo(join(work, 'dummy.png'), { frames: 1, width: 8, height: 8, fps: 8, data: new Uint8Array(8 * 8 * 3) });
  const cases: [string[], RegExp][] = [
    [['generate', 'x', '--model', model, '--size', 'big'], /--size/],
    [['generate', 'x', '--model', model, '--frames', '0'], /frames/],
    [['generate', 'x', '--model', model, '--frames', '100000'], /frames/],
    [['generate', 'x', '--model', model, '--steps', 'many'], /--steps/],
    [['generate', 'x', '--model', model, '--out', join(work, 'clip.avi')], /--out/],
    [['generate', 'x', '--model', join(work, 'nope')], /no model/],
    [['animate', 'x', '--model', model, '--image', join(work, 'missing.png')], /missing\.png/],
    [['edit', 'x', '--model', model, '--video', join(work, 'a.mp4'), '--strength', '3'], /--strength/],
    [['edit', 'x', '--model', model, '--video', join(work, 'dummy.png')], /dummy\.png/],
    [['generate', 'x', '--model', model, '--sampler', 'ddim'], /sampler/],
    [['generate', 'x', '--model', model, '--sampler', 'euler-ancestral', '--eta', 'lots'], /--eta: expected a number/],
    [['generate', 'x', '--model', model, '--sampler', 'euler-ancestral', '--eta', '1.5'], /eta: expected a number from 0 to 1/],
    [['generate', 'x', '--model', model, '--noise-correlation', 'some'], /--noise-correlation: expected a number/],
    [['generate', 'x', '--model', model, '--noise-correlation', '1'], /noise_correlation: expected a number from 0 up to/],
  ];
  for (const [args, re] of cases) {
    const r = tessera(...args);
    assert.notEqual(r.code, 0, args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')} printed: ${r.stderr}`);
    assert.match(lines[0]!, /^tessera: /);
    assert.match(lines[0]!, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
