/**
 * Model figures: the default causal VAE encoding and decoding one 17-frame 128x128 clip the way the pipeline does
 * (frame by frame in causal chunks: encodeChunked, decodeChunked), and one forward pass of the default DiT on that
 * clip's latent ([1, 8, 5, 16, 16]) with a 32-token caption. Weights are random: speed does not depend on them.
 */
import { Rng, Tensor, noGrad } from '../engine/index.js';
import { CausalVideoVAE, type VaeConfig } from '../models/vae/index.js';
import { DiT, type DiTConfig } from '../models/dit/index.js';
import type { ProgressCallback } from '../progress.js';
import { repeat, roundTiming, type Timing } from './timing.js';

export interface ModelBenchOptions {
  /** VAE architecture; default the default VaeConfig. */
  vae?: Partial<VaeConfig>;
  /** DiT architecture; default the default DiTConfig (~26M parameters). Its latentChannels must match the VAE's. */
  dit?: Partial<DiTConfig>;
  /** Clip size: 17 frames of 128x128 by default. */
  frames?: number;
  width?: number;
  height?: number;
  /** Caption tokens the DiT cross-attends to; default 32. */
  textTokens?: number;
  /** Timed runs per figure (median reported) and untimed warm-up runs; default 5 and 2. */
  runs?: number;
  warmup?: number;
  onProgress?: ProgressCallback;
}

export interface ModelBenchResult {
  vae_encode_decode_ms: Timing;
  dit_forward_ms: Timing;
  /** What was measured, so a figure can be read without the source. */
  model_shapes: {
    vae: { parameters: number; clip: number[]; latent: number[] };
    dit: { parameters: number; latent: number[]; tokens: number; text_tokens: number };
  };
}

export async function benchModels(options: ModelBenchOptions = {}): Promise<ModelBenchResult> {
  const frames = options.frames ?? 17, width = options.width ?? 128, height = options.height ?? 128;
  const textTokens = options.textTokens ?? 32;
  const runs = options.runs ?? 5, warmup = options.warmup ?? 2;
  const rng = new Rng(0);
  const figures = 2;
  let figure = 0;
  const onRun = (done: number, total: number): void =>
    options.onProgress?.({ stage: 'bench models', done: figure * total + done, total: figures * total });

  const vae = new CausalVideoVAE(options.vae ?? {}, rng.fork('vae')).train(false);
  const clip = Tensor.rand([1, 3, frames, height, width], rng.fork('clip')).scaleShift(2, -1);
  const vaeTiming = await repeat(() => vae.decodeChunked(vae.encodeChunked(clip).mean), { runs, warmup, onRun });
  figure++;

  const latentT = 1 + (frames - 1) / vae.temporalFactor, latentH = height / vae.spatialFactor, latentW = width / vae.spatialFactor;
  const latentShape = [1, vae.config.latentChannels, latentT, latentH, latentW];
  const dit = new DiT(options.dit ?? {}, rng.fork('dit')).train(false);
  const config = dit.config;
  const input = {
    latents: Tensor.randn([1, config.latentChannels, latentT, latentH, latentW], rng.fork('latents')),
    timesteps: [0.5],
    text: {
      tokens: Tensor.randn([1, textTokens, config.textDim], rng.fork('text')),
      pooled: Tensor.randn([1, config.textDim], rng.fork('pooled')),
      mask: null,
    },
  };
  const ditTiming = await repeat(() => noGrad(() => dit.forward(input)), { runs, warmup, onRun });

  return {
    vae_encode_decode_ms: roundTiming(vaeTiming),
    dit_forward_ms: roundTiming(ditTiming),
    model_shapes: {
      vae: { parameters: vae.numParameters(), clip: [1, 3, frames, height, width], latent: latentShape },
      dit: { parameters: dit.numParameters(), latent: [...input.latents.shape], tokens: dit.numTokens(latentT, latentH, latentW), text_tokens: textTokens },
    },
  };
}
