// The job store, output folders and expiry, without HTTP.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OutputFiles, newVideoId } from '../../src/server/files.js';
import { RateLimiter } from '../../src/server/rate-limit.js';
import { VideoService } from '../../src/server/service.js';
import { JobStore } from '../../src/server/store.js';
import type { JobQueue } from '../../src/server/queue.js';
import type { JobParams } from '../../src/server/types.js';
import { tempDir } from './helpers.js';

const params: JobParams = { kind: 'create', prompt: 'p', width: 64, height: 64, frames: 8, fps: 8, seed: 1 };
const insert = (store: JobStore, id = newVideoId(), createdAt = 1000) =>
  store.insert({ id, model: 'm', createdAt, seconds: '1', size: '64x64', remixedFromVideoId: null, owner: null, params });

describe('JobStore', () => {
  it('pages in creation order from a cursor, both ways', () => {
    const store = new JobStore(join(tempDir(), 'db.sqlite'));
    const ids = Array.from({ length: 5 }, () => insert(store).id);
    const desc = store.list({ owner: null, limit: 2, order: 'desc' })!;
    assert.deepEqual(desc.data.map((r) => r.id), [ids[4], ids[3]]);
    assert.equal(desc.hasMore, true);
    const asc = store.list({ owner: null, limit: 10, order: 'asc', after: ids[1] })!;
    assert.deepEqual(asc.data.map((r) => r.id), ids.slice(2));
    assert.equal(asc.hasMore, false);
    assert.equal(store.list({ owner: null, limit: 2, order: 'asc', after: newVideoId() }), undefined);
    store.close();
  });

  it('re-queues interrupted jobs, keeps progress monotonic, and survives reopening', () => {
    const path = join(tempDir(), 'db.sqlite');
    let store = new JobStore(path);
    const a = insert(store).id;
    const b = insert(store).id;
    assert.equal(store.markStarted(a, 1001), true);
    store.setProgress(a, 40);
    store.setProgress(a, 30);
    assert.equal(store.get(a)!.progress, 40);
    store.close();
    store = new JobStore(path);
    assert.equal(store.requeueInterrupted(), 1);
    assert.deepEqual(store.withStatus('queued').map((r) => r.id), [a, b]);
    assert.equal(store.get(a)!.progress, 0);
    assert.deepEqual(store.get(b)!.params, params);
    store.close();
  });
});

describe('OutputFiles', () => {
  it('refuses ids that are not video ids, so no path leaves the root', () => {
    const files = new OutputFiles(tempDir());
    for (const bad of ['../etc', 'video_../../x', `video_${'0'.repeat(31)}/`, '', `video_${'g'.repeat(32)}`, `/video_${'0'.repeat(32)}`]) {
      assert.throws(() => files.dir(bad), /video_id/);
    }
    const id = newVideoId();
    assert.equal(files.dir(id), join(files.root, id));
    assert.throws(() => files.path(id, '../x'));
  });

  it('round-trips raw frames', async () => {
    const files = new OutputFiles(tempDir());
    const id = newVideoId();
    const clip = { frames: 2, height: 2, width: 3, fps: 8, data: Uint8Array.from({ length: 36 }, (_, i) => i) };
    await files.writeClip(id, clip);
    assert.deepEqual(await files.readClip(id), clip);
  });
});

describe('expiry', () => {
  it('deletes finished videos and their files once they expire', async () => {
    const dir = tempDir();
    const store = new JobStore(join(dir, 'db.sqlite'));
    const files = new OutputFiles(join(dir, 'videos'));
    let nowMs = 1_000_000;
    const queue: JobQueue = { start: async () => undefined, enqueue: async () => {}, cancel: async () => {}, close: async () => {} };
    const caps = { model: 'm', sizes: [{ width: 64, height: 64 }], maxFrames: 16, defaultFps: 8, defaultSteps: 2, defaultGuidance: 1 };
    const service = new VideoService({ store, files, queue, capabilities: caps, limits: { maxPromptChars: 100, maxUploadBytes: 1000 }, ttlSeconds: 60, maxOpenJobs: 10, now: () => nowMs });
    const rec = await service.create({ fields: { prompt: 'x', seconds: 1 }, files: {} }, null);
    assert.equal(service.started(rec.id), true);
    await files.writeFile(rec.id, 'video.mp4', new Uint8Array([1]));
    service.completed(rec.id, { seconds: '1', frames: 8 });
    assert.equal(store.get(rec.id)!.expiresAt, 1000 + 60);
    assert.deepEqual(await service.sweepExpired(), []);
    nowMs += 61_000;
    assert.deepEqual(await service.sweepExpired(), [rec.id]);
    assert.equal(store.get(rec.id), undefined);
    assert.equal(existsSync(files.dir(rec.id)), false);
    store.close();
  });
});

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then says how long to wait, then refills', () => {
    let t = 0;
    const limiter = new RateLimiter(3, () => t);
    assert.deepEqual([limiter.take('k'), limiter.take('k'), limiter.take('k')], [0, 0, 0]);
    assert.equal(limiter.take('k'), 20);
    assert.equal(limiter.take('other'), 0);
    t += 20_000;
    assert.equal(limiter.take('k'), 0);
  });
});
