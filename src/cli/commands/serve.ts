import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';

interface ServeFlags {
  host: string;
  port: string;
  dataDir: string;
  model?: string;
  generator?: string;
  concurrency: string;
  queue?: string;
  apiKey?: string[];
  rateLimit: string;
  cors?: string;
  maxUploadMb: string;
  maxPromptChars: string;
  ttl: string;
}

function int(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw invalidArgument(name, `expected an integer >= ${min}, got "${text}"`);
  return n;
}

function queueUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^rediss?:\/\/[^\s]+$/.test(text)) throw invalidArgument('--queue', `expected redis://HOST:PORT, got "${text}"`);
  return text;
}

/** The generator a --model / --generator pair names: the real pipeline unless a generator module is given. */
async function generatorSource(model: string | undefined, generator: string | undefined) {
  const { pipelineSource } = await import('../../server/generator.js');
  const { defaultModelDir } = await import('../../paths.js');
  if (generator === undefined) return pipelineSource(model ?? defaultModelDir());
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  return { moduleUrl: generator.includes('://') ? generator : pathToFileURL(resolve(generator)).href, modelDir: model ?? defaultModelDir() };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description("serve OpenAI's Videos API under /v1 and the web studio at / (jobs in SQLite, outputs on disk)")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', '8000')
    .option('--data-dir <dir>', 'where the job database and the videos live', 'tessera-data')
    .option('--model <dir>', 'model folder (default: the bundled models/tessera-world)')
    .option('--generator <module>', 'a module exporting createGenerator(modelDir) to use instead of the pipeline')
    .option('--concurrency <n>', 'videos rendered at once by local worker processes', '1')
    .option('--queue <url>', 'redis://HOST:PORT: queue jobs in Redis (BullMQ) for `tessera worker` processes')
    .option('--api-key <key...>', 'require "Authorization: Bearer <key>" (repeatable; also TESSERA_API_KEYS, comma-separated)')
    .option('--rate-limit <n>', 'requests a minute per key or address (0 = unlimited)', '600')
    .option('--cors <origins>', 'allowed origins, comma-separated, or * for any (default: CORS off)')
    .option('--max-upload-mb <n>', 'largest image upload in MiB', '20')
    .option('--max-prompt-chars <n>', 'longest prompt in characters', '4000')
    .option('--ttl <seconds>', 'how long finished videos are kept (0 = forever)', '86400')
    .action(async (flags: ServeFlags) => {
      const { startServer } = await import('../../server/server.js');
      const envKeys = (process.env.TESSERA_API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
      const cors = flags.cors === undefined ? [] : flags.cors.trim() === '*' ? (true as const) : flags.cors.split(',').map((o) => o.trim());
      const server = await startServer({
        host: flags.host,
        port: int('--port', flags.port, 0),
        dataDir: flags.dataDir,
        generator: await generatorSource(flags.model, flags.generator),
        concurrency: int('--concurrency', flags.concurrency, 1),
        queueUrl: queueUrl(flags.queue),
        apiKeys: [...(flags.apiKey ?? []), ...envKeys],
        rateLimitPerMinute: int('--rate-limit', flags.rateLimit, 0),
        corsOrigins: cors,
        maxUploadBytes: int('--max-upload-mb', flags.maxUploadMb, 1) * 1024 * 1024,
        maxPromptChars: int('--max-prompt-chars', flags.maxPromptChars, 1),
        ttlSeconds: int('--ttl', flags.ttl, 0),
      });
      process.stdout.write(`Tessera is serving ${server.url}  (studio: ${server.url}/  API: ${server.url}/v1)\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('take jobs from a Redis queue (`tessera serve --queue`) and render them into the shared data folder')
    .requiredOption('--queue <url>', 'redis://HOST:PORT, the same as the server\'s')
    .option('--data-dir <dir>', "the server's data folder (shared storage)", 'tessera-data')
    .option('--model <dir>', 'model folder (default: the bundled models/tessera-world)')
    .option('--generator <module>', 'a module exporting createGenerator(modelDir) to use instead of the pipeline')
    .option('--concurrency <n>', 'videos rendered at once', '1')
    .action(async (flags: { queue: string; dataDir: string; model?: string; generator?: string; concurrency: string }) => {
      const { startRedisWorker } = await import('../../server/redis-queue.js');
      const { join, resolve } = await import('node:path');
      const worker = await startRedisWorker({
        url: queueUrl(flags.queue)!,
        source: await generatorSource(flags.model, flags.generator),
        outputDir: join(resolve(flags.dataDir), 'videos'),
        concurrency: int('--concurrency', flags.concurrency, 1),
      });
      process.stdout.write(`Tessera worker is taking jobs from ${flags.queue}\n`);
      const stop = () => void worker.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
