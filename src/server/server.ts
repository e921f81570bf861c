/**
 * `tessera serve` as a function: open the store, start the queue (local worker processes or BullMQ), recover
 * what a previous run left, sweep expired outputs on a timer, and listen.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { OutputFiles } from './files.js';
import { capabilitiesOf, loadGenerator, pipelineSource } from './generator.js';
import { LocalQueue } from './local-queue.js';
import type { JobQueue } from './queue.js';
import { VideoService } from './service.js';
import { JobStore } from './store.js';
import type { GeneratorSource } from './types.js';

export interface ServerOptions {
  host: string;
  port: number;
  /** Holds tessera.db and one folder per video (shared with remote workers in Redis mode). */
  dataDir: string;
  generator?: GeneratorSource;
  /** Local worker processes (ignored with a Redis queue: workers run as `tessera worker`). */
  concurrency: number;
  /** `redis://host:port` for BullMQ; absent = local queue. */
  queueUrl?: string;
  apiKeys: string[];
  rateLimitPerMinute: number;
  corsOrigins: string[] | true;
  maxUploadBytes: number;
  maxPromptChars: number;
  ttlSeconds: number;
  maxOpenJobs: number;
  pollAfterMs: number;
  sweepIntervalMs: number;
  logger?: boolean;
}

export const DEFAULT_SERVER_OPTIONS: Omit<ServerOptions, 'dataDir'> = {
  host: '127.0.0.1',
  port: 8000,
  concurrency: 1,
  apiKeys: [],
  rateLimitPerMinute: 600,
  corsOrigins: [],
  maxUploadBytes: 20 * 1024 * 1024,
  maxPromptChars: 4000,
  ttlSeconds: 24 * 3600,
  maxOpenJobs: 1000,
  pollAfterMs: 1000,
  sweepIntervalMs: 60_000,
};

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  service: VideoService;
  close(): Promise<void>;
}

export async function startServer(options: Partial<ServerOptions> & { dataDir: string }): Promise<RunningServer> {
  const opts: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const dataDir = resolve(opts.dataDir);
  const outputDir = join(dataDir, 'videos');
  mkdirSync(outputDir, { recursive: true });
  const source = opts.generator ?? pipelineSource();
  const files = new OutputFiles(outputDir);
  const store = new JobStore(join(dataDir, 'tessera.db'));

  let queue: JobQueue;
  if (opts.queueUrl) {
    const { RedisQueue } = await import('./redis-queue.js');
    queue = new RedisQueue({ url: opts.queueUrl });
  } else {
    queue = new LocalQueue({ concurrency: opts.concurrency, source, outputDir });
  }
  // The service needs the model's capabilities, which only the started queue (its workers) can tell; events
  // that arrive before the service exists are forwarded once it does.
  let service: VideoService | undefined;
  const events = {
    started: (id: string) => service?.started(id) ?? false,
    progress: (id: string, p: number) => service?.progress(id, p),
    completed: (id: string, r: Parameters<VideoService['completed']>[1]) => service?.completed(id, r),
    failed: (id: string, e: Parameters<VideoService['failed']>[1]) => service?.failed(id, e),
  };
  let capabilities = await queue.start(events);
  // A Redis queue's workers are elsewhere: read the model's capabilities here, then let the weights go.
  capabilities ??= capabilitiesOf(await loadGenerator(source));
  service = new VideoService({
    store,
    files,
    queue,
    capabilities,
    limits: { maxPromptChars: opts.maxPromptChars, maxUploadBytes: opts.maxUploadBytes },
    ttlSeconds: opts.ttlSeconds,
    maxOpenJobs: opts.maxOpenJobs,
  });
  await service.recover();
  const sweep = setInterval(() => void service!.sweepExpired().catch(() => undefined), opts.sweepIntervalMs);
  sweep.unref();

  const app = await buildApp({
    service,
    apiKeys: opts.apiKeys,
    rateLimitPerMinute: opts.rateLimitPerMinute,
    corsOrigins: opts.corsOrigins,
    pollAfterMs: opts.pollAfterMs,
    logger: opts.logger,
  });
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    app,
    service,
    async close() {
      clearInterval(sweep);
      await app.close();
      await queue.close();
      store.close();
    },
  };
}
