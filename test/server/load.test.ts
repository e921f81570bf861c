// 50 concurrent clients create and poll on loopback: no 5xx, no lost job; reports p50/p99 API latency.
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningServer } from '../../src/server/server.js';
import type { VideoObject } from '../../src/server/types.js';
import { startTestServer, testGenerator } from './helpers.js';

const CLIENTS = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('load', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ concurrency: 2, generator: testGenerator('stepMs=1,steps=2') });
  });
  after(async () => server?.close());

  it(`serves ${CLIENTS} concurrent clients creating and polling`, async () => {
    const latencies: number[] = [];
    const createLatencies: number[] = [];
    const statuses = new Map<number, number>();
    const timed = async (path: string, init?: RequestInit) => {
      const t = performance.now();
      const res = await fetch(`${server.url}${path}`, init);
      const body = (await res.json()) as VideoObject;
      latencies.push(performance.now() - t);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return { status: res.status, body };
    };
    const client = async (i: number) => {
      const t = performance.now();
      const created = await timed('/v1/videos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: `load ${i}`, seconds: 0.5, seed: i }) });
      createLatencies.push(performance.now() - t);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const deadline = Date.now() + 120_000;
      for (;;) {
        const { body } = await timed(`/v1/videos/${created.body.id}`);
        if (body.status === 'completed' || body.status === 'failed') return body;
        assert.ok(Date.now() < deadline, `${created.body.id} did not finish`);
        await sleep(100);
      }
    };
    const t0 = performance.now();
    const finals = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    const wall = performance.now() - t0;

    assert.equal(finals.length, CLIENTS);
    assert.equal(new Set(finals.map((v) => v.id)).size, CLIENTS);
    assert.deepEqual(finals.filter((v) => v.status !== 'completed'), []);
    assert.ok(![...statuses.keys()].some((s) => s >= 500), `5xx answers: ${JSON.stringify([...statuses])}`);
    const list = (await (await fetch(`${server.url}/v1/videos?limit=100`)).json()) as { data: VideoObject[] };
    assert.equal(list.data.length, CLIENTS, 'every job is listed');

    latencies.sort((a, b) => a - b);
    createLatencies.sort((a, b) => a - b);
    const figures = {
      clients: CLIENTS,
      requests: latencies.length,
      p50_ms: Number(percentile(latencies, 50).toFixed(1)),
      p99_ms: Number(percentile(latencies, 99).toFixed(1)),
      max_ms: Number(latencies.at(-1)!.toFixed(1)),
      create_p50_ms: Number(percentile(createLatencies, 50).toFixed(1)),
      create_p99_ms: Number(percentile(createLatencies, 99).toFixed(1)),
      load_average: Number(loadavg()[0]!.toFixed(1)),
      wall_s: Number((wall / 1000).toFixed(1)),
    };
    process.stderr.write(`load: ${JSON.stringify(figures)}\n`);
  });
});
