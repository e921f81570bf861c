// Malformed requests: each gets the right 4xx in OpenAI's error shape, and the server stays healthy.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/server.js';
import { pngBytes, startTestServer, waitForVideo } from './helpers.js';

interface Case {
  name: string;
  method?: string;
  path?: string;
  json?: unknown;
  body?: string | Buffer | FormData;
  headers?: Record<string, string>;
  status: number;
  param?: string;
}

const ZERO_ID = `video_${'0'.repeat(32)}`;

function form(fields: Record<string, string | Blob>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v as string);
  return f;
}

/** Raw HTTP, for paths fetch would normalise (`..`) and bodies it would not send. */
function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('bad input', () => {
  let server: RunningServer;
  let queuedId = '';
  before(async () => {
    server = await startTestServer({ maxUploadBytes: 64 * 1024, maxPromptChars: 500, generator: { moduleUrl: (await import('./fixtures/test-generator.js')).TEST_GENERATOR_URL, modelDir: 'stepMs=50' } });
  });
  after(async () => server?.close());

  const multipartBody = (boundary: string, parts: string) => Buffer.from(parts.replaceAll('\n', '\r\n').replaceAll('BOUNDARY', boundary));

  it('answers at least 30 malformed requests with the right 4xx and stays healthy', async () => {
    const png = await pngBytes(8, 8);
    const brokenPng = Buffer.concat([png.subarray(0, 16), Buffer.alloc(40, 7)]);
    const done = await fetch(`${server.url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'done', seconds: 1 }) });
    const doneId = ((await done.json()) as { id: string }).id;
    await waitForVideo(server.url, doneId);
    const slow = await fetch(`${server.url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'slow', steps: 200, seconds: 1 }) });
    queuedId = ((await slow.json()) as { id: string }).id;

    const cases: Case[] = [
      { name: 'missing prompt', json: { seconds: '4' }, status: 400, param: 'prompt' },
      { name: 'prompt of wrong type', json: { prompt: 42 }, status: 400, param: 'prompt' },
      { name: 'blank prompt', json: { prompt: '   ' }, status: 400, param: 'prompt' },
      { name: 'huge prompt', json: { prompt: 'x'.repeat(501) }, status: 400, param: 'prompt' },
      { name: 'seconds not a number', json: { prompt: 'a', seconds: 'four' }, status: 400, param: 'seconds' },
      { name: 'negative seconds', json: { prompt: 'a', seconds: -1 }, status: 400, param: 'seconds' },
      { name: 'zero seconds', json: { prompt: 'a', seconds: '0' }, status: 400, param: 'seconds' },
      { name: 'seconds beyond the model', json: { prompt: 'a', seconds: 1000 }, status: 400, param: 'seconds' },
      { name: 'seconds as an object', json: { prompt: 'a', seconds: { n: 4 } }, status: 400, param: 'seconds' },
      { name: 'unknown size', json: { prompt: 'a', size: '100x100' }, status: 400, param: 'size' },
      { name: 'size not WxH', json: { prompt: 'a', size: 'big' }, status: 400, param: 'size' },
      { name: 'size as a number', json: { prompt: 'a', size: 64 }, status: 400, param: 'size' },
      { name: 'unknown model', json: { prompt: 'a', model: 'dall-e-3' }, status: 400, param: 'model' },
      { name: 'negative seed', json: { prompt: 'a', seed: -1 }, status: 400, param: 'seed' },
      { name: 'fractional seed', json: { prompt: 'a', seed: 1.5 }, status: 400, param: 'seed' },
      { name: 'steps not a number', json: { prompt: 'a', steps: 'many' }, status: 400, param: 'steps' },
      { name: 'guidance out of range', json: { prompt: 'a', guidance: 1000 }, status: 400, param: 'guidance' },
      { name: 'fps zero', json: { prompt: 'a', fps: 0 }, status: 400, param: 'fps' },
      { name: 'unknown field', json: { prompt: 'a', colour: 'red' }, status: 400, param: 'colour' },
      { name: 'JSON array body', json: [{ prompt: 'a' }], status: 400 },
      { name: 'invalid JSON', body: '{"prompt": "a",', headers: { 'content-type': 'application/json' }, status: 400 },
      { name: 'remote image URL', json: { prompt: 'a', input_reference: { image_url: 'https://example.com/cat.png' } }, status: 400, param: 'input_reference[image_url]' },
      { name: 'image_url not a data URL', json: { prompt: 'a', input_reference: { image_url: 'cat.png' } }, status: 400, param: 'input_reference[image_url]' },
      { name: 'image by file id', json: { prompt: 'a', input_reference: { file_id: 'file_1' } }, status: 400, param: 'input_reference[file_id]' },
      { name: 'data URL of text', json: { prompt: 'a', input_reference: { image_url: `data:image/png;base64,${Buffer.from('hello').toString('base64')}` } }, status: 400, param: 'input_reference' },
      { name: 'uploaded text as image', body: form({ prompt: 'a', input_reference: new Blob(['not an image at all']) }), status: 400, param: 'input_reference' },
      { name: 'uploaded empty image', body: form({ prompt: 'a', input_reference: new Blob([]) }), status: 400, param: 'input_reference' },
      { name: 'PNG magic with broken contents', body: form({ prompt: 'a', input_reference: new Blob([new Uint8Array(brokenPng)]) }), status: 400, param: 'input_reference' },
      { name: 'upload over the limit', body: form({ prompt: 'a', input_reference: new Blob([new Uint8Array(Buffer.concat([png, Buffer.alloc(70 * 1024)]))]) }), status: 413 },
      { name: 'JSON body over the limit', json: { prompt: 'a', pad: 'x'.repeat(600 * 1024) }, status: 413 },
      {
        name: 'truncated multipart',
        body: multipartBody('XyZ', '--BOUNDARY\nContent-Disposition: form-data; name="prompt"\n\nhello'),
        headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
        status: 400,
      },
      {
        name: 'multipart part without a name',
        body: multipartBody('XyZ', '--BOUNDARY\nContent-Disposition: form-data\n\nhello\n--BOUNDARY--\n'),
        headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
        status: 400,
      },
      { name: 'multipart without boundary', body: 'prompt=a', headers: { 'content-type': 'multipart/form-data' }, status: 400 },
      { name: 'unsupported content type', body: 'prompt=a', headers: { 'content-type': 'text/plain' }, status: 415 },
      { name: 'video uploaded to edits', body: form({ prompt: 'a', video: new Blob([new Uint8Array(png)]) }), path: '/v1/videos/edits', status: 400, param: 'video' },
      { name: 'edit without video', json: { prompt: 'a' }, path: '/v1/videos/edits', status: 400, param: 'video' },
      { name: 'edit of a malformed id', json: { prompt: 'a', video: { id: '../../etc' } }, path: '/v1/videos/edits', status: 400, param: 'video[id]' },
      { name: 'extension of a video still rendering', body: form({ prompt: 'a', 'video[id]': queuedId, seconds: '1' }), path: '/v1/videos/extensions', status: 409 },
      { name: 'remix of an unknown video', json: { prompt: 'a' }, path: `/v1/videos/${ZERO_ID}/remix`, status: 404 },
      { name: 'remix of a video still rendering', json: { prompt: 'a' }, path: `/v1/videos/${queuedId}/remix`, status: 409 },
      { name: 'remix without prompt', json: {}, path: `/v1/videos/${doneId}/remix`, status: 400, param: 'prompt' },
      { name: 'remix with a wrong field', json: { prompt: 'a', size: '64x64' }, path: `/v1/videos/${doneId}/remix`, status: 400, param: 'size' },
      { name: 'malformed id', method: 'GET', path: '/v1/videos/not-an-id', status: 400, param: 'video_id' },
      { name: 'unknown id', method: 'GET', path: `/v1/videos/${ZERO_ID}`, status: 404 },
      { name: 'delete unknown id', method: 'DELETE', path: `/v1/videos/${ZERO_ID}`, status: 404 },
      { name: 'content of unknown variant', method: 'GET', path: `/v1/videos/${queuedId}/content?variant=poster`, status: 400, param: 'variant' },
      { name: 'content not ready', method: 'GET', path: `/v1/videos/${queuedId}/content`, status: 409 },
      { name: 'list limit 0', method: 'GET', path: '/v1/videos?limit=0', status: 400, param: 'limit' },
      { name: 'list limit 101', method: 'GET', path: '/v1/videos?limit=101', status: 400, param: 'limit' },
      { name: 'list limit text', method: 'GET', path: '/v1/videos?limit=ten', status: 400, param: 'limit' },
      { name: 'list order sideways', method: 'GET', path: '/v1/videos?order=sideways', status: 400, param: 'order' },
      { name: 'list after unknown', method: 'GET', path: `/v1/videos?after=${ZERO_ID}`, status: 404, param: 'after' },
      { name: 'list after traversal', method: 'GET', path: '/v1/videos?after=../../etc/passwd', status: 400, param: 'after' },
      { name: 'unknown route', method: 'GET', path: '/v1/images', status: 404 },
    ];
    // Paths that fetch would normalise: sent raw.
    const rawCases = [
      { name: 'traversal in id', path: '/v1/videos/..%2F..%2F..%2Fetc%2Fpasswd/content', status: 400 },
      { name: 'dot-dot segments', path: '/v1/videos/../../../etc/passwd', status: 404 },
      { name: 'id with encoded slash', path: `/v1/videos/video_${'0'.repeat(16)}%2F..%2F${'0'.repeat(10)}/content`, status: 400 },
      { name: 'id with NUL', path: `/v1/videos/${ZERO_ID}%00/content`, status: 400 },
    ];

    let checked = 0;
    for (const c of cases) {
      const init: RequestInit = { method: c.method ?? 'POST', headers: c.headers };
      if (c.json !== undefined) {
        init.body = JSON.stringify(c.json);
        init.headers = { 'content-type': 'application/json', ...c.headers };
      } else if (c.body !== undefined) init.body = c.body as BodyInit;
      const res = await fetch(`${server.url}${c.path ?? '/v1/videos'}`, init);
      const text = await res.text();
      assert.equal(res.status, c.status, `${c.name}: expected ${c.status}, got ${res.status} ${text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/, c.name);
      const body = JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } };
      assert.equal(typeof body.error.message, 'string', c.name);
      assert.ok(body.error.message.length > 0 && body.error.type.length > 0, c.name);
      if (c.param !== undefined) assert.equal(body.error.param, c.param, `${c.name}: ${text}`);
      checked++;
    }
    for (const c of rawCases) {
      const res = await raw(server.url, 'GET', c.path, {});
      assert.equal(res.status, c.status, `${c.name}: expected ${c.status}, got ${res.status} ${res.body}`);
      assert.match(res.type, /^application\/json/, c.name);
      assert.ok((JSON.parse(res.body) as { error: object }).error, c.name);
      checked++;
    }
    assert.ok(checked >= 30, `only ${checked} cases`);

    // Still healthy: answers, and renders a good request.
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    await fetch(`${server.url}/v1/videos/${queuedId}`, { method: 'DELETE' });
    const ok = await fetch(`${server.url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'fine', seconds: 1 }) });
    assert.equal(ok.status, 200);
    assert.equal((await waitForVideo(server.url, ((await ok.json()) as { id: string }).id)).status, 'completed');
  });
});

describe('api keys and rate limits', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ apiKeys: ['sk-good'], rateLimitPerMinute: 5, corsOrigins: ['https://studio.example'] });
  });
  after(async () => server?.close());

  it('needs a bearer key, and answers 429 with retry-after past the limit', async () => {
    const noKey = await fetch(`${server.url}/v1/videos`);
    assert.equal(noKey.status, 401);
    assert.equal(((await noKey.json()) as { error: { type: string } }).error.type, 'authentication_error');
    const wrong = await fetch(`${server.url}/v1/videos`, { headers: { authorization: 'Bearer sk-bad' } });
    assert.equal(wrong.status, 401);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 7; i++) {
      const res = await fetch(`${server.url}/v1/videos`, { headers: { authorization: 'Bearer sk-good' } });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.text();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert.ok(Number(retryAfter) >= 1, `retry-after ${retryAfter}`);
    // CORS: the configured origin may call the API from a browser (preflights are answered before auth).
    const preflight = await fetch(`${server.url}/v1/videos`, {
      method: 'OPTIONS',
      headers: { origin: 'https://studio.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.ok(preflight.status === 204 || preflight.status === 200, `preflight ${preflight.status}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://studio.example');
    // The studio page itself needs no key.
    assert.equal((await fetch(`${server.url}/`)).status, 200);
  });
});
