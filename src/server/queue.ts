/**
 * The job queue between the API and the workers. The API enqueues ids with their parameters; workers report
 * back through JobEvents, which the server turns into store updates. Two implementations: LocalQueue (child
 * processes on this machine) and RedisQueue (BullMQ, workers anywhere).
 */
import type { RenderResult } from './render.js';
import type { GeneratorCapabilities, JobParams } from './types.js';

export interface JobError {
  code: string;
  message: string;
}

export interface JobEvents {
  /** A worker took the job. Returns false when the job no longer exists (deleted while queued): skip it. */
  started(id: string): boolean;
  progress(id: string, percent: number): void;
  completed(id: string, result: RenderResult): void;
  /** Failed or cancelled; a cancelled job has already been deleted, so the store ignores it. */
  failed(id: string, error: JobError): void;
}

export interface JobQueue {
  /** Connects the workers; resolves with what the model can do when the queue can tell (local workers load it). */
  start(events: JobEvents): Promise<GeneratorCapabilities | undefined>;
  enqueue(id: string, params: JobParams): Promise<void>;
  /** Drops a waiting job or aborts a running one. */
  cancel(id: string): Promise<void>;
  close(): Promise<void>;
}

/** Messages between the server and a local worker process (worker-process.ts). */
export type ToWorker =
  | { type: 'run'; id: string; params: JobParams }
  | { type: 'cancel'; id: string };

export type FromWorker =
  | { type: 'ready'; capabilities: GeneratorCapabilities }
  | { type: 'init_failed'; message: string }
  | { type: 'progress'; id: string; percent: number }
  | { type: 'done'; id: string; result: RenderResult }
  | { type: 'failed'; id: string; error: JobError };

/** A job's failure as users see it: TesseraErrors keep their code and message; anything else is a generic failure. */
export function jobErrorOf(e: unknown): JobError {
  const err = e as { name?: string; code?: unknown; message?: unknown };
  if (err?.name === 'TesseraError' && typeof err.code === 'string') {
    return { code: err.code === 'aborted' ? 'cancelled' : err.code, message: String(err.message) };
  }
  return { code: 'generation_failed', message: `generation failed: ${err?.message ?? String(e)}` };
}
