// The real pipeline behind the API: a tiny random model, sampled by a worker process, served as an mp4.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { pipelineSource } from '../../src/server/generator.js';
import type { RunningServer } from '../../src/server/server.js';
import { createRandomModel } from '../../src/train/init.js';
import { startTestServer, tempDir } from './helpers.js';

describe('tessera serve with the real pipeline (tiny random model)', () => {
  let server: RunningServer;
  before(async () => {
    const modelDir = tempDir('tessera-serve-model-');
    await createRandomModel(modelDir);
    server = await startTestServer({ generator: pipelineSource(modelDir) });
  });
  after(async () => server?.close());

  it('renders a video through the SDK', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const [native] = server.service.capabilities.sizes;
    const size = `${native!.width}x${native!.height}`;
    const created = await client.videos.create({ prompt: 'a red ball on a meadow', size, seconds: '1', steps: 2, seed: 3 } as never);
    let v = created;
    const progress: number[] = [];
    while (v.status === 'queued' || v.status === 'in_progress') {
      await new Promise((r) => setTimeout(r, 100));
      v = await client.videos.retrieve(created.id);
      progress.push(v.progress);
    }
    assert.equal(v.status, 'completed', JSON.stringify(v.error));
    assert.equal(v.size, size);
    const mp4 = Buffer.from(await (await client.videos.downloadContent(v.id)).arrayBuffer());
    assert.equal(mp4.subarray(4, 8).toString('latin1'), 'ftyp');
  });
});
