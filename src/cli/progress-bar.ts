/**
 * The terminal view of a ProgressCallback. On a TTY one line per stage is redrawn in place:
 *
 *   denoise ▕██████████▍         ▏ 12/30  4.10 it/s  ETA 0:04  loss=0.1234
 *
 * Elsewhere (CI logs, pipes) it prints a plain line when a stage starts, every `logEveryMs`, and when it ends,
 * so logs stay short. With `quiet` it prints nothing.
 */
import type { ProgressCallback, ProgressEvent } from '../progress.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Where to draw; default process.stderr, so stdout stays clean for results. */
  stream?: ProgressOutput;
  /** Draw nothing; default true when TESSERA_QUIET=1. */
  quiet?: boolean;
  /** Redraw in place; default stream.isTTY. */
  tty?: boolean;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
  /** Least time between redraws on a TTY. */
  redrawMs?: number;
  /** Least time between plain lines elsewhere. */
  logEveryMs?: number;
}

/** Weight of the newest measurement in the smoothed seconds-per-step (as tqdm smooths its rate). */
const RATE_SMOOTHING = 0.3;
const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

interface StageState {
  stage: string;
  startedAt: number;
  /** The last point the rate was measured from. */
  markDone: number;
  markTime: number;
  secondsPerStep?: number;
  lastDrawAt: number;
  /** The final line of this stage has been drawn; repeats of the last event are ignored. */
  ended: boolean;
}

export class ProgressBar {
  /** Pass this as `onProgress`. */
  readonly onProgress: ProgressCallback = (event) => this.update(event);

  private readonly stream: ProgressOutput;
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly redrawMs: number;
  private readonly logEveryMs: number;
  private current: StageState | undefined;
  private lastDone = 0;
  /** A TTY line has been drawn and not yet ended with a newline. */
  private lineOpen = false;

  constructor(opts: ProgressBarOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.quiet = opts.quiet ?? process.env.TESSERA_QUIET === '1';
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.redrawMs = opts.redrawMs ?? 100;
    this.logEveryMs = opts.logEveryMs ?? 10_000;
  }

  update(event: ProgressEvent): void {
    if (this.quiet) return;
    const now = this.now();
    // A stage that starts over under the same name (the next sample's denoising) counts as a new one.
    const isNewStage = this.current === undefined || this.current.stage !== event.stage || event.done < this.lastDone;
    if (isNewStage) {
      this.endLine();
      this.current = { stage: event.stage, startedAt: now, markDone: event.done, markTime: now, lastDrawAt: -Infinity, ended: false };
    }
    const state = this.current!;
    this.measureRate(state, event.done, now);
    this.lastDone = event.done;

    const finished = event.total > 0 && event.done >= event.total;
    const interval = this.tty ? this.redrawMs : this.logEveryMs;
    if (state.ended || (!isNewStage && !finished && now - state.lastDrawAt < interval)) return;
    state.lastDrawAt = now;
    state.ended = finished;
    if (this.tty) {
      this.stream.write(`\r${this.formatLine(event, state, now, true)}\x1b[K`);
      this.lineOpen = true;
      if (finished) this.endLine();
    } else {
      this.stream.write(`${this.formatLine(event, state, now, false)}\n`);
    }
  }

  /** Ends the bar: closes an open TTY line. Call once the work is over (also after an error). */
  finish(): void {
    this.endLine();
  }

  private endLine(): void {
    if (this.lineOpen) this.stream.write('\n');
    this.lineOpen = false;
  }

  private measureRate(state: StageState, done: number, now: number): void {
    const steps = done - state.markDone;
    const seconds = (now - state.markTime) / 1000;
    // Steps reported in the same instant carry no timing; wait until time has passed to measure them.
    if (steps <= 0 || seconds <= 0) return;
    const sample = seconds / steps;
    state.secondsPerStep = state.secondsPerStep === undefined ? sample : RATE_SMOOTHING * sample + (1 - RATE_SMOOTHING) * state.secondsPerStep;
    state.markDone = done;
    state.markTime = now;
  }

  private formatLine(event: ProgressEvent, state: StageState, now: number, withBar: boolean): string {
    const { stage, done, total } = event;
    const counts = total > 0 ? `${done}/${total}` : `${done}`;
    const details: string[] = [];
    if (state.secondsPerStep !== undefined) details.push(formatRate(state.secondsPerStep));
    if (total > 0 && done >= total) details.push(`in ${formatDuration((now - state.startedAt) / 1000)}`);
    else if (total > 0 && state.secondsPerStep !== undefined) details.push(`ETA ${formatDuration((total - done) * state.secondsPerStep)}`);
    if (event.fraction !== undefined) details.push(`${Math.floor(100 * event.fraction)}% overall`);
    for (const [key, value] of Object.entries(event.info ?? {})) details.push(`${key}=${formatValue(value)}`);
    const tail = details.map((d) => `  ${d}`).join('');

    if (total <= 0) return `${stage} ${counts}${tail}`;
    if (!withBar) return `${stage} ${counts} (${Math.floor((100 * done) / total)}%)${tail}`;
    // The bar takes what the rest of the line leaves, within bounds, so the line fits the terminal.
    const columns = this.stream.columns ?? 80;
    const width = Math.max(10, Math.min(40, columns - 1 - (stage.length + counts.length + tail.length + 4)));
    return `${stage} ${this.bar(done / total, width)} ${counts}${tail}`;
  }

  private bar(fraction: number, width: number): string {
    const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * width * 8);
    const full = Math.floor(eighths / 8);
    const partial = BLOCKS[eighths % 8]!;
    return `▕${'█'.repeat(full)}${partial}${' '.repeat(width - full - (partial ? 1 : 0))}▏`;
  }
}

/** A bar for `onProgress`; remember to call `finish()` when the work ends. */
export function createProgressBar(opts: ProgressBarOptions = {}): ProgressBar {
  return new ProgressBar(opts);
}

/**
 * Runs slow work under a progress bar that Ctrl-C cancels: the work gets the bar's callback and an abort signal,
 * and the bar is finished and the handler removed however the work ends.
 */
export async function withProgressBar<T>(quiet: boolean, work: (onProgress: ProgressCallback, signal: AbortSignal) => Promise<T>): Promise<T> {
  const bar = createProgressBar({ quiet });
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    return await work(bar.onProgress, controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
    bar.finish();
  }
}

/** "4.10 it/s" when fast, "2.5 s/it" when slow, as people read rates. */
export function formatRate(secondsPerStep: number): string {
  if (secondsPerStep <= 0) return '∞ it/s';
  const perSecond = 1 / secondsPerStep;
  return perSecond >= 1 ? `${perSecond.toFixed(2)} it/s` : `${secondsPerStep.toFixed(1)} s/it`;
}

/** m:ss, or h:mm:ss from an hour on. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Four significant figures, scientific notation for very small or large magnitudes, integers as they are. */
export function formatValue(value: number | string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}
