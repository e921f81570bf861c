import OpenAI, { toFile } from 'openai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server/server.js';
import { TEST_GENERATOR_URL } from './fixtures/test-generator.js';
const t0 = Date.now();
const s = await startServer({ dataDir: mkdtempSync(join(tmpdir(), 'tsrv-')), port: 0, generator: { moduleUrl: TEST_GENERATOR_URL, modelDir: 'stepMs=5' }, pollAfterMs: 50 });
console.log('started', s.url, Date.now() - t0);
const c = new OpenAI({ apiKey: 'x', baseURL: s.url + '/v1' });
let v = await c.videos.create({ prompt: 'a red ball', seconds: '2' as any, size: '64x64' as any });
console.log(v);
while (v.status === 'queued' || v.status === 'in_progress') { await new Promise(r => setTimeout(r, 50)); v = await c.videos.retrieve(v.id); }
console.log(v);
const r = await c.videos.downloadContent(v.id);
console.log(r.headers.get('content-type'), (await r.arrayBuffer()).byteLength);
await s.close();
