// Shared by the server suites: a server on a free loopback port with the test generator, and small utilities.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.js';
import type { VideoObject } from '../../src/server/types.js';
import { TEST_GENERATOR_URL } from './fixtures/test-generator.js';

export function tempDir(prefix = 'tessera-server-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testGenerator(settings = 'stepMs=5') {
  return { moduleUrl: TEST_GENERATOR_URL, modelDir: settings };
}

export async function startTestServer(overrides: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({
    dataDir: tempDir(),
    port: 0,
    generator: testGenerator(),
    pollAfterMs: 50,
    rateLimitPerMinute: 0,
    ...overrides,
  });
}

/** Polls GET /v1/videos/{id} until the video is completed or failed. */
export async function waitForVideo(url: string, id: string, timeoutMs = 20_000, headers: Record<string, string> = {}): Promise<VideoObject> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/v1/videos/${id}`, { headers });
    const v = (await res.json()) as VideoObject;
    if (res.status !== 200) throw new Error(`GET ${id}: ${res.status} ${JSON.stringify(v)}`);
    if (v.status === 'completed' || v.status === 'failed') return v;
    if (Date.now() > deadline) throw new Error(`${id} still ${v.status} after ${timeoutMs} ms`);
    await sleep(40);
  }
}

export async function pngBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
}

export async function jpegBytes(width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 20, g: 140, b: 40 } } }).jpeg().toBuffer();
}
