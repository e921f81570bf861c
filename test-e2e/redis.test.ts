// The same SDK suite with the queue on Redis (BullMQ) and two `tessera worker` processes sharing the data folder.
// Needs the Debian `redis-server` binary; started here on a free loopback port, with no persistence.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir, testGenerator } from '../test/server/helpers.js';
import { defineSdkSuite } from '../test/server/sdk-suite.js';
import { startServer } from '../src/server/server.js';

const WORKER = fileURLToPath(new URL('./fixtures/worker-child.ts', import.meta.url));
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (pattern.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${out}`)));
  });
}

if (!hasRedis) {
  test('redis queue (skipped: redis-server is not installed; apt-get install redis-server)', { skip: true }, () => {});
} else {
  defineSdkSuite('openai SDK against tessera serve --queue redis:// with two workers', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitForLine(redis, /Ready to accept connections/);
    const url = `redis://127.0.0.1:${port}`;
    const dataDir = tempDir('tessera-redis-');
    const workers = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', WORKER, url, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] }));
    await Promise.all(workers.map((w) => waitForLine(w, /ready/)));
    const server = await startServer({ dataDir, port: 0, queueUrl: url, generator: testGenerator(), pollAfterMs: 50, rateLimitPerMinute: 0 });
    return {
      url: server.url,
      async close() {
        await server.close();
        for (const w of workers) w.kill('SIGTERM');
        await sleep(200);
        for (const w of workers) w.kill('SIGKILL');
        redis.kill('SIGKILL');
      },
    };
  });
}
