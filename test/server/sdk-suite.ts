// The official `openai` SDK, unmodified, against a running Tessera server: every videos method end to end.
// Shared by test/server/sdk.test.ts (local worker processes) and test-e2e/redis.test.ts (BullMQ workers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, { NotFoundError, toFile } from 'openai';
import { pngBytes, waitForVideo } from './helpers.js';

const isMp4 = (b: Buffer) => b.subarray(4, 8).toString('latin1') === 'ftyp';
const isWebp = (b: Buffer) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP';
const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8;

export interface ServerUnderTest {
  url: string;
  close(): Promise<void>;
}

export function defineSdkSuite(name: string, start: () => Promise<ServerUnderTest>): void {
  describe(name, () => {
    let server: ServerUnderTest;
    let client: OpenAI;
    before(async () => {
      server = await start();
      client = new OpenAI({ apiKey: 'unused', baseURL: `${server.url}/v1`, maxRetries: 0 });
    });
    after(async () => server?.close());

    async function poll(id: string) {
      const seen: number[] = [];
      for (;;) {
        const v = await client.videos.retrieve(id);
        seen.push(v.progress);
        if (v.status === 'completed' || v.status === 'failed') return { video: v, progress: seen };
        await sleep(20);
      }
    }

    it('creates (multipart), reports progress, completes and serves every variant', async () => {
      const created = await client.videos.create({ prompt: 'a red ball rolls across a table', seconds: '2' as never, size: '64x64' as never });
      assert.equal(created.object, 'video');
      assert.match(created.id, /^video_[0-9a-f]{32}$/);
      assert.equal(created.status, 'queued');
      assert.equal(created.seconds, '2');
      assert.equal(created.size, '64x64');
      const { video, progress } = await poll(created.id);
      assert.equal(video.status, 'completed', JSON.stringify(video.error));
      assert.equal(video.progress, 100);
      assert.ok(video.completed_at! >= video.created_at);
      assert.ok(video.expires_at! > video.completed_at!);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!, `progress went back: ${progress}`);

      const mp4 = await client.videos.downloadContent(created.id);
      assert.equal(mp4.headers.get('content-type'), 'video/mp4');
      assert.ok(isMp4(Buffer.from(await mp4.arrayBuffer())));
      const thumb = await client.videos.downloadContent(created.id, { variant: 'thumbnail' });
      assert.equal(thumb.headers.get('content-type'), 'image/webp');
      assert.ok(isWebp(Buffer.from(await thumb.arrayBuffer())));
      const sprites = await client.videos.downloadContent(created.id, { variant: 'spritesheet' });
      assert.equal(sprites.headers.get('content-type'), 'image/jpeg');
      assert.ok(isJpeg(Buffer.from(await sprites.arrayBuffer())));
    });

    it('creates from JSON (older SDKs, curl) with numeric seconds and a data: URL image', async () => {
      const png = await pngBytes(64, 64);
      const res = await fetch(`${server.url}/v1/videos`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'a green field', seconds: 1, size: '64x64', seed: 7, input_reference: { image_url: `data:image/png;base64,${png.toString('base64')}` } }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(res.headers.get('openai-poll-after-ms'), '50');
      const v = (await res.json()) as { id: string; seconds: string };
      assert.equal(v.seconds, '1');
      assert.equal((await waitForVideo(server.url, v.id)).status, 'completed');
    });

    it('creates with an uploaded image sent as application/octet-stream (sniffed from its bytes)', async () => {
      const file = await toFile(await pngBytes(64, 64), 'frame.bin', { type: 'application/octet-stream' });
      const v = await client.videos.create({ prompt: 'the ball starts to move', input_reference: file, size: '64x64' as never, seconds: '1' as never });
      const { video } = await poll(v.id);
      assert.equal(video.status, 'completed', JSON.stringify(video.error));
    });

    it('creates with input_reference[image_url] in multipart', async () => {
      const png = await pngBytes(8, 8);
      const v = await client.videos.create({ prompt: 'zoom in', input_reference: { image_url: `data:image/png;base64,${png.toString('base64')}` }, seconds: '1' as never });
      assert.equal((await poll(v.id)).video.status, 'completed');
    });

    it('lists with cursor pagination in both orders', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await client.videos.create({ prompt: `page item ${i}`, seconds: '1' as never })).id);
      const first = await client.videos.list({ limit: 2, order: 'desc' });
      assert.equal(first.data.length, 2);
      assert.deepEqual(first.data.map((v) => v.id), [ids[4], ids[3]]);
      assert.equal(first.has_more, true);
      const second = await client.videos.list({ limit: 2, order: 'desc', after: first.data[1]!.id });
      assert.deepEqual(second.data.map((v) => v.id), [ids[2], ids[1]]);
      const asc: string[] = [];
      for await (const v of client.videos.list({ limit: 3, order: 'asc' })) asc.push(v.id);
      assert.deepEqual(asc.slice(-5), ids);
      assert.equal(new Set(asc).size, asc.length);
      for (const id of ids) await waitForVideo(server.url, id);
    });

    it('remixes, edits and extends a completed video', async () => {
      const src = await client.videos.create({ prompt: 'a boat on a lake', seconds: '1' as never, size: '96x64' as never });
      await poll(src.id);
      const remix = await client.videos.remix(src.id, { prompt: 'a boat on a lake at night' });
      assert.equal(remix.remixed_from_video_id, src.id);
      assert.equal(remix.size, '96x64');
      const edit = await client.videos.edit({ prompt: 'make it snow', video: { id: src.id } });
      const extension = await client.videos.extend({ prompt: 'the boat reaches the shore', video: { id: src.id }, seconds: '2' as never });
      assert.equal(extension.seconds, '3', 'an extension reports the stitched total');
      for (const v of [remix, edit, extension]) {
        const { video } = await poll(v.id);
        assert.equal(video.status, 'completed', `${v.id}: ${JSON.stringify(video.error)}`);
        const bytes = Buffer.from(await (await client.videos.downloadContent(v.id)).arrayBuffer());
        assert.ok(isMp4(bytes));
      }
    });

    it('deletes a video while it renders, and the worker moves on', async () => {
      const slow = await client.videos.create({ prompt: 'a very slow render', seconds: '1', steps: 200 } as never);
      for (let v = slow; v.status !== 'in_progress'; v = await client.videos.retrieve(slow.id)) await sleep(10);
      const deleted = await client.videos.delete(slow.id);
      assert.deepEqual(deleted, { id: slow.id, object: 'video.deleted', deleted: true });
      await assert.rejects(client.videos.retrieve(slow.id), NotFoundError);
      const next = await client.videos.create({ prompt: 'after the cancel', seconds: '1' as never });
      assert.equal((await poll(next.id)).video.status, 'completed');
    });

    it('reports a failed generation with its error, and refuses its content with 409', async () => {
      const v = await client.videos.create({ prompt: 'please [fail]', seconds: '1' as never });
      const { video } = await poll(v.id);
      assert.equal(video.status, 'failed');
      assert.equal(video.error?.code, 'unsupported');
      await assert.rejects(client.videos.downloadContent(v.id), (e: { status?: number }) => e.status === 409);
    });
  });
}
