/**
 * The benchmark runner at tiny sizes: the report has every figure of the suites run, as positive numbers, with
 * wall and CPU time; targets are computed from the figures; the CLI prints one JSON object on stdout and its
 * progress on stderr. No timing is asserted: benchmarks are measured, never tested.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  collectBenchmarks, evaluateTargets, formatBenchTable, parseSuites, tinyBenchSettings, type BenchReport,
} from '../../src/bench/index.js';
import { isTesseraError } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/progress.js';

const root = join(import.meta.dirname, '..', '..');

function assertPositive(value: unknown, what: string): void {
  assert.equal(typeof value, 'number', `${what} is not a number: ${JSON.stringify(value)}`);
  assert.ok(Number.isFinite(value) && (value as number) > 0, `${what} is not positive: ${value}`);
}

function assertTiming(t: unknown, what: string): void {
  assert.ok(t !== null && typeof t === 'object', `${what} missing`);
  const { wall, cpu } = t as { wall: unknown; cpu: unknown };
  assertPositive(wall, `${what}.wall`);
  // CPU time of a very short run can round to zero on a coarse clock; it is never negative or missing.
  assert.ok(typeof cpu === 'number' && Number.isFinite(cpu) && cpu >= 0, `${what}.cpu: ${cpu}`);
}

test('every suite at tiny sizes reports positive figures in the documented shape', async () => {
  const events: ProgressEvent[] = [];
  const report = await collectBenchmarks({ settings: tinyBenchSettings(), onProgress: (e) => events.push(e) });
  // Survives a round trip through JSON unchanged: no NaN, no undefined inside.
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);

  const m = report.machine;
  assert.ok(m.cpu.length > 0);
  assertPositive(m.cores, 'machine.cores');
  assertPositive(m.threads, 'machine.threads');
  assert.match(m.kernels.name, /^(native|reference)$/);
  assert.ok(m.kernels.isa.length > 0);
  assert.equal(m.node, process.version);
  assert.ok(!Number.isNaN(Date.parse(m.date)));
  assert.deepEqual(report.settings.suites, ['gemm', 'engine', 'models', 'pipeline']);

  if (m.kernels.name === 'native') {
    for (const [threads, gflops] of Object.entries(report.peak_gflops!)) assertPositive(gflops, `peak_gflops[${threads}]`);
    assert.equal(report.gemm!.length, 2 * Object.keys(report.peak_gflops!).length);
    for (const g of report.gemm!) assertPositive(g.gflops, `gemm ${g.m}x${g.n}x${g.k}`);
  } else {
    assert.match(report.skipped!['gemm']!, /native/);
  }

  assertTiming(report.attention_ms!.fwd, 'attention_ms.fwd');
  assertTiming(report.attention_ms!.fwd_bwd, 'attention_ms.fwd_bwd');
  assertTiming(report.block_forward_ms, 'block_forward_ms');
  assertTiming(report.block_train_ms, 'block_train_ms');
  assert.equal(report.dit_train_step_ms, undefined, 'the tiny settings leave out the DiT step');

  assertTiming(report.vae_encode_decode_ms, 'vae_encode_decode_ms');
  assertTiming(report.dit_forward_ms, 'dit_forward_ms');
  assert.deepEqual(report.model_shapes!.vae.clip, [1, 3, 5, 32, 32]);
  assert.deepEqual(report.model_shapes!.dit.latent, report.model_shapes!.vae.latent);
  assertPositive(report.model_shapes!.dit.parameters, 'dit parameters');

  assert.deepEqual(Object.keys(report.generate_s!), ['32x32']);
  const gen = report.generate_s!['32x32']!;
  assertTiming(gen, 'generate_s[32x32]');
  for (const stage of ['text', 'denoise', 'decode', 'write']) assert.ok(gen.stages_ms[stage]! >= 0, `stage ${stage}`);
  assert.ok(gen.stages_ms['total']! <= gen.wall * 1000 + 1, 'the pipeline stages fit inside the timed run');
  assert.equal(report.generate_model!.source, 'random');
  assert.equal(report.generate_model!.preset, 'tiny');
  assert.equal(report.generate_model!.frames, 5);

  // The tiny sizes are not the targets' sizes, so no model or pipeline target is claimed from them.
  assert.deepEqual(report.settings.custom_sizes, ['models', 'pipeline']);
  assert.ok(report.targets.every((t) => !/VAE|DiT forward|generate/.test(t.name)));
  assert.ok(report.targets.some((t) => t.name === 'transformer block forward'));

  const stages = new Set(events.map((e) => e.stage));
  assert.deepEqual([...stages].sort(), ['bench engine', 'bench gemm', 'bench models', 'bench pipeline'].filter((s) => m.kernels.name === 'native' || s !== 'bench gemm'));
  for (const e of events) assert.ok(e.done <= e.total, `${e.stage} ${e.done}/${e.total}`);

  const table = formatBenchTable(report);
  for (const heading of ['Engine, ms', 'Models, ms', 'Generation, s', 'Targets']) assert.ok(table.includes(heading), heading);
});

function syntheticReport(over: Partial<BenchReport> = {}): Omit<BenchReport, 'targets'> {
  const timing = (wall: number) => ({ wall, cpu: wall * 1.5 });
  return {
    machine: { cpu: 'x', cores: 2, kernels: { name: 'native', isa: 'avx2' }, threads: 2, node: 'v20', platform: 'linux-x64', date: '', load_average: { start: 0, end: 0 } },
    settings: { suites: ['gemm', 'engine', 'models', 'pipeline'], quick: false, custom_sizes: [] },
    peak_gflops: { '1': 50, '2': 100 },
    gemm: [
      { m: 1024, n: 1024, k: 1024, threads: 1, gflops: 49 },
      { m: 1024, n: 1024, k: 1024, threads: 2, gflops: 90 },
      { m: 2048, n: 1536, k: 384, threads: 2, gflops: 80 },
    ],
    block_forward_ms: timing(20),
    dit_train_step_ms: timing(900),
    vae_encode_decode_ms: timing(400),
    dit_forward_ms: timing(81),
    generate_s: { '128x128': { ...timing(7.5), stages_ms: {} }, '64x64': { ...timing(2), stages_ms: {} } },
    ...over,
  };
}

test('targets compare each measured figure with its bound', () => {
  const byName = new Map(evaluateTargets(syntheticReport()).map((t) => [t.name, t]));
  const sgemm = byName.get('sgemm 1024x1024x1024, all threads')!;
  assert.equal(sgemm.measured, 0.9, 'the share of the all-threads peak');
  assert.equal(sgemm.met, true);
  assert.equal(byName.get('sgemm 2048x1536x384 (MLP), all threads')!.met, false); // 80% < 85%
  assert.equal(byName.get('transformer block forward')!.met, true);
  assert.equal(byName.get('DiT training step')!.met, false);
  assert.equal(byName.get('VAE encode + decode, 17x128x128')!.met, true, 'the bound itself meets the target');
  assert.equal(byName.get('DiT forward, 17x128x128 latent')!.met, false);
  const gen = byName.get('generate 2 s clip at 128x128')!;
  assert.deepEqual([gen.measured, gen.target, gen.unit, gen.met], [7.5, 8, 's', true]);
  assert.equal(gen.measured_cpu, 11.25, 'timings carry their CPU time beside the wall time');
  assert.equal(sgemm.measured_cpu, undefined);
  assert.equal(byName.size, 7);

  const table = formatBenchTable({ ...syntheticReport(), targets: [...byName.values()] });
  assert.match(table, /DiT training step\s+<= 700 ms\s+900 ms\s+MISSED\s+1350 ms/);
  assert.match(table, /sgemm 1024x1024x1024, all threads\s+>= 85% of FMA peak\s+90%\s+met/);
});

test('targets of figures not measured, or measured at other sizes, are left out', () => {
  const partial = syntheticReport({ gemm: undefined, peak_gflops: undefined, dit_train_step_ms: undefined });
  const names = evaluateTargets(partial).map((t) => t.name);
  assert.ok(!names.some((n) => n.startsWith('sgemm') || n === 'DiT training step'));
  const custom = syntheticReport({ settings: { suites: ['models', 'pipeline'], quick: false, custom_sizes: ['pipeline'] } });
  const customNames = evaluateTargets(custom).map((t) => t.name);
  assert.ok(customNames.includes('DiT forward, 17x128x128 latent'));
  assert.ok(!customNames.includes('generate 2 s clip at 128x128'));
});

test('--only names are checked', () => {
  assert.deepEqual(parseSuites('pipeline, gemm'), ['gemm', 'pipeline']);
  for (const bad of ['', 'gemm,vae', 'all']) {
    assert.throws(() => parseSuites(bad), (e) => isTesseraError(e) && e.code === 'invalid_argument' && /--only/.test(e.message));
  }
});

test('the CLI prints one JSON object on stdout and its progress on stderr', () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['TESSERA_QUIET']; // the progress lines are part of what is checked
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'bench', '--json', '--tiny', '--only', 'models,pipeline'], {
    encoding: 'utf8', env, cwd: root, timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BenchReport;
  assert.deepEqual(report.settings.suites, ['models', 'pipeline']);
  assert.equal(report.gemm, undefined);
  assert.equal(report.attention_ms, undefined);
  assertTiming(report.dit_forward_ms, 'dit_forward_ms');
  assertTiming(report.generate_s!['32x32'], 'generate_s');
  assert.match(r.stderr, /bench models/);
  assert.match(r.stderr, /bench pipeline/);

  const bad = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'bench', '--only', 'vae'], { encoding: 'utf8', env, cwd: root, timeout: 60_000 });
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /--only/);
});
