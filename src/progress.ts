import { TesseraError } from './errors.js';

/**
 * One progress type for every long job: sampling steps, VAE chunks, training steps, evaluation.
 * The CLI draws it as a bar, the server copies `fraction` into a video's `progress`, training logs it.
 */
export interface ProgressEvent {
  /** What is running, e.g. 'denoise', 'decode', 'train', 'eval'. */
  stage: string;
  /** Units done and total in this stage (steps, chunks, samples). */
  done: number;
  total: number;
  /** Overall fraction 0..1 across stages, when the caller knows it. */
  fraction?: number;
  /** Extra figures to show beside the bar: loss, it/s, etc. */
  info?: Record<string, number | string>;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/** Throws a TesseraError('aborted') if the signal has fired; call between units of work. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TesseraError('aborted', 'the operation was aborted');
}
