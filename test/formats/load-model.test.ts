import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/index.js';
import { TesseraError } from '../../src/errors.js';
import { DiT } from '../../src/models/dit/index.js';
import { loadModel, registerComponent, saveModel } from '../../src/models/index.js';
import { TextEncoder, buildWordLevelTokenizer } from '../../src/models/text/index.js';
import { CausalVideoVAE } from '../../src/models/vae/index.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-model-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parts() {
  const tokenizer = buildWordLevelTokenizer(['a red ball', 'a blue cube'], { maxLength: 8 });
  return {
    vae: new CausalVideoVAE({ channels: [4, 8], downsample: ['spacetime'], groups: 4 }, new Rng(1)),
    transformer: new DiT({ hiddenSize: 32, depth: 1, numHeads: 2, textDim: 16, timestepFeatures: 16 }, new Rng(2)),
    text_encoder: new TextEncoder({ vocabSize: tokenizer.vocabSize, maxLength: 8, width: 16, layers: 1, heads: 2 }, new Rng(3)),
    tokenizer,
  };
}

test('saveModel then loadModel rebuilds every component from model_index.json', async () => {
  await withDir(async (dir) => {
    const saved = parts();
    await saveModel(dir, saved, { dtype: 'F16' });
    const index = JSON.parse(await readFile(join(dir, 'model_index.json'), 'utf8'));
    assert.deepEqual(index.vae, ['tessera', 'CausalVideoVAE']);
    assert.deepEqual(index.transformer, ['tessera', DiT.className]);

    const model = await loadModel(dir);
    assert.equal(model.className, 'TesseraPipeline');
    assert.ok(model.vae instanceof CausalVideoVAE);
    assert.ok(model.transformer instanceof DiT);
    assert.ok(model.textEncoder instanceof TextEncoder);
    assert.deepEqual([...model.tokenizer!.vocab], [...saved.tokenizer.vocab]);
    assert.deepEqual(model.vae.config, saved.vae.config);
    const w = saved.vae.encoder.convIn.weight;
    const back = model.vae.encoder.convIn.weight;
    for (let i = 0; i < w.size; i++) assert.ok(Math.abs(w.data[i]! - back.data[i]!) <= 1e-3 * Math.abs(w.data[i]!) + 1e-7);

    const onlyVae = await loadModel(dir, { only: ['vae'] });
    assert.ok(onlyVae.vae && !onlyVae.transformer && onlyVae.components.size === 1);
  });
});

test('unknown classes, swapped folders and mismatched text parts are named', async () => {
  await withDir(async (dir) => {
    await saveModel(dir, parts());
    const indexPath = join(dir, 'model_index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));

    await writeFile(indexPath, JSON.stringify({ ...index, scheduler: ['tessera', 'NoSuchScheduler'] }));
    await assert.rejects(loadModel(dir), (e: TesseraError) => e.code === 'unsupported' && /scheduler: unknown component class 'NoSuchScheduler'/.test(e.message));
    registerComponent('NoSuchScheduler', async (folder) => ({ folder }));
    const withScheduler = await loadModel(dir, { only: ['scheduler'] });
    assert.deepEqual(withScheduler.components.get('scheduler'), { folder: join(dir, 'scheduler') });

    await writeFile(indexPath, JSON.stringify({ ...index, vae: ['tessera', 'TextEncoder'] }));
    await assert.rejects(loadModel(dir, { only: ['vae'] }), /vae\/config\.json: _class_name is 'CausalVideoVAE', expected 'TextEncoder'/);

    await writeFile(indexPath, JSON.stringify(index));
    await buildWordLevelTokenizer(['other words entirely here'], { maxLength: 8 }).savePretrained(join(dir, 'tokenizer'));
    await assert.rejects(loadModel(dir), /tokenizer has 7 words .* text_encoder expects 8 words/);
    await assert.rejects(loadModel(dir, { only: ['nothing'] }), (e: TesseraError) => e.code === 'not_found');
  });
});
