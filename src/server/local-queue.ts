/**
 * A queue in this process with `concurrency` worker processes beside it. Each worker loads the model once and
 * renders one job at a time, so the HTTP event loop never runs a model. Waiting jobs are only kept in memory:
 * the store is what survives a crash, and the server re-enqueues from it on start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '../errors.js';
import type { FromWorker, JobEvents, JobQueue, ToWorker } from './queue.js';
import type { GeneratorCapabilities, GeneratorSource, JobParams } from './types.js';

/** A worker that does not stop within this time after a cancel is killed and replaced. */
const CANCEL_GRACE_MS = 2000;

/** The worker entry beside this file: .ts when running from source (tsx), .js when built. */
const WORKER_ENTRY = fileURLToPath(new URL(`./worker-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** Loader flags (tsx) the child needs to run the same sources; nothing else of the parent's (e.g. --test). */
function loaderExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--import' || a === '--require' || a === '-r' || a === '--loader' || a === '--experimental-loader') && i + 1 < argv.length) {
      out.push(a, argv[++i]!);
    } else if (/^--(import|require|loader|experimental-loader)=/.test(a) || a === '--enable-source-maps') {
      out.push(a);
    }
  }
  return out;
}

interface Slot {
  child: ChildProcess;
  job: { id: string; params: JobParams } | null;
  cancelTimer: NodeJS.Timeout | null;
}

export interface LocalQueueOptions {
  concurrency: number;
  source: GeneratorSource;
  outputDir: string;
}

export class LocalQueue implements JobQueue {
  private readonly waiting: { id: string; params: JobParams }[] = [];
  private readonly slots = new Set<Slot>();
  private events: JobEvents | null = null;
  private closing = false;

  constructor(private readonly opts: LocalQueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new TesseraError('invalid_argument', `concurrency: expected an integer >= 1, got ${opts.concurrency}`, { param: 'concurrency' });
    }
  }

  async start(events: JobEvents): Promise<GeneratorCapabilities> {
    this.events = events;
    const ready = await Promise.all(Array.from({ length: this.opts.concurrency }, () => this.spawn()));
    return ready[0]!;
  }

  async enqueue(id: string, params: JobParams): Promise<void> {
    this.waiting.push({ id, params });
    this.dispatch();
  }

  async cancel(id: string): Promise<void> {
    const i = this.waiting.findIndex((j) => j.id === id);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      return;
    }
    for (const slot of this.slots) {
      if (slot.job?.id !== id) continue;
      slot.child.send({ type: 'cancel', id } satisfies ToWorker);
      // A generator deep in one long kernel may not look at its signal soon enough: replace the process.
      slot.cancelTimer ??= setTimeout(() => slot.child.kill('SIGKILL'), CANCEL_GRACE_MS);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.waiting.length = 0;
    await Promise.all(
      [...this.slots].map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.child.exitCode !== null || slot.child.signalCode !== null) return resolve();
            slot.child.once('exit', () => resolve());
            slot.child.kill('SIGKILL');
          }),
      ),
    );
    this.slots.clear();
  }

  /** Starts one worker process and resolves when its model is loaded. */
  private spawn(): Promise<GeneratorCapabilities> {
    const child = fork(WORKER_ENTRY, [], {
      execArgv: loaderExecArgv(),
      env: { ...process.env, TESSERA_WORKER_CONFIG: JSON.stringify({ source: this.opts.source, outputDir: this.opts.outputDir }) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, job: null, cancelTimer: null };
    return new Promise((resolve, reject) => {
      let ready = false;
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          ready = true;
          this.slots.add(slot);
          resolve(m.capabilities);
          this.dispatch();
        } else if (m.type === 'init_failed') {
          reject(new TesseraError('io_error', `the worker could not load the model: ${m.message}`));
        } else {
          this.onJobMessage(slot, m);
        }
      });
      child.on('exit', (code, signal) => {
        this.slots.delete(slot);
        if (slot.cancelTimer) clearTimeout(slot.cancelTimer);
        if (!ready) return reject(new TesseraError('io_error', `the worker exited while loading the model (code ${code}, signal ${signal})`));
        if (this.closing) return;
        const job = slot.job;
        if (job) {
          // Killed after a cancel, or crashed: either way this job is over; a crash must not loop forever.
          this.events?.failed(job.id, { code: 'worker_crashed', message: `the worker process stopped (code ${code}, signal ${signal})` });
        }
        this.spawn().catch((e: unknown) => process.stderr.write(`tessera: cannot restart a worker: ${(e as Error).message}\n`));
      });
    });
  }

  private onJobMessage(slot: Slot, m: Exclude<FromWorker, { type: 'ready' | 'init_failed' }>): void {
    if (slot.job?.id !== m.id || !this.events) return;
    if (m.type === 'progress') {
      this.events.progress(m.id, m.percent);
      return;
    }
    slot.job = null;
    if (slot.cancelTimer) clearTimeout(slot.cancelTimer);
    slot.cancelTimer = null;
    if (m.type === 'done') this.events.completed(m.id, m.result);
    else this.events.failed(m.id, m.error);
    this.dispatch();
  }

  private dispatch(): void {
    if (!this.events) return;
    for (const slot of this.slots) {
      if (slot.job) continue;
      let next = this.waiting.shift();
      // Jobs deleted while waiting are skipped here.
      while (next && !this.events.started(next.id)) next = this.waiting.shift();
      if (!next) return;
      slot.job = next;
      slot.child.send({ type: 'run', id: next.id, params: next.params } satisfies ToWorker);
    }
  }
}
