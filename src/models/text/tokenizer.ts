/**
 * A word-level tokenizer stored as a Hugging Face `tokenizer.json`:
 *   normalizer Lowercase -> pre_tokenizer Whitespace (runs of word characters, runs of punctuation)
 *   -> model WordLevel (word -> id, anything else -> [UNK]) -> post_processor TemplateProcessing ([CLS] $A)
 *   -> truncation and padding to a fixed length.
 * Captions of the simulated world use a small closed vocabulary, so whole words are the right unit: no merges,
 * no subwords, and a word the vocabulary lacks becomes [UNK] instead of failing.
 *
 * @huggingface/tokenizers (0.2) has no WordLevel model, so the file is read here; the JSON stays the standard
 * schema, readable by the Rust/Python `tokenizers` library.
 */
import { join } from 'node:path';
import { TesseraError, invalidArgument } from '../../errors.js';
import { readJsonFile, writeJsonFile } from '../../formats/json.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const PAD_TOKEN = '[PAD]';
export const UNK_TOKEN = '[UNK]';
export const CLS_TOKEN = '[CLS]';
const SPECIAL_TOKENS = [PAD_TOKEN, UNK_TOKEN, CLS_TOKEN] as const;

// The `Whitespace` pre-tokenizer of HF tokenizers: \w+|[^\w\s]+, with Unicode word characters.
const WORD_OR_PUNCT = /[\p{L}\p{M}\p{N}_]+|[^\p{L}\p{M}\p{N}_\s]+/gu;

export type PaddingStrategy = 'fixed' | 'longest';

export interface Encoding {
  /** Token ids, padded to `length`. */
  ids: Int32Array;
  /** 1 for a real token ([CLS] included), 0 for padding. */
  mask: Uint8Array;
  tokens: string[];
}

export interface BatchEncoding {
  /** [batch, length] row-major. */
  ids: Int32Array;
  mask: Uint8Array;
  batch: number;
  length: number;
}

export interface WordLevelOptions {
  /** Sequences are cut to this many tokens, [CLS] included. */
  maxLength: number;
  /** 'fixed' pads every sequence to maxLength; 'longest' pads a batch to its longest member. */
  padding: PaddingStrategy;
}

export class WordLevelTokenizer {
  /** Its class name in model_index.json. */
  static readonly className = 'WordLevelTokenizer';
  readonly vocab: ReadonlyMap<string, number>;
  readonly maxLength: number;
  readonly padding: PaddingStrategy;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  private readonly idToToken: string[];

  constructor(vocab: ReadonlyMap<string, number>, { maxLength, padding }: WordLevelOptions) {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw invalidArgument('maxLength', `expected an integer >= 2 ([CLS] and one word), got ${maxLength}`);
    }
    const idOf = (token: string) => {
      const id = vocab.get(token);
      if (id === undefined) throw invalidArgument('vocab', `must contain the special token ${token}`);
      return id;
    };
    this.vocab = vocab;
    this.maxLength = maxLength;
    this.padding = padding;
    this.padId = idOf(PAD_TOKEN);
    this.unkId = idOf(UNK_TOKEN);
    this.clsId = idOf(CLS_TOKEN);
    this.idToToken = [];
    for (const [token, id] of vocab) {
      if (this.idToToken[id] !== undefined) throw invalidArgument('vocab', `id ${id} is used by '${this.idToToken[id]}' and '${token}'`);
      this.idToToken[id] = token;
    }
    for (let id = 0; id < this.idToToken.length; id++) {
      if (this.idToToken[id] === undefined) throw invalidArgument('vocab', `ids must be 0..${vocab.size - 1} without gaps; ${id} is missing`);
    }
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Lowercase, then split into words and punctuation runs. */
  words(text: string): string[] {
    return text.toLowerCase().match(WORD_OR_PUNCT) ?? [];
  }

  /** [CLS] + word ids, truncated to maxLength, unpadded. */
  private tokenIds(text: string): number[] {
    const ids = [this.clsId];
    for (const word of this.words(text)) {
      if (ids.length === this.maxLength) break;
      ids.push(this.vocab.get(word) ?? this.unkId);
    }
    return ids;
  }

  /** One text, padded to maxLength. The empty prompt is [CLS] alone, so it has a defined embedding. */
  encode(text: string): Encoding {
    const real = this.tokenIds(text);
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    const mask = new Uint8Array(this.maxLength);
    ids.set(real);
    mask.fill(1, 0, real.length);
    return { ids, mask, tokens: real.map((id) => this.idToToken[id]!) };
  }

  encodeBatch(texts: readonly string[]): BatchEncoding {
    const rows = texts.map((t) => this.tokenIds(t));
    const length = this.padding === 'fixed' ? this.maxLength : Math.max(1, ...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * length).fill(this.padId);
    const mask = new Uint8Array(rows.length * length);
    rows.forEach((row, b) => {
      ids.set(row, b * length);
      mask.fill(1, b * length, b * length + row.length);
    });
    return { ids, mask, batch: rows.length, length };
  }

  /** Words joined by spaces; special tokens are skipped unless asked for. */
  decode(ids: ArrayLike<number>, { skipSpecial = true }: { skipSpecial?: boolean } = {}): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const token = this.idToToken[ids[i]!];
      if (token === undefined) throw invalidArgument('ids', `id ${ids[i]} is outside the vocabulary of ${this.vocabSize}`);
      if (skipSpecial && (SPECIAL_TOKENS as readonly string[]).includes(token)) continue;
      out.push(token);
    }
    return out.join(' ');
  }

  // ---- tokenizer.json ------------------------------------------------------------------------------------

  toJSON(): Record<string, unknown> {
    const special = (token: string) => ({
      id: this.vocab.get(token)!, content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    });
    return {
      version: '1.0',
      truncation: { direction: 'Right', max_length: this.maxLength, strategy: 'LongestFirst', stride: 0 },
      padding: {
        strategy: this.padding === 'fixed' ? { Fixed: this.maxLength } : 'BatchLongest',
        direction: 'Right', pad_to_multiple_of: null, pad_id: this.padId, pad_type_id: 0, pad_token: PAD_TOKEN,
      },
      added_tokens: SPECIAL_TOKENS.map(special),
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: CLS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: CLS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { [CLS_TOKEN]: { id: CLS_TOKEN, ids: [this.clsId], tokens: [CLS_TOKEN] } },
      },
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.vocab), unk_token: UNK_TOKEN },
    };
  }

  /** Builds a tokenizer from parsed tokenizer.json, checking the parts this implementation honours. */
  static fromJSON(json: Record<string, unknown>, source = TOKENIZER_FILE): WordLevelTokenizer {
    const fail = (message: string) => new TesseraError('corrupt_file', `${source}: ${message}`, { param: source });
    const model = json['model'] as Record<string, unknown> | undefined;
    if (!model || model['type'] !== 'WordLevel') {
      throw fail(`model.type must be "WordLevel", got ${JSON.stringify(model?.['type'])}`);
    }
    if (model['unk_token'] !== UNK_TOKEN) throw fail(`model.unk_token must be "${UNK_TOKEN}"`);
    const rawVocab = model['vocab'];
    if (typeof rawVocab !== 'object' || rawVocab === null) throw fail('model.vocab must be an object {token: id}');
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(rawVocab)) {
      if (!Number.isInteger(id) || (id as number) < 0) throw fail(`model.vocab['${token}'] must be a non-negative integer`);
      vocab.set(token, id as number);
    }
    const normalizer = json['normalizer'] as { type?: string } | null;
    if (normalizer?.type !== 'Lowercase') throw fail('normalizer must be {"type": "Lowercase"}');
    const preTokenizer = json['pre_tokenizer'] as { type?: string } | null;
    if (preTokenizer?.type !== 'Whitespace') throw fail('pre_tokenizer must be {"type": "Whitespace"}');

    const truncation = json['truncation'] as { max_length?: unknown } | null;
    const padding = json['padding'] as { strategy?: unknown } | null;
    const fixed = (padding?.strategy as { Fixed?: unknown } | undefined)?.Fixed;
    const maxLength = truncation?.max_length ?? fixed;
    if (!Number.isInteger(maxLength)) throw fail('truncation.max_length must be an integer');
    try {
      return new WordLevelTokenizer(vocab, {
        maxLength: maxLength as number,
        padding: padding?.strategy === 'BatchLongest' ? 'longest' : 'fixed',
      });
    } catch (e) {
      throw fail((e as Error).message);
    }
  }

  static async fromFile(path: string): Promise<WordLevelTokenizer> {
    return WordLevelTokenizer.fromJSON(await readJsonFile(path), path);
  }

  /** Reads `dir/tokenizer.json`. */
  static async fromPretrained(dir: string): Promise<WordLevelTokenizer> {
    return WordLevelTokenizer.fromFile(join(dir, TOKENIZER_FILE));
  }

  /** Writes `dir/tokenizer.json` atomically. */
  async savePretrained(dir: string): Promise<void> {
    await writeJsonFile(join(dir, TOKENIZER_FILE), this.toJSON());
  }
}

export interface BuildTokenizerOptions {
  maxLength?: number;
  padding?: PaddingStrategy;
  /** Words seen fewer times than this become [UNK] (default 1: keep all). */
  minCount?: number;
}

/**
 * Builds the vocabulary from corpus text: each entry may be a word or a whole caption; it is normalised and split
 * like input text. Ids: the special tokens first ([PAD]=0, [UNK]=1, [CLS]=2), then words in sorted order, so the
 * same corpus always gives the same ids whatever order it arrives in.
 */
export function buildWordLevelTokenizer(corpus: Iterable<string>, options: BuildTokenizerOptions = {}): WordLevelTokenizer {
  const { maxLength = 64, padding = 'fixed', minCount = 1 } = options;
  const vocab = new Map<string, number>(SPECIAL_TOKENS.map((t, i) => [t, i]));
  const splitter = new WordLevelTokenizer(vocab, { maxLength, padding });
  const counts = new Map<string, number>();
  for (const entry of corpus) {
    for (const word of splitter.words(entry)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts].filter(([w, c]) => c >= minCount && !vocab.has(w)).map(([w]) => w).sort();
  for (const word of words) vocab.set(word, vocab.size);
  return new WordLevelTokenizer(vocab, { maxLength, padding });
}
