// kill -9 the server while it renders, start it again on the same data folder: every job completes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { VideoObject } from '../../src/server/types.js';
import { tempDir, waitForVideo } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/serve-child.ts', import.meta.url));

async function spawnServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, 'stepMs=25'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return { child, url };
}

const post = async (url: string, body: unknown) =>
  (await (await fetch(`${url}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as VideoObject;

describe('crash recovery', () => {
  it('loses no job when the server is killed mid-generation', async () => {
    const dataDir = tempDir('tessera-crash-');
    const first = await spawnServer(dataDir);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await post(first.url, { prompt: `crash job ${i}`, seconds: 1, steps: 20, seed: i })).id);
    // Wait until the first job is rendering and has made progress, then kill the server without warning.
    let v: VideoObject;
    do {
      await sleep(20);
      v = (await (await fetch(`${first.url}/v1/videos/${ids[0]}`)).json()) as VideoObject;
    } while (!(v.status === 'in_progress' && v.progress > 0));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await spawnServer(dataDir);
    try {
      const finals = await Promise.all(ids.map((id) => waitForVideo(second.url, id, 30_000)));
      assert.deepEqual(finals.map((f) => f.status), ['completed', 'completed', 'completed', 'completed']);
      for (const id of ids) {
        const res = await fetch(`${second.url}/v1/videos/${id}/content`);
        assert.equal(res.status, 200);
        assert.ok((await res.arrayBuffer()).byteLength > 0);
      }
      // Atomic writes leave no temp files behind, even for the job that was killed mid-render.
      for (const id of ids) assert.deepEqual(readdirSync(join(dataDir, 'videos', id)).filter((f) => f.startsWith('.')), []);
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
