/**
 * Training survives interruption: a run stopped (or killed with SIGKILL) and resumed ends with bit-identical
 * weights to one never interrupted; bad losses are skipped or rolled back and never reach the weights.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, Tensor, mseLoss } from '../../src/engine/index.js';
import { Linear, Module } from '../../src/nn/index.js';
import { WORLD_PRESET, resolvePreset } from '../../src/train/presets.js';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { runTrainingLoop, type TrainTask } from '../../src/train/loop.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint.js';
import { TesseraError } from '../../src/errors.js';
import { saveTinyVae, tinyDitConfig } from './tiny-run.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'tessera-train-'));
const vaeDir = join(work, 'vae');

/** The shared tiny run with video and image buckets, eight steps and a checkpoint every two. */
function ditConfig(runDir: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return tinyDitConfig(runDir, vaeDir, {
    data: { buckets: [{ width: 32, height: 32, frames: 5, batch: 1, weight: 1 }, { width: 32, height: 32, frames: 1, batch: 2, weight: 1 }] },
    optim: { warmupSteps: 2, totalSteps: 8 }, checkpointEvery: 2, ...over,
  });
}

async function finalWeights(runDir: string): Promise<Map<string, Float32Array>> {
  const ckpt = await loadLatestCheckpoint(runDir);
  assert.ok(ckpt, `no checkpoint in ${runDir}`);
  return new Map([...ckpt.weights].map(([k, v]) => [k, v.data]));
}

function assertSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, `weights differ at ${k}`);
}

before(async () => {
  await saveTinyVae(vaeDir);
});

test('a stopped and resumed run ends bit-identical to an uninterrupted one', async () => {
  // the uninterrupted run also writes sample grids mid-run: sampling must not disturb training
  const straight = parseTrainConfig(ditConfig(join(work, 'straight'), { sampleEvery: 4 }));
  const r1 = await runTraining(straight);
  assert.equal(r1.step, 8);
  const staged = parseTrainConfig(ditConfig(join(work, 'staged')));
  const first = await runTraining(staged, { stopAtStep: 3 });
  assert.equal(first.step, 3);
  const second = await runTraining(staged);
  assert.equal(second.step, 8);
  assert.equal(second.samplesSeen, r1.samplesSeen);
  assertSameWeights(await finalWeights(join(work, 'straight')), await finalWeights(join(work, 'staged')));
  // the run leaves a loadable model folder with its EMA weights
  assert.ok(existsSync(join(work, 'straight', 'export', 'model_index.json')));
  // telemetry: the loss curve and the sample grids (PNG frames over time, GIF playing)
  assert.ok(existsSync(join(work, 'straight', 'loss.png')));
  assert.ok(existsSync(join(work, 'straight', 'samples', 'step-000004.png')));
  assert.ok(existsSync(join(work, 'straight', 'samples', 'step-000004.gif')));
  // and the metrics log has one record per step
  const lines = readFileSync(join(work, 'straight', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.filter((l) => typeof l.loss === 'number').length >= 8);
});

test('a run killed with SIGKILL mid-training resumes to the same weights', async () => {
  const runDir = join(work, 'killed');
  const configPath = join(work, 'killed.json');
  writeFileSync(configPath, JSON.stringify(ditConfig(runDir)));
  const cli = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, stdio: 'ignore', env: { ...process.env, TESSERA_QUIET: '1' } });
  const child = cli(['train', 'dit', '--config', configPath, '--quiet']);
  // kill as soon as a checkpoint exists (the run is mid-way, possibly inside the next save)
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (existsSync(join(runDir, 'latest.json'))) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      } else if (Date.now() - started > 120_000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error('no checkpoint within 120 s'));
      }
    }, 20);
  });
  await new Promise((r) => child.once('exit', r));
  const resumed = cli(['train', 'dit', '--config', configPath, '--quiet']);
  const code = await new Promise((r) => resumed.once('exit', r));
  assert.equal(code, 0);
  assertSameWeights(await finalWeights(join(work, 'straight')), await finalWeights(runDir));
});

/** A one-layer regression whose loss is NaN on chosen calls (or on every call from a step on). */
class ToyTask implements TrainTask {
  readonly name = 'toy';
  readonly layer = new Linear(4, 1, { rng: new Rng(1) });
  readonly modules: Record<string, Module> = { layer: this.layer };
  calls = 0;
  constructor(private readonly badCalls: Set<number>, private readonly badFromStep = Infinity) {}
  step(rng: Rng, step: number) {
    const call = this.calls++;
    const x = Tensor.randn([8, 4], rng);
    const y = this.layer.forward(x);
    const target = Tensor.zeros([8, 1]);
    const bad = this.badCalls.has(call) || step >= this.badFromStep;
    return { loss: bad ? y.mul(Number.NaN).sum() : mseLoss(y, target), samples: 8 };
  }
  dataCursor() { return 0; }
  seekData() {}
}

const toyLoop = (runDir: string, totalSteps: number) => ({
  runDir, seed: 1, checkpointEvery: 2, logEvery: 1, sampleEvery: 0,
  optim: { lr: 0.01, warmupSteps: 1, totalSteps, weightDecay: 0, gradClip: 1, emaDecay: 0.9 },
});

test('a NaN loss is skipped and never reaches the weights', async () => {
  const task = new ToyTask(new Set([3]));
  const res = await runTrainingLoop(task, toyLoop(join(work, 'nan-skip'), 6));
  assert.equal(res.skippedSteps, 1);
  for (const p of task.layer.parameters()) for (const v of p.data) assert.ok(Number.isFinite(v));
});

test('repeated NaN losses roll back to the last checkpoint, then training goes on', async () => {
  const task = new ToyTask(new Set([4, 5, 6, 7, 8]));
  const res = await runTrainingLoop(task, toyLoop(join(work, 'nan-rollback'), 12));
  assert.equal(res.step, 12);
  assert.equal(res.skippedSteps, 5);
  assert.equal(task.calls, 12 + 5); // steps 4..8 were redone from the step-4 checkpoint
  for (const p of task.layer.parameters()) for (const v of p.data) assert.ok(Number.isFinite(v));
});

test('a run that keeps diverging stops with a clear error and keeps its last good checkpoint', async () => {
  const runDir = join(work, 'nan-diverge');
  const task = new ToyTask(new Set(), 4);
  await assert.rejects(runTrainingLoop(task, toyLoop(runDir, 12)), (e: unknown) => e instanceof TesseraError && /diverged/.test(e.message));
  const last = await loadLatestCheckpoint(runDir);
  assert.equal(last?.step, 4);
  for (const [, w] of last!.weights) for (const v of w.data) assert.ok(Number.isFinite(v));
});

test('an abort from outside the loop (Ctrl-C, SIGTERM) stops the run within a step, not at the next checkpoint', async () => {
  const runDir = join(work, 'aborted');
  const controller = new AbortController();
  // once the loop is running, abort from a macrotask, as a signal handler does
  const onProgress = (e: { done: number }) => { if (e.done === 1) setImmediate(() => controller.abort()); };
  const result = await runTrainingLoop(new ToyTask(new Set()), { ...toyLoop(runDir, 400), checkpointEvery: 1000, logEvery: 1000 }, { signal: controller.signal, onProgress });
  assert.equal(result.stoppedBy, 'signal');
  assert.ok(result.step <= 2, `stopped at step ${result.step}`);
  assert.equal((await loadLatestCheckpoint(runDir))?.step, result.step, 'and left a checkpoint of where it stopped');
});

test('config errors name the field', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...ditConfig('x'), task: 'gan' }, /task: expected "vae" or "dit"/],
    [{ ...ditConfig('x'), optim: { lr: 0.1 } }, /optim\.totalSteps/],
    [{ ...ditConfig('x'), data: { buckets: [] } }, /data\.buckets/],
    [{ ...ditConfig('x'), data: { buckets: [{ width: 33, height: 32, frames: 1 }] } }, /buckets\[0\]/],
    [{ ...ditConfig('x'), vaeFrom: null }, /vaeFrom/],
    [{ ...ditConfig('x'), model: { unet: {} } }, /model\.unet: expected one of vae, transformer, textEncoder/],
    [{ ...ditConfig('x'), model: { vae: 16 } }, /model\.vae: expected an object/],
    [{ ...ditConfig('x'), data: { ...ditConfig('x').data as object, mix: { objectCounts: [1, 1, 1, 1, 1] } } }, /data\.mix\.objectCounts: expected a list of 1 to 4/],
    [{ ...ditConfig('x'), data: { ...ditConfig('x').data as object, mix: { sizes: { huge: 1 } } } }, /data\.mix\.sizes: expected one of small, medium, large/],
    [{ ...ditConfig('x'), data: { ...ditConfig('x').data as object, mix: { clearWeather: 2 } } }, /data\.mix\.clearWeather: expected a number in \[0, 1\]/],
    [{ ...ditConfig('x'), data: { ...ditConfig('x').data as object, mix: { counts: [1] } } }, /data\.mix\.counts: unknown field/],
  ];
  for (const [json, re] of cases) {
    assert.throws(() => parseTrainConfig(json, 'cfg'), (e: unknown) => e instanceof TesseraError && re.test(e.message));
  }
  const mix = { objectCounts: [3, 2, 2], sizes: { small: 1, medium: 4 }, clearWeather: 0.8 };
  assert.deepEqual(parseTrainConfig({ ...ditConfig('x'), data: { ...ditConfig('x').data as object, mix } }, 'cfg').data.mix, mix);
});

test('architecture overrides replace preset fields, and the transformer follows the VAE latent width', () => {
  const p = resolvePreset('world', { vae: { latentChannels: 16, channels: [48, 64, 96] }, textEncoder: { layers: 3 } });
  assert.equal(p.vae.latentChannels, 16);
  assert.deepEqual(p.vae.channels, [48, 64, 96]);
  assert.equal(p.transformer.latentChannels, 16);
  assert.equal(p.transformer.hiddenSize, WORLD_PRESET.transformer.hiddenSize);
  assert.equal(p.textEncoder.layers, 3);
  assert.equal(WORLD_PRESET.transformer.latentChannels, 4, 'the shared preset is not modified');
});

export type { TrainConfig };
