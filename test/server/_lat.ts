import { startTestServer, testGenerator } from './helpers.js';
const s = await startTestServer({ generator: testGenerator('stepMs=1,steps=2') });
const r = await fetch(`${s.url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', seconds: 0.5 }) });
const { id } = await r.json() as any;
const lat: number[] = [];
for (let i = 0; i < 300; i++) { const t = performance.now(); await (await fetch(`${s.url}/v1/videos/${id}`)).json(); lat.push(performance.now() - t); }
lat.sort((a, b) => a - b);
console.log('seq GET p50', lat[150].toFixed(2), 'p99', lat[297].toFixed(2));
const t = performance.now();
for (let i = 0; i < 50; i++) await fetch(`${s.url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', seconds: 0.5 }) }).then(r => r.json());
console.log('seq create avg', ((performance.now() - t) / 50).toFixed(2));
await s.close();
