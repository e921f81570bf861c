import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/random.js';
import { TesseraError } from '../../src/errors.js';
import {
  loadPretrained,
  loadWeightsInto,
  readModelIndex,
  savePretrained,
  writeModelIndex,
} from '../../src/formats/model-folder.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { Linear, Module } from '../../src/nn/index.js';

class TwoLayer extends Module {
  first: Linear;
  second: Linear;
  constructor(width: number, seed: number) {
    super();
    const rng = new Rng(seed);
    this.first = new Linear(4, width, { rng });
    this.second = new Linear(width, 2, { rng });
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-mf-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rejectsWith(code: string, ...patterns: RegExp[]) {
  return (e: unknown) => {
    assert.ok(e instanceof TesseraError, String(e));
    assert.equal(e.code, code);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

test('savePretrained then loadPretrained restores config and weights', async () => {
  await withDir(async (dir) => {
    const source = new TwoLayer(8, 1);
    await savePretrained(source, { width: 8 }, join(dir, 'vae'), { className: 'TwoLayer' });
    const loaded = await loadPretrained(join(dir, 'vae'));
    assert.equal(loaded.className, 'TwoLayer');
    assert.deepEqual(loaded.config, { width: 8 });
    const target = new TwoLayer(8, 2);
    assert.notDeepEqual([...target.first.weight.data], [...source.first.weight.data]);
    loadWeightsInto(target, loaded.stateDict, join(dir, 'vae'));
    for (const [name, t] of source.stateDict()) assert.deepEqual([...target.stateDict().get(name)!.data], [...t.data], name);
  });
});

test('model_index.json lists components in diffusers form', async () => {
  await withDir(async (dir) => {
    await writeModelIndex(dir, { className: 'TesseraPipeline', components: { vae: 'CausalVideoVAE', tokenizer: 'WordLevelTokenizer' } });
    assert.deepEqual(await readModelIndex(dir), {
      className: 'TesseraPipeline',
      components: { vae: 'CausalVideoVAE', tokenizer: 'WordLevelTokenizer' },
    });
    await writeFile(join(dir, 'model_index.json'), '{"vae": 3}');
    await assert.rejects(readModelIndex(dir), rejectsWith('corrupt_file', /model_index\.json/, /'vae'/));
  });
});

test('missing files are named', async () => {
  await withDir(async (dir) => {
    await assert.rejects(readModelIndex(dir), rejectsWith('not_found', /model_index\.json/));
    await assert.rejects(loadPretrained(join(dir, 'vae')), rejectsWith('not_found', /vae\/config\.json/));
    await savePretrained(new TwoLayer(8, 1), { width: 8 }, join(dir, 'vae'), { className: 'TwoLayer' });
    await unlink(join(dir, 'vae', 'model.safetensors'));
    await assert.rejects(loadPretrained(join(dir, 'vae')), rejectsWith('not_found', /vae\/model\.safetensors/));
  });
});

test('missing, unexpected and misshapen tensors are named with both shapes', async () => {
  await withDir(async (dir) => {
    const model = new TwoLayer(8, 1);
    await savePretrained(new TwoLayer(16, 1), { width: 16 }, join(dir, 'wide'), { className: 'TwoLayer' });
    const wide = await loadPretrained(join(dir, 'wide'));
    assert.throws(
      () => loadWeightsInto(model, wide.stateDict, 'wide'),
      rejectsWith('shape_mismatch', /tensor 'first\.weight' has shape \[16, 4\], the model expects \[8, 4\]/),
    );

    const sd = new Map(model.stateDict());
    sd.delete('second.bias');
    await writeSafetensors(join(dir, 'partial', 'model.safetensors'), sd);
    await writeFile(join(dir, 'partial', 'config.json'), '{"_class_name": "TwoLayer"}');
    const partial = await loadPretrained(join(dir, 'partial'));
    assert.throws(() => loadWeightsInto(model, partial.stateDict, 'partial'), rejectsWith('corrupt_file', /missing tensors 'second\.bias'/));

    partial.stateDict.set('second.bias', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    partial.stateDict.set('third.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    assert.throws(() => loadWeightsInto(model, partial.stateDict, 'partial'), rejectsWith('corrupt_file', /unexpected tensors 'third\.weight'/));
  });
});

test('weights split over several files are merged; a duplicate tensor is an error', async () => {
  await withDir(async (dir) => {
    const model = new TwoLayer(8, 1);
    const sd = [...model.stateDict()];
    await writeFile(join(dir, 'config.json'), '{"_class_name": "TwoLayer", "_tessera_version": "0.1.0"}');
    await writeSafetensors(join(dir, 'model-00001.safetensors'), sd.slice(0, 2));
    await writeSafetensors(join(dir, 'model-00002.safetensors'), sd.slice(2), { dtype: 'BF16' });
    const loaded = await loadPretrained(dir);
    assert.equal(loaded.stateDict.size, 4);
    loadWeightsInto(new TwoLayer(8, 3), loaded.stateDict, dir);
    await writeSafetensors(join(dir, 'model-00003.safetensors'), sd.slice(0, 1));
    await assert.rejects(loadPretrained(dir), rejectsWith('corrupt_file', /model-00003\.safetensors: tensor 'first\.weight' is also in/));
  });
});
