/**
 * Scale-out: the queue is BullMQ on Redis and `tessera worker` processes on any machine take jobs. The server
 * only enqueues and listens to queue events (active, progress, completed, failed) to keep its store current;
 * outputs go to the shared output directory. Cancels travel on a pub/sub channel, since only the worker that
 * holds a job can abort it.
 */
import { Queue, QueueEvents, Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { LocalQueue } from './local-queue.js';
import { type JobError, type JobEvents, type JobQueue } from './queue.js';
import type { RenderResult } from './render.js';
import type { GeneratorSource, JobParams } from './types.js';

export const QUEUE_NAME = 'tessera-videos';
const CANCEL_CHANNEL = 'tessera:cancel';
/** Finished BullMQ jobs are kept this long so a restarting server can learn what finished while it was down. */
const KEEP_FINISHED_S = 24 * 3600;

interface JobData {
  id: string;
  params: JobParams;
}

function connection(url: string): Redis {
  // BullMQ needs maxRetriesPerRequest: null so blocking commands wait through reconnects.
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** A job's failure travels as BullMQ's failedReason, which is a string: JSON of the JobError. */
function decodeFailure(reason: string | undefined): JobError {
  try {
    const e = JSON.parse(reason ?? '') as JobError;
    if (typeof e.code === 'string' && typeof e.message === 'string') return e;
  } catch {
    // not ours: a BullMQ reason such as a stalled job
  }
  return { code: 'generation_failed', message: reason ?? 'the job failed' };
}

export class RedisQueue implements JobQueue {
  private readonly conn: Redis;
  /** QueueEvents blocks on its own connection. BullMQ leaves connections it was given open: close() ends both. */
  private readonly eventsConn: Redis;
  private readonly queue: Queue<JobData>;
  private readonly queueEvents: QueueEvents;
  private events: JobEvents | null = null;

  constructor(opts: { url: string }) {
    this.conn = connection(opts.url);
    this.eventsConn = connection(opts.url);
    this.queue = new Queue<JobData>(QUEUE_NAME, { connection: this.conn as ConnectionOptions });
    this.queueEvents = new QueueEvents(QUEUE_NAME, { connection: this.eventsConn as ConnectionOptions });
  }

  async start(events: JobEvents): Promise<undefined> {
    this.events = events;
    const qe = this.queueEvents;
    qe.on('active', ({ jobId }) => void events.started(jobId));
    qe.on('progress', ({ jobId, data }) => events.progress(jobId, Number(data)));
    qe.on('completed', ({ jobId, returnvalue }) => events.completed(jobId, returnvalue as unknown as RenderResult));
    qe.on('failed', ({ jobId, failedReason }) => events.failed(jobId, decodeFailure(failedReason)));
    await Promise.all([qe.waitUntilReady(), this.queue.waitUntilReady()]);
    return undefined;
  }

  /** Adds the job, or, after a server restart, reports what became of the one already in Redis. */
  async enqueue(id: string, params: JobParams): Promise<void> {
    const existing = await this.queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed') this.events?.completed(id, existing.returnvalue as unknown as RenderResult);
      else if (state === 'failed') this.events?.failed(id, decodeFailure(existing.failedReason));
      else if (state === 'active') this.events?.started(id);
      return;
    }
    await this.queue.add('render', { id, params }, { jobId: id, attempts: 1, removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } });
  }

  async cancel(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      // Removal fails if a worker took the job meanwhile: then it is running and the channel reaches it.
      if (await job.remove().then(() => true, () => false)) return;
    }
    await this.conn.publish(CANCEL_CHANNEL, id);
  }

  async close(): Promise<void> {
    await this.queueEvents.close();
    await this.queue.close();
    this.conn.disconnect();
    this.eventsConn.disconnect();
  }
}

export interface RedisWorkerOptions {
  url: string;
  source: GeneratorSource;
  outputDir: string;
  concurrency: number;
}

/**
 * `tessera worker`: takes jobs from Redis and renders them in local worker processes (so this process's event
 * loop stays free to renew BullMQ's job locks while a model runs). Resolves once the model is loaded.
 */
export async function startRedisWorker(opts: RedisWorkerOptions): Promise<{ close(): Promise<void> }> {
  const local = new LocalQueue({ concurrency: opts.concurrency, source: opts.source, outputDir: opts.outputDir });
  const pending = new Map<string, { resolve(r: RenderResult): void; reject(e: Error): void; report(p: number): void }>();
  await local.start({
    started: () => true,
    progress: (id, p) => pending.get(id)?.report(p),
    completed: (id, r) => pending.get(id)?.resolve(r),
    failed: (id, e) => pending.get(id)?.reject(new Error(JSON.stringify(e))),
  });

  const workerConn = connection(opts.url);
  const worker = new Worker<JobData, RenderResult>(
    QUEUE_NAME,
    async (job, _token, signal) => {
      const { id, params } = job.data;
      const done = new Promise<RenderResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, report: (p) => void job.updateProgress(p).catch(() => undefined) });
      });
      signal?.addEventListener('abort', () => void local.cancel(id));
      await local.enqueue(id, params);
      try {
        return await done;
      } finally {
        pending.delete(id);
      }
    },
    { connection: workerConn as ConnectionOptions, concurrency: opts.concurrency },
  );
  const subscriber = connection(opts.url);
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, id: string) => {
    if (pending.has(id)) worker.cancelJob(id, 'cancelled');
  });
  await worker.waitUntilReady();
  return {
    async close() {
      subscriber.disconnect();
      await worker.close(true);
      workerConn.disconnect();
      await local.close();
    },
  };
}

