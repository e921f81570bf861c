import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { CausalVideoVAE } from '../../src/models/vae/index.js';
import { adaptTransformer, buildRandomModel, TINY_PRESET } from '../../src/train/init.js';

test('a transformer moved onto a wider VAE keeps every tensor that still fits', () => {
  const model = buildRandomModel(TINY_PRESET, 3);
  const before = model.transformer.stateDict();
  assert.deepEqual(adaptTransformer(model), [], 'same latent width: nothing to do');
  assert.equal(model.transformer.stateDict().get('blocks.0.attn.qkv.weight'), before.get('blocks.0.attn.qkv.weight'));

  model.vae = new CausalVideoVAE({ ...TINY_PRESET.vae, latentChannels: 8 }, new Rng(4));
  const fresh = adaptTransformer(model);
  assert.equal(model.transformer.config.latentChannels, 8);
  assert.ok(fresh.length > 0 && fresh.length <= 4, `fresh: ${fresh.join(', ')}`);
  assert.ok(fresh.some((n) => n.startsWith('patchEmbed')) && fresh.some((n) => n.startsWith('final')), fresh.join(', '));
  for (const [name, t] of model.transformer.stateDict()) {
    if (fresh.includes(name)) continue;
    assert.deepEqual(t.data, before.get(name)!.data, `${name} was kept`);
  }
});

test('a run can change the patch size of a transformer it starts from: the blocks are kept', () => {
  const model = buildRandomModel(TINY_PRESET, 5);
  const before = model.transformer.stateDict();
  const fresh = adaptTransformer(model, { patchSize: [1, 4, 4] });
  assert.deepEqual(model.transformer.config.patchSize, [1, 4, 4]);
  assert.ok(fresh.some((n) => n.startsWith('patchEmbed')) && fresh.some((n) => n.startsWith('final')), fresh.join(', '));
  assert.ok(!fresh.some((n) => n.startsWith('blocks.')), `blocks kept: ${fresh.join(', ')}`);
  assert.deepEqual(model.transformer.stateDict().get('blocks.0.mlp.fc1.weight')?.data, before.get('blocks.0.mlp.fc1.weight')?.data);
  assert.deepEqual(adaptTransformer(model, { patchSize: [1, 4, 4] }), [], 'already in that shape: nothing to do');
});
