/**
 * Teaches the text encoder what captions say before the diffusion transformer has to find out.
 *
 * Trained jointly from scratch, the text path is the last thing a small DiT learns: a random encoder gives nearly
 * the same pooled vector for every caption (they share most of their words), so adaLN and cross-attention see no
 * signal to follow. The world knows every fact behind each caption, so the encoder is first trained to classify
 * captions into those facts (setting, first subject's kind, colour and motion, object count, camera, weather,
 * light) from its pooled vector. The heads are thrown away; the features stay.
 */
import { Rng, crossEntropy, add } from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { Linear, Module } from '../nn/index.js';
import { AdamW } from '../optim/index.js';
import type { TextEncoder } from '../models/text/encoder.js';
import type { WordLevelTokenizer } from '../models/text/tokenizer.js';
import {
  BACKGROUNDS, CAMERAS, COLOUR_NAMES, LIGHTINGS, MOTIONS, SHAPES, SPRITE_NAMES, WEATHERS,
  captionSpec, pickCaptionLevel, randomSpec, type CaptionLevel, type SceneSpec,
} from '../world/index.js';
import type { ProgressCallback } from '../progress.js';

/** Each fact a caption states, as a class index. */
const FACTS: { name: string; classes: readonly string[]; of: (s: SceneSpec) => string }[] = [
  { name: 'background', classes: BACKGROUNDS, of: (s) => s.background.kind },
  { name: 'kind', classes: [...SHAPES, ...SPRITE_NAMES], of: (s) => s.objects[0]!.kind },
  { name: 'colour', classes: ['none', ...COLOUR_NAMES], of: (s) => s.objects[0]!.colour ?? 'none' },
  { name: 'motion', classes: MOTIONS, of: (s) => s.objects[0]!.motion.type },
  { name: 'count', classes: ['1', '2', '3', '4'], of: (s) => String(s.objects.length) },
  { name: 'camera', classes: CAMERAS, of: (s) => s.camera },
  { name: 'weather', classes: WEATHERS, of: (s) => s.weather },
  { name: 'lighting', classes: LIGHTINGS, of: (s) => s.lighting },
];

class FactHeads extends Module {
  heads: Linear[];
  constructor(width: number, rng: Rng) {
    super();
    this.heads = FACTS.map((f) => new Linear(width, f.classes.length, { rng: rng.fork(f.name) }));
  }
}

export interface TextPretrainOptions {
  steps: number;
  batch?: number;
  lr?: number;
  seed?: number;
  captionLevels?: Partial<Record<CaptionLevel, number>>;
  onProgress?: ProgressCallback;
}

/** Trains `encoder` in place; returns the accuracy of each fact on the last 50 batches. */
export function pretrainTextEncoder(encoder: TextEncoder, tokenizer: WordLevelTokenizer, opts: TextPretrainOptions): Record<string, number> {
  const { steps, batch = 32, lr = 1e-3, seed = 0 } = opts;
  const rng = new Rng(seed).fork('text-pretrain');
  const heads = new FactHeads(encoder.config.width, rng.fork('heads'));
  const params = [...encoder.namedParameters('encoder'), ...heads.namedParameters('heads')];
  const optimizer = new AdamW(params, { lr, weightDecay: 0.01 });
  const correct = FACTS.map(() => 0);
  let counted = 0;
  encoder.train(true);
  for (let step = 0; step < steps; step++) {
    const specs: SceneSpec[] = [];
    const captions: string[] = [];
    for (let i = 0; i < batch; i++) {
      const spec = randomSpec(rng.nextUint32(), { width: 128, height: 128, frames: 17 });
      specs.push(spec);
      captions.push(captionSpec(spec, pickCaptionLevel(rng, opts.captionLevels), rng.nextUint32()));
    }
    const { pooled } = encoder.forward(tokenizer.encodeBatch(captions));
    let loss: Tensor | null = null;
    FACTS.forEach((fact, f) => {
      const targets = Int32Array.from(specs, (s) => fact.classes.indexOf(fact.of(s)));
      const logits = heads.heads[f]!.forward(pooled);
      loss = loss === null ? crossEntropy(logits, targets) : add(loss, crossEntropy(logits, targets));
      if (step >= steps - 50) {
        const c = logits.shape[1]!;
        targets.forEach((t, i) => {
          let best = 0;
          for (let k = 1; k < c; k++) if (logits.data[i * c + k]! > logits.data[i * c + best]!) best = k;
          if (best === t) correct[f]!++;
        });
      }
    });
    if (step >= steps - 50) counted += batch;
    loss!.backward();
    optimizer.lr = lr * Math.min(1, (step + 1) / 50);
    optimizer.step();
    optimizer.zeroGrad();
    opts.onProgress?.({ stage: 'pretrain text', done: step + 1, total: steps, info: { loss: Number((loss! as Tensor).item().toFixed(3)) } });
  }
  return Object.fromEntries(FACTS.map((f, i) => [f.name, counted ? correct[i]! / counted : 0]));
}
