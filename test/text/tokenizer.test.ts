import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { TesseraError } from '../../src/errors.js';
import { WordLevelTokenizer, buildWordLevelTokenizer } from '../../src/models/text/tokenizer.js';

const CORPUS = ['A red ball rolls to the left.', 'The blue cube jumps, then stops!', 'red', 'ball'];

test('vocabulary: specials first, then sorted words, independent of corpus order', () => {
  const tok = buildWordLevelTokenizer(CORPUS, { maxLength: 8 });
  assert.equal(tok.padId, 0);
  assert.equal(tok.unkId, 1);
  assert.equal(tok.clsId, 2);
  assert.deepEqual(
    [...tok.vocab.keys()].slice(3),
    ['!', ',', '.', 'a', 'ball', 'blue', 'cube', 'jumps', 'left', 'red', 'rolls', 'stops', 'the', 'then', 'to'],
  );
  assert.deepEqual([...buildWordLevelTokenizer([...CORPUS].reverse(), { maxLength: 8 }).vocab], [...tok.vocab]);
  const rare = buildWordLevelTokenizer(CORPUS, { minCount: 2 });
  assert.deepEqual([...rare.vocab.keys()].slice(3), ['ball', 'red', 'the']);
});

test('encode: lowercase, punctuation split, unknown words to [UNK], [CLS] first, padding and mask', () => {
  const tok = buildWordLevelTokenizer(CORPUS, { maxLength: 8 });
  const e = tok.encode('The RED sphere jumps!');
  assert.deepEqual(e.tokens, ['[CLS]', 'the', 'red', '[UNK]', 'jumps', '!']);
  assert.equal(e.ids.length, 8);
  assert.deepEqual([...e.mask], [1, 1, 1, 1, 1, 1, 0, 0]);
  assert.deepEqual([...e.ids.subarray(6)], [0, 0]);
  assert.equal(tok.decode(e.ids), 'the red jumps !');
  assert.equal(tok.decode(e.ids, { skipSpecial: false }), '[CLS] the red [UNK] jumps ! [PAD] [PAD]');
  // never fails on odd input
  assert.deepEqual(tok.encode('日本 ✨ 3.5').tokens, ['[CLS]', '[UNK]', '[UNK]', '[UNK]', '.', '[UNK]']);
});

test('truncation keeps [CLS] and the first maxLength-1 words; the empty prompt is [CLS] alone', () => {
  const tok = buildWordLevelTokenizer(CORPUS, { maxLength: 4 });
  assert.deepEqual(tok.encode('red red blue ball cube').tokens, ['[CLS]', 'red', 'red', 'blue']);
  const empty = tok.encode('');
  assert.deepEqual(empty.tokens, ['[CLS]']);
  assert.deepEqual([...empty.mask], [1, 0, 0, 0]);
  assert.deepEqual(tok.encode('   ').tokens, ['[CLS]']);
});

test('batches pad to a fixed length or to the longest', () => {
  const fixed = buildWordLevelTokenizer(CORPUS, { maxLength: 6 });
  const a = fixed.encodeBatch(['red ball', '']);
  assert.equal(a.length, 6);
  assert.deepEqual([...a.mask], [1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  const longest = buildWordLevelTokenizer(CORPUS, { maxLength: 6, padding: 'longest' });
  const b = longest.encodeBatch(['red ball', 'blue']);
  assert.equal(b.length, 3);
  assert.deepEqual([...b.ids], [2, longest.vocab.get('red')!, longest.vocab.get('ball')!, 2, longest.vocab.get('blue')!, 0]);
});

test('tokenizer.json round trip, and the file reads in @huggingface/tokenizers with the same ids', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-tok-'));
  try {
    const tok = buildWordLevelTokenizer(CORPUS, { maxLength: 12 });
    await tok.savePretrained(dir);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    assert.equal(json.model.type, 'WordLevel');
    const back = await WordLevelTokenizer.fromPretrained(dir);
    assert.deepEqual([...back.vocab], [...tok.vocab]);
    assert.equal(back.maxLength, 12);
    const text = 'The blue cube rolls to the left, then stops.';
    assert.deepEqual(back.encode(text), tok.encode(text));

    // tokenizers.js has no WordLevel model and falls back to a plain vocab lookup: known words must agree.
    const hf = new Tokenizer(json, {});
    assert.deepEqual(hf.encode(text).ids, tok.encode(text).tokens.map((t) => tok.vocab.get(t)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a malformed tokenizer.json is a corrupt_file error naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-tok-'));
  try {
    const json = buildWordLevelTokenizer(CORPUS).toJSON() as { model: { type: string; vocab: Record<string, number> } };
    json.model.type = 'BPE';
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    await assert.rejects(WordLevelTokenizer.fromPretrained(dir), (e: TesseraError) => {
      assert.equal(e.code, 'corrupt_file');
      assert.match(e.message, /tokenizer\.json: model\.type must be "WordLevel"/);
      return true;
    });
    json.model.type = 'WordLevel';
    delete json.model.vocab['[UNK]'];
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    await assert.rejects(WordLevelTokenizer.fromPretrained(dir), /tokenizer\.json: .*\[UNK\]/);
    await assert.rejects(WordLevelTokenizer.fromPretrained(join(dir, 'missing')), (e: TesseraError) => e.code === 'not_found');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
