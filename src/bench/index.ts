/**
 * `tessera bench`: four suites of figures and the targets they are held to.
 *
 *   gemm      FMA peak and sgemm throughput of the native kernels (gemm.ts)
 *   engine    attention, one transformer block, one DiT training step, built on engine ops (engine.ts)
 *   models    the default VAE (encode + decode of a 17-frame 128x128 clip) and DiT forward (models.ts)
 *   pipeline  end-to-end generation of a 2-second clip at every native size (pipeline.ts)
 *
 * `collectBenchmarks` returns one report object; the CLI prints it as JSON or as a table (table.ts). Timings are
 * medians after warm-up, with the process's CPU time beside wall time because the machine is often shared.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { getKernels } from '../engine/index.js';
import { invalidArgument, isTesseraError } from '../errors.js';
import type { ProgressCallback } from '../progress.js';
import { benchEngine, type EngineBenchOptions, type Timing } from './engine.js';
import { benchGemm, type GemmBenchEntry, type GemmBenchOptions } from './gemm.js';
import { benchModels, type ModelBenchOptions, type ModelBenchResult } from './models.js';
import { benchPipeline, type PipelineBenchOptions, type PipelineBenchResult } from './pipeline.js';
import { roundTiming } from './timing.js';

export { formatBenchTable } from './table.js';

export const BENCH_SUITES = ['gemm', 'engine', 'models', 'pipeline'] as const;
export type BenchSuite = (typeof BENCH_SUITES)[number];

/** Sizes and repetitions per suite; the defaults are the real benchmark, `tinyBenchSettings()` a seconds-long one. */
export interface BenchSettings {
  gemm?: Omit<GemmBenchOptions, 'onProgress'>;
  engine?: EngineBenchOptions;
  models?: Omit<ModelBenchOptions, 'onProgress'>;
  pipeline?: Omit<PipelineBenchOptions, 'onProgress'>;
}

export interface CollectOptions {
  /** Suites to run (default all). */
  only?: readonly BenchSuite[];
  /** Fewer repetitions: a quicker, noisier run. */
  quick?: boolean;
  /** Overrides of the sizes and repetitions (tests use tiny ones). */
  settings?: BenchSettings;
  onProgress?: ProgressCallback;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  kernels: { name: string; isa: string };
  threads: number;
  node: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run started and ended: a busy machine inflates wall times. */
  load_average: { start: number; end: number };
}

export interface BenchTarget {
  name: string;
  /** The bound, in `unit`; `comparison` says which side of it is good. */
  target: number;
  comparison: '<=' | '>=';
  unit: string;
  measured: number;
  /** For a timing, the CPU time of the same runs (all threads): on a busy machine it shows what wall time hides. */
  measured_cpu?: number;
  met: boolean;
}

export interface BenchReport {
  machine: MachineInfo;
  /** Suites run, and those run at sizes other than the defaults (their targets are not evaluated). */
  settings: { suites: BenchSuite[]; quick: boolean; custom_sizes: BenchSuite[] };
  peak_gflops?: Record<string, number>;
  gemm?: GemmBenchEntry[];
  attention_ms?: { fwd: Timing; fwd_bwd: Timing };
  block_forward_ms?: Timing;
  block_train_ms?: Timing;
  dit_train_step_ms?: Timing;
  vae_encode_decode_ms?: Timing;
  dit_forward_ms?: Timing;
  model_shapes?: ModelBenchResult['model_shapes'];
  generate_s?: PipelineBenchResult['generate_s'];
  generate_model?: PipelineBenchResult['generate_model'];
  /** Suites that could not run here, with the reason (e.g. the native addon is not built). */
  skipped?: Record<string, string>;
  targets: BenchTarget[];
}

/** "gemm,models" -> ['gemm', 'models'], rejecting unknown names. */
export function parseSuites(value: string): BenchSuite[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known = new Set<string>(BENCH_SUITES);
  const unknown = names.filter((n) => !known.has(n));
  if (names.length === 0 || unknown.length > 0) {
    throw invalidArgument('--only', `expected a comma-separated subset of ${BENCH_SUITES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return BENCH_SUITES.filter((s) => names.includes(s));
}

/** Settings that run every suite in a few seconds: for tests of the runner, never for figures. */
export function tinyBenchSettings(): BenchSettings {
  return {
    gemm: { sizes: [[64, 64, 64], [128, 96, 64]], secondsPerFigure: 0.01 },
    engine: { runs: 1, warmup: 0, parts: ['attention', 'block'] },
    models: {
      vae: { channels: [8, 8, 16], groups: 4, latentChannels: 4 },
      dit: { latentChannels: 4, hiddenSize: 32, depth: 1, numHeads: 2, textDim: 32, timestepFeatures: 32 },
      frames: 5, width: 32, height: 32, textTokens: 8, runs: 1, warmup: 0,
    },
    pipeline: { preset: 'tiny', randomModel: true, frames: 5, steps: 2, runs: 1, warmup: 0 },
  };
}

const loadAverage = (): number => Math.round(os.loadavg()[0]! * 100) / 100;

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^model name\s*:/.test(l));
    if (line) return line.replace(/^model name\s*:\s*/, '').trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown';
}

/** The machine, with the date and load average of when the run started (and the load when it ended). */
function machineInfo(start: { date: string; load: number }): MachineInfo {
  const kernels = getKernels('float32');
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    kernels: { name: kernels.name, isa: kernels.isa },
    threads: kernels.threads(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: start.date,
    load_average: { start: start.load, end: loadAverage() },
  };
}

export async function collectBenchmarks(options: CollectOptions = {}): Promise<BenchReport> {
  const start = { date: new Date().toISOString(), load: loadAverage() };
  const suites = options.only ? BENCH_SUITES.filter((s) => options.only!.includes(s)) : [...BENCH_SUITES];
  const quick = options.quick ?? false;
  const settings = options.settings ?? {};
  const onProgress = options.onProgress;
  // The model and pipeline targets hold for their default sizes only; gemm and engine targets name their sizes.
  const customSizes = (['models', 'pipeline'] as const).filter((s) => suites.includes(s) && settings[s] !== undefined);
  const report: Omit<BenchReport, 'machine' | 'targets'> = { settings: { suites, quick, custom_sizes: customSizes } };
  const skipped: Record<string, string> = {};

  if (suites.includes('gemm')) {
    try {
      const gemm = await benchGemm({ ...(quick ? { secondsPerFigure: 0.2 } : {}), ...settings.gemm, onProgress });
      report.peak_gflops = gemm.peak_gflops;
      report.gemm = gemm.gemm;
    } catch (e) {
      // Without the native addon there is nothing to measure; the other suites still run on the reference kernels.
      if (!isTesseraError(e) || e.code !== 'unsupported') throw e;
      skipped['gemm'] = e.message;
    }
  }

  if (suites.includes('engine')) {
    const engine = { ...(quick ? { runs: 3, warmup: 1 } : {}), ...settings.engine };
    const parts = (engine.parts ?? ['attention', 'block', 'dit']).filter((p) => p !== 'models');
    // One call per part so the progress line moves between them (the DiT step dominates the time).
    for (const [i, part] of parts.entries()) {
      onProgress?.({ stage: 'bench engine', done: i, total: parts.length, info: { part } });
      const r = await benchEngine({ ...engine, parts: [part] });
      if (part === 'attention') report.attention_ms = { fwd: roundTiming(r.attention_ms.fwd, 2), fwd_bwd: roundTiming(r.attention_ms.fwd_bwd, 2) };
      if (part === 'block') {
        report.block_forward_ms = roundTiming(r.block_forward_ms, 2);
        report.block_train_ms = roundTiming(r.block_train_ms, 2);
      }
      if (part === 'dit') report.dit_train_step_ms = roundTiming(r.dit_train_step_ms);
      onProgress?.({ stage: 'bench engine', done: i + 1, total: parts.length, info: { part } });
    }
  }

  if (suites.includes('models')) {
    const models = await benchModels({ ...(quick ? { runs: 3, warmup: 1 } : {}), ...settings.models, onProgress });
    Object.assign(report, models);
  }

  if (suites.includes('pipeline')) {
    const pipeline = await benchPipeline({ ...(quick ? { runs: 1, warmup: 1 } : {}), ...settings.pipeline, onProgress });
    Object.assign(report, pipeline);
  }

  if (Object.keys(skipped).length > 0) report.skipped = skipped;
  const full = { machine: machineInfo(start), ...report };
  return { ...full, targets: evaluateTargets(full) };
}

/** The share of the all-threads FMA peak that sgemm reaches on m x n x k, when both were measured. */
function sgemmShareOfPeak(report: Pick<BenchReport, 'peak_gflops' | 'gemm'>, m: number, n: number, k: number): number | undefined {
  if (!report.peak_gflops || !report.gemm) return undefined;
  const threads = Math.max(...Object.keys(report.peak_gflops).map(Number));
  // cores do not share FMA units here: the all-threads peak is at least threads x the one-thread peak, which
  // guards against a multi-thread FMA measurement that came out low (a descheduled thread)
  const peak = Math.max(report.peak_gflops[String(threads)] ?? 0, threads * (report.peak_gflops['1'] ?? 0));
  const entry = report.gemm.find((g) => g.m === m && g.n === n && g.k === k && g.threads === threads);
  if (!peak || !entry) return undefined;
  return entry.gflops / peak;
}

/** Every target whose figure was measured at the target's sizes, with its value and whether it is met. */
export function evaluateTargets(report: Omit<BenchReport, 'targets' | 'machine'>): BenchTarget[] {
  const targets: BenchTarget[] = [];
  const custom = new Set(report.settings.custom_sizes);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  const add = (name: string, measured: number | Timing | undefined, comparison: '<=' | '>=', target: number, unit: string, suite?: BenchSuite): void => {
    const wall = typeof measured === 'number' ? measured : measured?.wall;
    if (wall === undefined || !Number.isFinite(wall) || (suite && custom.has(suite))) return;
    const met = comparison === '<=' ? wall <= target : wall >= target;
    const cpu = typeof measured === 'object' ? { measured_cpu: round(measured.cpu) } : {};
    targets.push({ name, target, comparison, unit, measured: round(wall), ...cpu, met });
  };
  add('sgemm 1024x1024x1024, all threads', sgemmShareOfPeak(report, 1024, 1024, 1024), '>=', 0.85, 'of FMA peak');
  add('sgemm 2048x1536x384 (MLP), all threads', sgemmShareOfPeak(report, 2048, 1536, 384), '>=', 0.85, 'of FMA peak');
  add('transformer block forward', report.block_forward_ms, '<=', 25, 'ms');
  add('DiT training step', report.dit_train_step_ms, '<=', 700, 'ms');
  add('VAE encode + decode, 17x128x128', report.vae_encode_decode_ms, '<=', 400, 'ms', 'models');
  add('DiT forward, 17x128x128 latent', report.dit_forward_ms, '<=', 80, 'ms', 'models');
  add('generate 2 s clip at 128x128', report.generate_s?.['128x128'], '<=', 8, 's', 'pipeline');
  return targets;
}
