/**
 * Matrix-multiply benchmark of the native kernels: the FMA peak of the machine (1 thread and all threads)
 * and sgemm throughput on square sizes plus the shape of a transformer MLP projection (m=2048 tokens,
 * k=384 width, n=1536 = 4x width), each on 1 thread and on all threads. Figures are GFLOP/s (2*m*n*k / s),
 * the median of several timed runs after a warm-up run.
 */
import { TesseraError } from '../errors.js';
import { Rng } from '../engine/random.js';
import { loadNativeAddon, nativeUnavailableReason, type NativeAddon } from '../engine/kernels/native.js';
import type { ProgressCallback } from '../progress.js';

export interface GemmBenchEntry { m: number; n: number; k: number; threads: number; gflops: number }

export interface GemmBenchResult {
  /** Instruction set of the kernels measured. */
  isa: string;
  /** FMA peak by thread count ('1', and the pool size). */
  peak_gflops: Record<string, number>;
  gemm: GemmBenchEntry[];
}

export interface GemmBenchOptions {
  /** [m, n, k] triples; default 256^3, 512^3, 1024^3, 2048^3 and 2048 x 1536 x 384. */
  sizes?: ReadonlyArray<readonly [number, number, number]>;
  /** Seconds of timed runs to aim for per figure (at least 3 runs, at most 15); default 0.6. */
  secondsPerFigure?: number;
  onProgress?: ProgressCallback;
}

const DEFAULT_SIZES: ReadonlyArray<readonly [number, number, number]> = [
  [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [2048, 2048, 2048], [2048, 1536, 384],
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function randomMatrix(rng: Rng, size: number): Float32Array {
  const x = new Float32Array(size);
  rng.fill(x, 'uniform');
  return x;
}

/** Median GFLOP/s of C = A B (row-major, no transposes) after one warm-up run. */
function timeSgemm(addon: NativeAddon, m: number, n: number, k: number, rng: Rng, seconds: number): number {
  const sgemm = addon['sgemm'] as (...args: unknown[]) => void;
  const a = randomMatrix(rng, m * k), b = randomMatrix(rng, k * n), c = new Float32Array(m * n);
  const run = (): number => {
    const t0 = performance.now();
    sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    return (performance.now() - t0) / 1e3;
  };
  const warm = run();
  const runs = Math.max(3, Math.min(15, Math.round(seconds / Math.max(warm, 1e-6))));
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(run());
  return (2 * m * n * k) / median(samples) / 1e9;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export async function benchGemm(options: GemmBenchOptions = {}): Promise<GemmBenchResult> {
  const addon = loadNativeAddon();
  if (addon === null) throw new TesseraError('unsupported', `gemm benchmark: ${nativeUnavailableReason()}`);
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const seconds = options.secondsPerFigure ?? 0.6;
  const allThreads = addon.threads();
  const threadCounts = allThreads > 1 ? [1, allThreads] : [1];
  const rng = new Rng(20240611);
  const total = threadCounts.length * (sizes.length + 1);
  let done = 0;
  const step = async (): Promise<void> => {
    options.onProgress?.({ stage: 'bench gemm', done: ++done, total });
    await new Promise((resolve) => setImmediate(resolve)); // let the event loop breathe between figures
  };

  const result: GemmBenchResult = { isa: addon.isa(), peak_gflops: {}, gemm: [] };
  try {
    for (const threads of threadCounts) {
      addon.setThreads(threads);
      result.peak_gflops[String(threads)] = round1(addon.peakGflops(threads));
      await step();
      for (const [m, n, k] of sizes) {
        result.gemm.push({ m, n, k, threads, gflops: round1(timeSgemm(addon, m, n, k, rng, seconds)) });
        await step();
      }
    }
  } finally {
    addon.setThreads(allThreads);
  }
  return result;
}
