/** Training on a user's folder of captioned videos: shuffled, resumable like the world stream, latents kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderScene, randomSpec } from '../../src/world/index.js';
import { writeVideo } from '../../src/media/index.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint.js';
import { FolderClipSource } from '../../src/train/sources.js';
import { LatentCache } from '../../src/train/latent-cache.js';
import { Tensor } from '../../src/engine/index.js';
import { saveTinyVae, tinyDitConfig } from './tiny-run.js';

test('a VAE trains on a video folder and resumes from the same place', async () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-folder-'));
  const videos = join(work, 'videos');
  const lines: string[] = [];
  for (let i = 0; i < 2; i++) {
    const clip = renderScene(randomSpec(40 + i, { width: 64, height: 48, frames: 12, fps: 8 }));
    await writeVideo(join(videos, `v${i}.mp4`), clip);
    lines.push(JSON.stringify({ file: `v${i}.mp4`, caption: `video number ${i}` }));
  }
  writeFileSync(join(videos, 'captions.jsonl'), lines.join('\n') + '\n');
  const config = (runDir: string) => parseTrainConfig({
    task: 'vae', runDir, seed: 1, preset: 'tiny',
    data: { source: 'folder', folder: videos, buckets: [{ width: 32, height: 32, frames: 5, batch: 1 }] },
    optim: { lr: 0.001, warmupSteps: 1, totalSteps: 5 }, checkpointEvery: 2, logEvery: 1,
  });
  const straight = await runTraining(config(join(work, 'a')));
  assert.equal(straight.step, 5);
  await runTraining(config(join(work, 'b')), { stopAtStep: 3 });
  await runTraining(config(join(work, 'b')));
  const a = await loadLatestCheckpoint(join(work, 'a'));
  const b = await loadLatestCheckpoint(join(work, 'b'));
  assert.deepEqual(b!.meta.cursor, a!.meta.cursor);
  for (const [k, w] of a!.weights) assert.deepEqual(b!.weights.get(k)!.data, w.data, k);
});

test('a folder source visits the videos in a new order every epoch and draws clips from a shuffle buffer, once each an epoch', async () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-folder-shuffle-'));
  const lines: string[] = [];
  for (let i = 0; i < 3; i++) {
    await writeVideo(join(work, `v${i}.mp4`), renderScene(randomSpec(60 + i, { width: 64, height: 48, frames: 12, fps: 8 })));
    lines.push(JSON.stringify({ file: `v${i}.mp4`, caption: `video ${i}` }));
  }
  writeFileSync(join(work, 'captions.jsonl'), lines.join('\n') + '\n');
  const bucket = { width: 32, height: 32, frames: 5, batch: 2, weight: 1 };
  const names = async (source: FolderClipSource, batches: number) => {
    const out: string[] = [];
    for (let i = 0; i < batches; i++) out.push(...(await source.nextBatch(bucket, 2)).captions);
    return out;
  };
  // two clips a video (frames 0-4 and 5-9 of 12): the folder's order keeps a video's clips together
  const inOrder = await names(new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 1 }), 3);
  assert.deepEqual(inOrder, ['video 0', 'video 0', 'video 1', 'video 1', 'video 2', 'video 2']);

  const shuffled = new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 3 });
  const epoch1 = await names(shuffled, 3);
  const epoch2 = await names(shuffled, 3);
  for (const epoch of [epoch1, epoch2]) assert.deepEqual([...epoch].sort(), inOrder, 'every clip once an epoch');
  assert.notDeepEqual(epoch1, inOrder);
  assert.notDeepEqual(epoch2, epoch1, 'each epoch its own order');

  // resuming from a cursor replays the same draws
  const first = new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 3 });
  await names(first, 4);
  const resumed = new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 3 });
  resumed.seek(first.cursor());
  assert.deepEqual(await names(resumed, 3), await names(first, 3));
  assert.deepEqual(resumed.cursor(), first.cursor());
  // the cursor says where the stream stands, so a resume reads only the held clips: a stream placed at the third
  // video of the folder's order goes on from there
  const placed = new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 1 });
  const cursor = placed.cursor() as Record<string, { next: { video: number; clip: number } }>;
  cursor['32x32x5']!.next = { video: 2, clip: 1 };
  placed.seek(cursor);
  assert.deepEqual(await names(placed, 1), ['video 2', 'video 0']);
  // a cursor of the earlier kind (clips taken per bucket) is replayed
  const legacy = new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 1 });
  legacy.seek({ '32x32x5': 3 });
  assert.deepEqual(await names(legacy, 1), ['video 1', 'video 2']);
  assert.throws(() => new FolderClipSource(work, [bucket], { seed: 1, shuffleBuffer: 0 }), /shuffleBuffer: expected a positive integer, got 0/);
});

test('data.shuffleBuffer: 64 by default for a folder, refused for the world stream', () => {
  const folder = (data: object) => parseTrainConfig({ task: 'vae', runDir: 'runs/x', optim: { totalSteps: 10, lr: 1e-3 }, data: { source: 'folder', folder: 'videos', buckets: [{ width: 32, height: 32, frames: 5, batch: 1 }], ...data } });
  assert.equal(folder({}).data.shuffleBuffer, 64);
  assert.equal(folder({ shuffleBuffer: 1 }).data.shuffleBuffer, 1);
  assert.throws(() => folder({ shuffleBuffer: 0 }), /config\.data\.shuffleBuffer/);
  assert.throws(() => folder({ shuffleBuffer: 2.5 }), /config\.data\.shuffleBuffer/);
  const world = { task: 'vae', runDir: 'runs/x', optim: { totalSteps: 10, lr: 1e-3 }, data: { buckets: [{ width: 32, height: 32, frames: 5, batch: 1 }] } };
  assert.equal(parseTrainConfig(world).data.shuffleBuffer, undefined);
  assert.throws(() => parseTrainConfig({ ...world, data: { ...world.data, shuffleBuffer: 8 } }), /config\.data\.shuffleBuffer: only a folder source is shuffled/);
});

test('a DiT run on a folder keeps clip latents: the same weights as encoding every step, without encoding a clip twice', async () => {
  const work = mkdtempSync(join(tmpdir(), 'tessera-folder-latents-'));
  const videos = join(work, 'videos');
  const lines: string[] = [];
  for (let i = 0; i < 2; i++) {
    await writeVideo(join(videos, `v${i}.mp4`), renderScene(randomSpec(70 + i, { width: 64, height: 48, frames: 18, fps: 8 })));
    lines.push(JSON.stringify({ file: `v${i}.mp4`, caption: `a video number ${i}` }));
  }
  writeFileSync(join(videos, 'captions.jsonl'), lines.join('\n') + '\n');
  const vae = await saveTinyVae(join(work, 'vae'));
  // two clips of 9 frames a video, four in all; batches of 2, so an epoch is two steps
  const config = (runDir: string, latentCacheMB: number) => parseTrainConfig(tinyDitConfig(runDir, vae, {
    data: { source: 'folder', folder: videos, buckets: [{ width: 32, height: 32, frames: 9, batch: 2, weight: 1 }], shuffleBuffer: 3, latentCacheMB },
    optim: { totalSteps: 6 }, checkpointEvery: 6,
  }));
  assert.equal(config(join(work, 'x'), 1024).data.latentCacheMB, 1024);
  const cached = await runTraining(config(join(work, 'cached'), 1024));
  const plain = await runTraining(config(join(work, 'plain'), 0));
  assert.equal(cached.step, 6);
  const a = await loadLatestCheckpoint(join(work, 'cached'));
  const b = await loadLatestCheckpoint(join(work, 'plain'));
  for (const [k, w] of a!.weights) assert.deepEqual(w.data, b!.weights.get(k)!.data, k);
  // 12 clips drawn from 4: only the first epoch's four were encoded
  const metrics = readFileSync(join(work, 'cached', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.at(-1).latent_cache_hits, 8 / 12);
  assert.ok(!readFileSync(join(work, 'plain', 'metrics.jsonl'), 'utf8').includes('latent_cache_hits'));
  assert.throws(() => parseTrainConfig(tinyDitConfig(join(work, 'w'), vae, { data: { latentCacheMB: 8 } })), /data\.latentCacheMB: only a DiT run on a folder keeps latents/);
});

test('the latent cache keeps entries first come until its budget is spent', () => {
  const cache = new LatentCache(2 * 4 * 4);  // two latents of 4 floats
  const clip = (v: number) => ({ width: 1, height: 1, frames: 1, fps: 8, data: new Uint8Array(3).fill(v) });
  let encoded = 0;
  const encode = (clips: { data: Uint8Array }[]) => {
    encoded += clips.length;
    return Tensor.from(clips.flatMap((c) => [c.data[0]!, 1, 2, 3]), [clips.length, 4, 1, 1, 1]);
  };
  const first = cache.batch(['a', 'b', 'c'], [clip(10), clip(20), clip(30)], encode);
  assert.deepEqual(Array.from(first.data.subarray(0, 9)), [10, 1, 2, 3, 20, 1, 2, 3, 30]);
  assert.equal(cache.size, 2, 'c does not fit');
  const second = cache.batch(['c', 'a', 'b'], [clip(30), clip(10), clip(20)], encode);
  assert.deepEqual(Array.from(second.data).filter((_, i) => i % 4 === 0), [30, 10, 20]);
  assert.equal(encoded, 4, 'only c encoded again');
  assert.deepEqual([cache.hits, cache.misses, cache.usedBytes], [2, 4, 32]);
  second.data[4] = -1;
  assert.equal(cache.batch(['a'], [clip(10)], encode).data[0], 10, 'a returned batch does not share the kept latents');
});
