import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/index.js';
import { TextEncoder } from '../../src/models/text/encoder.js';
import { buildWordLevelTokenizer } from '../../src/models/text/tokenizer.js';
import { randomSpec, validateSpec, worldVocabulary, type CaptionLevel } from '../../src/world/index.js';
import { CAPTION_FACTS, pretrainTextEncoder } from '../../src/train/text-pretrain.js';

test('scene-fact pretraining teaches a small text encoder to tell captions apart', () => {
  const tokenizer = buildWordLevelTokenizer(worldVocabulary(), { maxLength: 48 });
  const encoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, maxLength: 48, width: 32, layers: 1, heads: 2 }, new Rng(3));
  const before = encoder.encodePrompts(tokenizer, ['a red circle spins', 'a blue circle spins']).pooled.data.slice();
  const acc = pretrainTextEncoder(encoder, tokenizer, { steps: 240, batch: 16, lr: 3e-3, seed: 1, captionLevels: { short: 1 } });
  // over captions that state them, chance is 1/12 for colour and 1/54 for kind; short captions always state the kind
  assert.ok(acc.colour! > 0.5, `colour accuracy ${acc.colour}`);
  assert.ok(acc.kind! > 0.3, `kind accuracy ${acc.kind}`);
  // short captions name no second subject, so there is no accuracy to report for one
  assert.equal(acc.kind_2, undefined);
  const after = encoder.encodePrompts(tokenizer, ['a red circle spins', 'a blue circle spins']).pooled.data;
  const gap = (v: ArrayLike<number>) => { let s = 0; for (let i = 0; i < 32; i++) s += (v[i]! - v[32 + i]!) ** 2; return Math.sqrt(s); };
  assert.ok(gap(after) > 2 * gap(before), `pooled vectors of two colours: ${gap(before).toFixed(3)} -> ${gap(after).toFixed(3)}`);
});

test('caption facts name every subject a caption states, and the colour of a flat background', () => {
  const spec = validateSpec({
    background: { kind: 'solid', colour: 'yellow' },
    objects: [
      { kind: 'circle', colour: 'red', motion: { type: 'bounce' } },
      { kind: 'circle', colour: 'red', motion: { type: 'bounce' } },
      { kind: 'tiger', motion: { type: 'walk', direction: 'left' } },
    ],
  });
  const fact = (name: string, level: CaptionLevel) => CAPTION_FACTS.find((f) => f.name === name)!.of(spec, level);
  // two red circles that bounce alike are one subject ("two red circles"), so the tiger is the second
  assert.deepEqual(['kind', 'colour', 'motion', 'kind_2', 'motion_2', 'kind_3'].map((n) => fact(n, 'dense')), ['circle', 'red', 'bounce', 'tiger', 'walk', 'none']);
  assert.equal(fact('background_colour', 'dense'), 'yellow');
  assert.equal(fact('count', 'dense'), '3');
  // a short caption names the first subject only, and no setting
  assert.deepEqual(['kind', 'kind_2', 'background_colour'].map((n) => fact(n, 'short')), ['circle', 'none', 'none']);
  // every fact's answer is one of its classes, for any scene and level
  const rng = new Rng(5);
  for (let i = 0; i < 200; i++) {
    const s = randomSpec(rng.nextUint32(), { width: 64, height: 64, frames: 9 });
    for (const level of ['short', 'medium', 'dense'] as const) {
      for (const f of CAPTION_FACTS) assert.ok(f.classes.includes(f.of(s, level)), `${f.name} of scene ${i} (${level}): ${f.of(s, level)}`);
    }
  }
});

test('pretraining leaves fact captions out: their targets would claim facts the caption does not state', () => {
  const tokenizer = buildWordLevelTokenizer(worldVocabulary(), { maxLength: 48 });
  const encoder = new TextEncoder({ vocabSize: tokenizer.vocabSize, maxLength: 48, width: 16, layers: 1, heads: 2 }, new Rng(4));
  // short captions never state a second subject; fact captions, were they used, would be scored as if they did
  const acc = pretrainTextEncoder(encoder, tokenizer, { steps: 60, batch: 8, seed: 2, captionLevels: { short: 1, fact: 3 } });
  assert.equal(acc.kind_2, undefined);
  assert.ok(acc.kind !== undefined);
  // fact captions alone: pretraining falls back to the world's full caption levels
  const all = pretrainTextEncoder(encoder, tokenizer, { steps: 60, batch: 8, seed: 2, captionLevels: { fact: 1 } });
  assert.ok(all.background_colour !== undefined && all.kind_2 !== undefined);
});
