/** Training on a user's folder of captioned videos, resumable like the world stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderScene, randomSpec } from '../../src/world/index.js';
import { writeVideo } from '../../src/media/index.js';
import { parseTrainConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/train/run.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint.js';

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
