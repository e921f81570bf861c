/** `"extends"` in run configs: a config that names another gives only what it changes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrainConfig } from '../../src/train/config.js';
import { tinyDitConfig } from './tiny-run.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-extends-'));
const write = (path: string, json: unknown) => writeFileSync(join(work, path), JSON.stringify(json));

const base = tinyDitConfig('runs/base', 'runs/vae', {
  data: {
    buckets: [{ width: 32, height: 32, frames: 9, batch: 1, weight: 1 }, { width: 32, height: 32, frames: 1, batch: 2, weight: 1 }],
    objectWeight: 3, objectWeightMaxTime: 0.7,
  },
});
write('base.json', base);

test('a config that extends another merges objects key by key and replaces arrays', async () => {
  mkdirSync(join(work, 'sub'), { recursive: true });
  write('sub/child.json', {
    extends: '../base.json', runDir: 'runs/child',
    data: { objectWeight: 2, buckets: [{ width: 64, height: 64, frames: 17, batch: 1, weight: 1 }] },
  });
  const parent = await readTrainConfig(join(work, 'base.json'));
  const child = await readTrainConfig(join(work, 'sub/child.json'));
  assert.equal(child.runDir, 'runs/child');
  assert.equal(child.data.objectWeight, 2);
  assert.equal(child.data.objectWeightMaxTime, 0.7, 'a data field the child does not name is the base\'s');
  assert.deepEqual(child.data.buckets.map((b) => [b.width, b.frames]), [[64, 17]], 'an array replaces the base\'s');
  assert.deepEqual(child.optim, parent.optim);
  assert.equal(child.vaeFrom, parent.vaeFrom);
});

test('extends chains are followed', async () => {
  write('middle.json', { extends: 'base.json', runDir: 'runs/middle', optim: { lr: 0.001 } });
  write('leaf.json', { extends: 'middle.json', runDir: 'runs/leaf', data: { captionDropout: 0.2 } });
  const leaf = await readTrainConfig(join(work, 'leaf.json'));
  assert.equal(leaf.runDir, 'runs/leaf');
  assert.equal(leaf.optim.lr, 0.001);
  assert.equal(leaf.optim.totalSteps, 3);
  assert.equal(leaf.data.captionDropout, 0.2);
  assert.equal(leaf.data.objectWeight, 3);
});

test('a cycle, a missing base and a base that is not a path are named', async () => {
  write('a.json', { extends: 'b.json', runDir: 'runs/a' });
  write('b.json', { extends: 'a.json', runDir: 'runs/b' });
  await assert.rejects(readTrainConfig(join(work, 'a.json')), /extends.*cycle/);
  write('orphan.json', { extends: 'nowhere.json', runDir: 'runs/orphan' });
  await assert.rejects(readTrainConfig(join(work, 'orphan.json')), (e: Error) => /orphan\.json: extends: cannot read .*nowhere\.json/.test(e.message));
  write('bad.json', { extends: 7, runDir: 'runs/bad' });
  await assert.rejects(readTrainConfig(join(work, 'bad.json')), /bad\.json: extends.*expected the path of another config, got 7/);
  write('self.json', { extends: 'self.json', runDir: 'runs/self' });
  await assert.rejects(readTrainConfig(join(work, 'self.json')), /cycle/);
});

test('a field the merged config gets wrong is still named with what was expected', async () => {
  write('wrong.json', { extends: 'base.json', runDir: 'runs/wrong', data: { objectWeight: -1 } });
  await assert.rejects(readTrainConfig(join(work, 'wrong.json')), /objectWeight/);
});

test('a config that extends another must name its own run folder, so it cannot resume the base\'s run', async () => {
  write('no-run-dir.json', { extends: 'base.json', data: { objectWeight: 1 } });
  await assert.rejects(readTrainConfig(join(work, 'no-run-dir.json')), /no-run-dir\.json: runDir: a config that extends another must name its own run folder/);
});
