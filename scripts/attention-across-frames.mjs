#!/usr/bin/env node
// Does the DiT tie latent frames together? Samples clips as `tessera generate` does and, at every step and in every
// block, measures where the self-attention of the conditional branch goes: the share of each query's attention
// that lands on keys in its own latent frame, on the same patch position in the other latent frames, and anywhere
// else. With 5 latent frames of 64 tokens (a 128x128 17-frame clip), attention blind to time would give 1/5 to the
// own frame and 1/80 to each same-position key elsewhere. Usage, after npm run build:
//   node scripts/attention-across-frames.mjs [MODEL_DIR] [SEEDS] [PROMPT...]
import { loadPipeline } from '../dist/index.js';
import { SelfAttention } from '../dist/models/dit/index.js';
import { chunk, permute, reshape, rope } from '../dist/engine/index.js';

const [model = 'models/tessera-world', seedList = '0,1', ...words] = process.argv.slice(2);
const prompts = words.length
  ? [words.join(' ')]
  : ['a red ball bounces on a snowy meadow', 'two blue cubes slide to the left on a sandy beach', 'a green star falls in front of a plain white background'];
const SIDE = 128;
const FRAMES = 17;

const pipe = await loadPipeline(model);
const { patchSize } = pipe.parts.transformer.config;
const [gridH, gridW] = [SIDE / 4 / patchSize[1], SIDE / 4 / patchSize[2]]; // the VAE is 4x in space
const perFrame = gridH * gridW;
const blockOf = new Map(pipe.parts.transformer.blocks.map((b, i) => [b.attn, i]));
const depth = blockOf.size;

let step = -1;
const sums = new Map(); // `${step},${block}` -> [own, samePlace, elsewhere, queries]

const original = SelfAttention.prototype.forward;
SelfAttention.prototype.forward = function (x, rot, tokenMask) {
  const block = blockOf.get(this);
  if (block === undefined) return original.call(this, x, rot, tokenMask);
  const [B, N, D] = x.shape;
  const H = this.numHeads;
  const Dh = D / H;
  const qkv = permute(reshape(this.qkv.forward(x), [B, N, 3, H, Dh]), [2, 0, 3, 1, 4]);
  const [q, k] = chunk(qkv, 3, 0).slice(0, 2).map((t) => reshape(t, [B, H, N, Dh]));
  const qr = rope(this.qNorm.forward(q), rot.cos, rot.sin).data;
  const kr = rope(this.kNorm.forward(k), rot.cos, rot.sin).data;
  const key = `${step},${block}`;
  const acc = sums.get(key) ?? [0, 0, 0, 0];
  const scores = new Float64Array(N);
  const scale = 1 / Math.sqrt(Dh);
  for (let h = 0; h < H; h++) {
    const base = h * N * Dh; // batch element 0: the conditional branch
    for (let i = 0; i < N; i++) {
      let max = -Infinity;
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let d = 0; d < Dh; d++) s += qr[base + i * Dh + d] * kr[base + j * Dh + d];
        scores[j] = s * scale;
        if (scores[j] > max) max = scores[j];
      }
      let total = 0;
      for (let j = 0; j < N; j++) total += (scores[j] = Math.exp(scores[j] - max));
      const fi = Math.floor(i / perFrame);
      const pi = i % perFrame;
      for (let j = 0; j < N; j++) {
        const p = scores[j] / total;
        if (Math.floor(j / perFrame) === fi) acc[0] += p;
        else if (j % perFrame === pi) acc[1] += p;
        else acc[2] += p;
      }
      acc[3] += 1;
    }
  }
  sums.set(key, acc);
  return original.call(this, x, rot, tokenMask);
};

const seeds = seedList.split(',').map(Number);
const times = [];
for (const prompt of prompts) {
  for (const seed of seeds) {
    step = 0;
    await pipe.generate(
      { prompt, width: SIDE, height: SIDE, frames: FRAMES, fps: 8, steps: 25, guidanceScale: 4, seed, sampler: 'euler', expandPrompt: true },
      { onStep: (e) => { times[step] = e.timestep; step++; } },
    );
  }
}

const frames = (FRAMES - 1) / 4 + 1;
console.log(`${model}: ${prompts.length} prompts x ${seeds.length} seeds, ${frames} latent frames of ${perFrame} tokens`);
console.log(`share of attention on the own latent frame (blind to time: ${(1 / frames).toFixed(3)}) / on the same position in other frames (blind: ${((frames - 1) / (frames * perFrame)).toFixed(3)})`);
const header = ['step', 't', ...Array.from({ length: depth }, (_, b) => `block ${b}`)];
console.log(header.join('\t'));
for (let s = 0; s < times.length; s++) {
  const row = [String(s), times[s].toFixed(3)];
  for (let b = 0; b < depth; b++) {
    const [own, same, , n] = sums.get(`${s},${b}`);
    row.push(`${(own / n).toFixed(3)} / ${(same / n).toFixed(3)}`);
  }
  console.log(row.join('\t'));
}
