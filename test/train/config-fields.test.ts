import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainConfig, readTrainConfig } from '../../src/train/config.js';

type Section = Record<string, unknown>;
type Config = Section & { optim: Section; data: Section & { buckets: Section[] }; vaeLoss: Section };
const base = (): Config => ({
  task: 'dit', runDir: 'runs/x', vaeFrom: 'models/vae', optim: { totalSteps: 10, lr: 1e-4 },
  data: { source: 'world', buckets: [{ width: 32, height: 32, frames: 1, batch: 1, weight: 1 }] },
  vaeLoss: {},
});

test('a misspelt field anywhere in a run config is named, not ignored', () => {
  assert.doesNotThrow(() => parseTrainConfig(base(), 'c.json'));
  const cases: [string, (c: ReturnType<typeof base>) => void][] = [
    ['c\\.json\\.maxMinute: unknown field; expected one of task, runDir', (c) => { c.maxMinute = 5; }],
    ['c\\.json\\.data\\.objectWieght: unknown field; expected one of source, folder, buckets', (c) => { c.data.objectWieght = 2; }],
    ['c\\.json\\.data\\.buckets\\[0\\]\\.frame: unknown field', (c) => { c.data.buckets[0]!.frame = 17; }],
    ['c\\.json\\.optim\\.learningRate: unknown field', (c) => { c.optim.learningRate = 1e-3; }],
    ['c\\.json\\.vaeLoss\\.kl: unknown field', (c) => { c.vaeLoss.kl = 1; }],
  ];
  for (const [message, spoil] of cases) {
    const c = base();
    spoil(c);
    assert.throws(() => parseTrainConfig(c, 'c.json'), new RegExp(message));
  }
});

test('every shipped config reads cleanly, "extends" included', async () => {
  const dir = 'configs';
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const file = join(dir, name);
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const config = await readTrainConfig(file);
    assert.ok(config.runDir, `${file}: runDir`);
    if (!('extends' in raw)) assert.equal(config.task, raw.task, `${file}: task`);
  }
});
