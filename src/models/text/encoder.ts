/**
 * The text encoder: a small pre-norm transformer over word tokens.
 *
 *   ids [B, L] -> token embedding (+ learned position) -> N x (x + attn(LN(x)), x + MLP(LN(x))) -> LN
 *     -> tokens [B, L, D] (padding rows zeroed), key mask [B, L], pooled [B, D] (mean over real tokens)
 *
 * Positions are either a learned table added to the embeddings or rotary embeddings on the queries and keys of
 * every attention (`positions: 'rotary'`), which make "the word just before this one" the same relation at every
 * place in a caption: what binding a colour to the noun after it needs.
 *
 * The tokenizer always puts [CLS] first, so every prompt, the empty one included, has at least one real token
 * and a defined embedding: the empty prompt's output is the "unconditional" input of classifier-free guidance.
 */
import { Rng, Tensor, attention, noGrad, rope } from '../../engine/index.js';
import { TesseraError, invalidArgument } from '../../errors.js';
import { loadPretrained, loadWeightsInto, savePretrained } from '../../formats/model-folder.js';
import type { WritableDType } from '../../formats/safetensors.js';
import { Embedding, LayerNorm, Linear, MLP, Module, parameter } from '../../nn/index.js';
import { rope3d } from '../dit/model.js';
import type { BatchEncoding, WordLevelTokenizer } from './tokenizer.js';

export interface TextEncoderConfig {
  vocabSize: number;
  /** Longest token sequence (the tokenizer's maxLength); sets the position table. */
  maxLength: number;
  width: number;
  layers: number;
  heads: number;
  mlpRatio: number;
  /** 'learned': a position table added to the token embeddings; 'rotary': rotary embeddings in attention. */
  positions: 'learned' | 'rotary';
}

export const DEFAULT_TEXT_ENCODER_CONFIG: Readonly<Omit<TextEncoderConfig, 'vocabSize'>> = Object.freeze({
  maxLength: 64,
  width: 256,
  layers: 4,
  heads: 4,
  mlpRatio: 4,
  positions: 'learned',
});

export function resolveTextEncoderConfig(partial: Partial<TextEncoderConfig> & { vocabSize: number }): TextEncoderConfig {
  const c: TextEncoderConfig = { ...DEFAULT_TEXT_ENCODER_CONFIG, ...partial };
  for (const name of ['vocabSize', 'maxLength', 'width', 'layers', 'heads', 'mlpRatio'] as const) {
    if (!Number.isInteger(c[name]) || c[name] <= 0) {
      throw invalidArgument(`textEncoder.${name}`, `expected a positive integer, got ${JSON.stringify(c[name])}`);
    }
  }
  if (c.width % c.heads !== 0) throw invalidArgument('textEncoder.width', `${c.width} is not divisible by heads=${c.heads}`);
  if (c.positions !== 'learned' && c.positions !== 'rotary') {
    throw invalidArgument('textEncoder.positions', `expected 'learned' or 'rotary', got ${JSON.stringify(c.positions)}`);
  }
  if (c.positions === 'rotary' && (c.width / c.heads) % 2 !== 0) {
    throw invalidArgument('textEncoder.heads', `rotary positions need an even head width, got ${c.width / c.heads}`);
  }
  return c;
}

export interface TextEmbedding {
  /** Per-token features [B, L, D]; rows of padding are zero. */
  tokens: Tensor;
  /** [B, L]: 1 for a real token, 0 for padding (the key mask of cross-attention). */
  mask: Uint8Array;
  /** Mean of the real tokens' features [B, D] (the adaLN conditioning). */
  pooled: Tensor;
}

/** cos and sin [length, pairs] for rotating queries and keys: the DiT's table, on a grid with one axis. */
type Rotary = ReturnType<typeof rope3d>;

class SelfAttention extends Module {
  readonly heads: number;
  qkv: Linear;
  proj: Linear;

  constructor(width: number, heads: number, rng: Rng) {
    super();
    this.heads = heads;
    this.qkv = new Linear(width, 3 * width, { rng });
    this.proj = new Linear(width, width, { rng });
  }

  forward(x: Tensor, keyMask: Uint8Array, rotary?: Rotary): Tensor {
    const [b, l, d] = x.shape as [number, number, number];
    const headDim = d / this.heads;
    // [B, L, 3D] -> [3, B, H, L, headDim]
    const qkv = this.qkv.forward(x).reshape([b, l, 3, this.heads, headDim]).permute([2, 0, 3, 1, 4]);
    let [q, k, v] = qkv.split(1, 0).map((t) => t.squeeze(0)) as [Tensor, Tensor, Tensor];
    if (rotary) {
      q = rope(q, rotary.cos, rotary.sin);
      k = rope(k, rotary.cos, rotary.sin);
    }
    const out = attention(q, k, v, { keyMask });
    return this.proj.forward(out.permute([0, 2, 1, 3]).reshape([b, l, d]));
  }
}

class EncoderBlock extends Module {
  norm1: LayerNorm;
  attn: SelfAttention;
  norm2: LayerNorm;
  mlp: MLP;

  constructor(c: TextEncoderConfig, rng: Rng) {
    super();
    this.norm1 = new LayerNorm(c.width);
    this.attn = new SelfAttention(c.width, c.heads, rng);
    this.norm2 = new LayerNorm(c.width);
    this.mlp = new MLP(c.width, c.mlpRatio * c.width, c.width, { rng, activation: 'gelu' });
  }

  forward(x: Tensor, keyMask: Uint8Array, rotary?: Rotary): Tensor {
    x = x.add(this.attn.forward(this.norm1.forward(x), keyMask, rotary));
    return x.add(this.mlp.forward(this.norm2.forward(x)));
  }
}

export class TextEncoder extends Module {
  /** The `_class_name` of its config.json and model_index.json entry. */
  static readonly className = 'TextEncoder';
  readonly config: TextEncoderConfig;
  tokenEmbedding: Embedding;
  /** Absent with rotary positions. */
  positionEmbedding?: Tensor;
  blocks: EncoderBlock[];
  normOut: LayerNorm;

  constructor(config: Partial<TextEncoderConfig> & { vocabSize: number }, rng: Rng = new Rng(0)) {
    super();
    this.config = resolveTextEncoderConfig(config);
    const c = this.config;
    this.tokenEmbedding = new Embedding(c.vocabSize, c.width, rng.fork('tokens'));
    if (c.positions === 'learned') this.positionEmbedding = parameter(Tensor.randn([c.maxLength, c.width], rng.fork('positions'), 0.02));
    const blockRng = rng.fork('blocks');
    this.blocks = Array.from({ length: c.layers }, () => new EncoderBlock(c, blockRng));
    this.normOut = new LayerNorm(c.width);
  }

  /** ids and mask are [batch, length] row-major, as WordLevelTokenizer.encodeBatch returns them. */
  forward({ ids, mask, batch, length }: BatchEncoding): TextEmbedding {
    const c = this.config;
    if (length > c.maxLength) throw invalidArgument('length', `sequences of ${length} tokens exceed maxLength ${c.maxLength}`);
    if (ids.length !== batch * length || mask.length !== batch * length) {
      throw invalidArgument('ids', `expected ${batch} x ${length} ids and mask entries, got ${ids.length} and ${mask.length}`);
    }
    let x = this.tokenEmbedding.forward(ids, [batch, length]);
    if (this.positionEmbedding) x = x.add(this.positionEmbedding.slice(0, 0, length));
    const rotary = c.positions === 'rotary' ? rope3d({ t: 1, h: 1, w: length }, [0, 0, c.width / c.heads / 2], 10000) : undefined;
    for (const block of this.blocks) x = block.forward(x, mask, rotary);

    const keep = Tensor.from(Float32Array.from(mask), [batch, length, 1]);
    const tokens = this.normOut.forward(x).mul(keep);
    const counts = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < length; i++) counts[b] += mask[b * length + i]!;
      if (counts[b] === 0) throw invalidArgument('mask', `sequence ${b} has no real token (the tokenizer always adds [CLS])`);
    }
    const pooled = tokens.sum(1).div(Tensor.from(counts, [batch, 1]));
    return { tokens, mask, pooled };
  }

  /** Tokenizes and encodes prompts without building a graph. */
  encodePrompts(tokenizer: WordLevelTokenizer, prompts: readonly string[]): TextEmbedding {
    if (tokenizer.vocabSize !== this.config.vocabSize) {
      throw invalidArgument('tokenizer', `vocabulary of ${tokenizer.vocabSize} words, the text encoder has ${this.config.vocabSize}`);
    }
    return noGrad(() => this.forward(tokenizer.encodeBatch(prompts)));
  }

  static async fromPretrained(dir: string): Promise<TextEncoder> {
    const { className, config, stateDict } = await loadPretrained(dir);
    if (className !== TextEncoder.className) {
      throw new TesseraError('corrupt_file', `${dir}/config.json: _class_name is '${className}', expected '${TextEncoder.className}'`, { param: dir });
    }
    let encoder: TextEncoder;
    try {
      encoder = new TextEncoder(config as Partial<TextEncoderConfig> & { vocabSize: number });
    } catch (e) {
      throw new TesseraError('corrupt_file', `${dir}/config.json: ${(e as Error).message}`, { param: dir, cause: e });
    }
    loadWeightsInto(encoder, stateDict, dir);
    return encoder;
  }

  async savePretrained(dir: string, { dtype = 'F32' }: { dtype?: WritableDType } = {}): Promise<void> {
    await savePretrained(this, this.config, dir, { className: TextEncoder.className, dtype });
  }
}
