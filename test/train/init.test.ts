import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, noGrad } from '../../src/engine/index.js';
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

test('a transformer grown deeper from a trained one computes what it did: the new blocks start as the identity', () => {
  const model = buildRandomModel(TINY_PRESET, 7);
  const rng = new Rng(8);
  // a trained model's gates and output projections are not zero; a fresh one's would make every block the identity
  for (const [, p] of model.transformer.namedParameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.05 * rng.normal();
  const { latentChannels, textDim, depth } = model.transformer.config;
  const input = {
    latents: Tensor.randn([2, latentChannels, 3, 8, 8], rng),
    timesteps: [0.3, 0.8],
    text: { tokens: Tensor.randn([2, 5, textDim], rng), pooled: Tensor.randn([2, textDim], rng), mask: null },
  };
  const before = noGrad(() => model.transformer.forward(input)).toArray();
  const fresh = adaptTransformer(model, { depth: depth + 2 });
  assert.equal(model.transformer.blocks.length, depth + 2);
  assert.ok(fresh.length > 0 && fresh.every((n) => n.startsWith(`blocks.${depth}.`) || n.startsWith(`blocks.${depth + 1}.`)), fresh.join(', '));
  assert.deepEqual(noGrad(() => model.transformer.forward(input)).toArray(), before);
});
