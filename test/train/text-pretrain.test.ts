import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { TextEncoder } from '../../src/models/text/encoder.js';
import { buildWordLevelTokenizer } from '../../src/models/text/tokenizer.js';
import { worldVocabulary } from '../../src/world/index.js';
import { pretrainTextEncoder } from '../../src/train/text-pretrain.js';

test('scene-fact pretraining teaches a small text encoder to tell captions apart', () => {
  const tokenizer = buildWordLevelTokenizer(worldVocabulary(), { maxLength: 48 });
  const encoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, maxLength: 48, width: 32, layers: 1, heads: 2 }, new Rng(3));
  const before = encoder.encodePrompts(tokenizer, ['a red circle spins', 'a blue circle spins']).pooled.data.slice();
  const acc = pretrainTextEncoder(encoder, tokenizer, { steps: 120, batch: 16, lr: 3e-3, seed: 1, captionLevels: { short: 1 } });
  // chance is 1/13 for colour and 1/53 for kind; short captions always state both
  assert.ok(acc.colour! > 0.5, `colour accuracy ${acc.colour}`);
  assert.ok(acc.kind! > 0.3, `kind accuracy ${acc.kind}`);
  const after = encoder.encodePrompts(tokenizer, ['a red circle spins', 'a blue circle spins']).pooled.data;
  const gap = (v: ArrayLike<number>) => { let s = 0; for (let i = 0; i < 32; i++) s += (v[i]! - v[32 + i]!) ** 2; return Math.sqrt(s); };
  assert.ok(gap(after) > 2 * gap(before), `pooled vectors of two colours: ${gap(before).toFixed(3)} -> ${gap(after).toFixed(3)}`);
});
