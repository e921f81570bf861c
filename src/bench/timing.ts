/**
 * Timing of the model and pipeline figures: the median of several runs after warm-up, in wall time and in the
 * process's CPU time. CPU time counts every thread of the process (the kernel pool too), so on a machine shared
 * with other work it shows what a run costs when its wall time is inflated by waiting for a core.
 */
import type { Timing } from './engine.js';

export type { Timing } from './engine.js';

export interface RepeatOptions {
  /** Timed runs; the median is reported. */
  runs: number;
  /** Untimed runs first (JIT, caches, first-touch allocation). */
  warmup: number;
  /** Called after every run, warm-up included, with the runs done so far. */
  onRun?: (done: number, total: number) => void;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One run of `fn`: its result, and its wall and CPU milliseconds. */
export async function timeOnce<T>(fn: () => T | Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/**
 * Median wall and CPU milliseconds of `fn` over `runs` runs after `warmup` untimed ones. `fn` receives the timed
 * run's index (-1 during warm-up) so it can keep per-run details of its own. Between runs the event loop gets a turn,
 * so a progress bar can draw and a signal can be seen.
 */
export async function repeat(fn: (run: number) => unknown, { runs, warmup, onRun }: RepeatOptions): Promise<Timing> {
  const walls: number[] = [], cpus: number[] = [];
  const total = warmup + runs;
  for (let i = 0; i < total; i++) {
    const timedIndex = i - warmup;
    const { wall, cpu } = await timeOnce(() => fn(timedIndex));
    if (timedIndex >= 0) {
      walls.push(wall);
      cpus.push(cpu);
    }
    onRun?.(i + 1, total);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** Rounds for reports: timings carry more digits than the noise of a shared machine justifies. */
export function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function roundTiming(t: Timing, digits = 1): Timing {
  return { wall: roundTo(t.wall, digits), cpu: roundTo(t.cpu, digits) };
}
