import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, Tensor, noGrad } from '../../src/engine/index.js';
import { TextEncoder, buildWordLevelTokenizer, resolveTextEncoderConfig } from '../../src/models/text/index.js';

const CORPUS = ['a red ball rolls left', 'a blue cube jumps over the green ball', 'the scene is dark'];
const SMALL = { width: 32, layers: 2, heads: 4, maxLength: 12 };

function row(t: Tensor, b: number, l: number): number[] {
  const [, length, width] = t.shape as [number, number, number];
  return [...t.data.subarray((b * length + l) * width, (b * length + l + 1) * width)];
}

test('default config is width 256, 4 layers, 4 heads', () => {
  const c = resolveTextEncoderConfig({ vocabSize: 100 });
  assert.deepEqual([c.width, c.layers, c.heads], [256, 4, 4]);
  assert.throws(() => resolveTextEncoderConfig({ vocabSize: 100, width: 30, heads: 4 }), /textEncoder\.width: 30 is not divisible by heads=4/);
});

test('shapes, mask, zeroed padding and pooled mean of real tokens', () => {
  const tokenizer = buildWordLevelTokenizer(CORPUS, { maxLength: 12 });
  const encoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, ...SMALL }, new Rng(1));
  const out = encoder.encodePrompts(tokenizer, ['a red ball', 'the blue cube jumps over the green ball']);
  assert.deepEqual(out.tokens.shape, [2, 12, 32]);
  assert.deepEqual(out.pooled.shape, [2, 32]);
  assert.deepEqual([...out.mask.subarray(0, 12)], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.ok(row(out.tokens, 0, 4).every((v) => v === 0), 'padding rows are zero');
  assert.ok(row(out.tokens, 0, 3).some((v) => v !== 0));
  const mean = Array.from({ length: 32 }, (_, d) => (row(out.tokens, 0, 0)[d]! + row(out.tokens, 0, 1)[d]! + row(out.tokens, 0, 2)[d]! + row(out.tokens, 0, 3)[d]!) / 4);
  out.pooled.data.subarray(0, 32).forEach((v, d) => assert.ok(Math.abs(v - mean[d]!) < 1e-5));
});

test('padding does not change the real tokens; the empty prompt has a defined embedding', () => {
  const fixed = buildWordLevelTokenizer(CORPUS, { maxLength: 12 });
  const longest = buildWordLevelTokenizer(CORPUS, { maxLength: 12, padding: 'longest' });
  const encoder = new TextEncoder({ vocabSize: fixed.vocabSize, ...SMALL }, new Rng(2));
  const a = encoder.encodePrompts(fixed, ['a red ball']);
  const b = encoder.encodePrompts(longest, ['a red ball']);
  assert.deepEqual(b.tokens.shape, [1, 4, 32]);
  for (let l = 0; l < 4; l++) row(a.tokens, 0, l).forEach((v, d) => assert.ok(Math.abs(v - row(b.tokens, 0, l)[d]!) < 1e-5));

  const empty = encoder.encodePrompts(fixed, ['', 'the scene is dark']);
  assert.deepEqual([...empty.mask.subarray(0, 3)], [1, 0, 0]);
  const pooled = [...empty.pooled.data.subarray(0, 32)];
  assert.ok(pooled.every(Number.isFinite) && pooled.some((v) => v !== 0));
  assert.deepEqual(pooled, row(empty.tokens, 0, 0), 'the empty prompt pools to its [CLS] token');
  const again = encoder.encodePrompts(fixed, ['']);
  assert.deepEqual([...again.pooled.data], pooled, 'and it does not depend on the batch');
});

test('gradients reach the embeddings through the pooled vector', () => {
  const tokenizer = buildWordLevelTokenizer(CORPUS, { maxLength: 8 });
  const encoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, ...SMALL, maxLength: 8 }, new Rng(3));
  const out = encoder.forward(tokenizer.encodeBatch(['a red ball']));
  out.pooled.square().sum().backward();
  const grad = encoder.tokenEmbedding.weight.grad!;
  const red = tokenizer.vocab.get('red')!;
  const blue = tokenizer.vocab.get('blue')!;
  const norm = (id: number) => {
    let sum = 0;
    for (let d = 0; d < 32; d++) sum += grad.data[id * 32 + d]! ** 2;
    return sum;
  };
  assert.ok(norm(red) > 0, 'a used word gets a gradient');
  assert.equal(norm(blue), 0, 'an unused word does not');
});

test('save and load a text encoder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-te-'));
  try {
    const tokenizer = buildWordLevelTokenizer(CORPUS, { maxLength: 12 });
    const encoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, ...SMALL }, new Rng(4));
    await encoder.savePretrained(dir, { dtype: 'BF16' });
    const back = await TextEncoder.fromPretrained(dir);
    assert.deepEqual(back.config, encoder.config);
    const a = encoder.encodePrompts(tokenizer, ['a red ball']);
    const b = back.encodePrompts(tokenizer, ['a red ball']);
    let diff = 0;
    for (let i = 0; i < a.pooled.size; i++) diff = Math.max(diff, Math.abs(a.pooled.data[i]! - b.pooled.data[i]!));
    assert.ok(diff > 0 && diff < 0.1, `bf16 weights give close but not identical outputs (diff ${diff})`);
    noGrad(() => assert.throws(() => back.encodePrompts(buildWordLevelTokenizer(['x']), ['x']), /tokenizer: vocabulary of 4 words/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rotary positions: no position table, word order still matters, padding still ignored, saved and loaded', async () => {
  assert.throws(() => resolveTextEncoderConfig({ vocabSize: 10, positions: 'sinusoid' as never }), /textEncoder\.positions: expected 'learned' or 'rotary'/);
  assert.equal(resolveTextEncoderConfig({ vocabSize: 10 }).positions, 'learned', 'folders saved before the option load as learned');
  const fixed = buildWordLevelTokenizer(CORPUS, { maxLength: 12 });
  const longest = buildWordLevelTokenizer(CORPUS, { maxLength: 12, padding: 'longest' });
  const encoder = new TextEncoder({ vocabSize: fixed.vocabSize, ...SMALL, positions: 'rotary' }, new Rng(5));
  assert.equal(encoder.positionEmbedding, undefined);
  assert.ok(!encoder.namedParameters('te').some(([name]) => name.includes('position')));

  // the same words in another order: without positions attention would see the same set
  const a = encoder.encodePrompts(fixed, ['a red ball rolls left', 'a blue ball rolls left']);
  const swapped = encoder.encodePrompts(fixed, ['a ball red rolls left']);
  const diff = Math.max(...row(a.tokens, 0, 2).map((v, d) => Math.abs(v - row(swapped.tokens, 0, 3)[d]!)));
  assert.ok(diff > 1e-3, `"red" before and after "ball" encode alike (diff ${diff})`);
  const b = encoder.encodePrompts(longest, ['a red ball rolls left']);
  for (let l = 0; l < 6; l++) row(a.tokens, 0, l).forEach((v, d) => assert.ok(Math.abs(v - row(b.tokens, 0, l)[d]!) < 1e-5));

  const dir = await mkdtemp(join(tmpdir(), 'tessera-te-rotary-'));
  try {
    await encoder.savePretrained(dir);
    const back = await TextEncoder.fromPretrained(dir);
    assert.equal(back.config.positions, 'rotary');
    assert.deepEqual([...back.encodePrompts(fixed, ['a red ball rolls left']).pooled.data], [...a.pooled.data.subarray(0, 32)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
