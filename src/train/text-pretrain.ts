/**
 * Teaches the text encoder what captions say before the diffusion transformer has to find out.
 *
 * Trained jointly from scratch, the text path is the last thing a small DiT learns: a random encoder gives nearly
 * the same pooled vector for every caption (they share most of their words), so adaLN and cross-attention see no
 * signal to follow. The world knows every fact behind each caption, so the encoder is first trained to classify
 * captions into those facts (setting, flat background colour, each named subject's kind, colour and motion, object
 * count, camera, weather, light) from its pooled vector. The heads are thrown away; the features stay.
 */
import { Rng, crossEntropy, add } from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { Linear, Module } from '../nn/index.js';
import { AdamW } from '../optim/index.js';
import type { TextEncoder } from '../models/text/encoder.js';
import type { WordLevelTokenizer } from '../models/text/tokenizer.js';
import {
  BACKGROUNDS, CAMERAS, COLOUR_NAMES, LIGHTINGS, MAX_OBJECTS, MOTIONS, SHAPES, SPRITE_NAMES, WEATHERS,
  captionSpec, groupObjects, pickCaptionLevel, randomSpec, type CaptionLevel, type ObjectSpec, type SceneSpec,
} from '../world/index.js';
import type { ProgressCallback } from '../progress.js';

/**
 * The subjects a caption names, in its order: objects that look alike are one subject ("two red balls"), and a
 * short caption names only the first. Slots past them are 'none', so a head must also learn where the list ends.
 */
function namedSubjects(s: SceneSpec, level: CaptionLevel): ObjectSpec[] {
  const subjects = groupObjects(s.objects).map((g) => g.object);
  return level === 'short' ? subjects.slice(0, 1) : subjects;
}

export interface Fact {
  name: string;
  classes: readonly string[];
  of: (s: SceneSpec, level: CaptionLevel) => string;
}

/**
 * Each fact a caption states, as a class index. Every named subject's kind, colour and motion are facts, not only
 * the first's, and so is the colour of a flat background: the pooled vector then has to bind each colour word to
 * its noun ("a white block ... on a plain yellow background"), which a bag of words cannot do. Asked only for the
 * first subject, encoders left that binding to the DiT, which did not learn it (docs/training-log.md).
 */
export const CAPTION_FACTS: Fact[] = [
  { name: 'background', classes: BACKGROUNDS, of: (s) => s.background.kind },
  // short captions do not name the setting
  { name: 'background_colour', classes: ['none', ...COLOUR_NAMES], of: (s, level) => (level === 'short' ? 'none' : s.background.colour ?? 'none') },
  ...Array.from({ length: MAX_OBJECTS }, (_, i): Fact[] => {
    const slot = i === 0 ? '' : `_${i + 1}`;
    const subject = (s: SceneSpec, level: CaptionLevel) => namedSubjects(s, level)[i];
    return [
      { name: `kind${slot}`, classes: ['none', ...SHAPES, ...SPRITE_NAMES], of: (s, l) => subject(s, l)?.kind ?? 'none' },
      { name: `colour${slot}`, classes: ['none', ...COLOUR_NAMES], of: (s, l) => subject(s, l)?.colour ?? 'none' },
      { name: `motion${slot}`, classes: ['none', ...MOTIONS], of: (s, l) => subject(s, l)?.motion.type ?? 'none' },
    ];
  }).flat(),
  { name: 'count', classes: ['1', '2', '3', '4'], of: (s) => String(s.objects.length) },
  { name: 'camera', classes: CAMERAS, of: (s) => s.camera },
  { name: 'weather', classes: WEATHERS, of: (s) => s.weather },
  { name: 'lighting', classes: LIGHTINGS, of: (s) => s.lighting },
];

class FactHeads extends Module {
  heads: Linear[];
  constructor(width: number, rng: Rng) {
    super();
    this.heads = CAPTION_FACTS.map((f) => new Linear(width, f.classes.length, { rng: rng.fork(f.name) }));
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

/**
 * Trains `encoder` in place; returns the accuracy of each fact on the last 50 batches, counted over the captions
 * that state it ('none' targets are left out, and so is a fact no caption stated): most captions name no flat
 * background and no fourth subject, so always guessing 'none' would otherwise score over 90% and mean nothing.
 */
export function pretrainTextEncoder(encoder: TextEncoder, tokenizer: WordLevelTokenizer, opts: TextPretrainOptions): Record<string, number> {
  const { steps, batch = 32, lr = 1e-3, seed = 0 } = opts;
  const rng = new Rng(seed).fork('text-pretrain');
  const heads = new FactHeads(encoder.config.width, rng.fork('heads'));
  const params = [...encoder.namedParameters('encoder'), ...heads.namedParameters('heads')];
  const optimizer = new AdamW(params, { lr, weightDecay: 0.01 });
  // a fact caption states one fact out of many, which these targets cannot say; the encoder learns from full captions
  const { fact: _, ...fullLevels } = opts.captionLevels ?? {};
  const captionLevels = Object.values(fullLevels).some((w) => (w ?? 0) > 0) ? fullLevels : undefined;
  const correct = CAPTION_FACTS.map(() => 0);
  const counted = CAPTION_FACTS.map(() => 0);
  encoder.train(true);
  for (let step = 0; step < steps; step++) {
    const specs: SceneSpec[] = [];
    const levels: CaptionLevel[] = [];
    const captions: string[] = [];
    for (let i = 0; i < batch; i++) {
      const spec = randomSpec(rng.nextUint32(), { width: 128, height: 128, frames: 17 });
      const level = pickCaptionLevel(rng, captionLevels);
      specs.push(spec);
      levels.push(level);
      captions.push(captionSpec(spec, level, rng.nextUint32()));
    }
    const { pooled } = encoder.forward(tokenizer.encodeBatch(captions));
    let loss: Tensor | null = null;
    CAPTION_FACTS.forEach((fact, f) => {
      const targets = Int32Array.from(specs, (s, i) => fact.classes.indexOf(fact.of(s, levels[i]!)));
      const logits = heads.heads[f]!.forward(pooled);
      loss = loss === null ? crossEntropy(logits, targets) : add(loss, crossEntropy(logits, targets));
      if (step >= steps - 50) {
        const c = logits.shape[1]!;
        targets.forEach((t, i) => {
          if (fact.classes[t] === 'none') return;
          counted[f]!++;
          let best = 0;
          for (let k = 1; k < c; k++) if (logits.data[i * c + k]! > logits.data[i * c + best]!) best = k;
          if (best === t) correct[f]!++;
        });
      }
    });
    loss!.backward();
    optimizer.lr = lr * Math.min(1, (step + 1) / 50);
    optimizer.step();
    optimizer.zeroGrad();
    opts.onProgress?.({ stage: 'pretrain text', done: step + 1, total: steps, info: { loss: Number((loss! as Tensor).item().toFixed(3)) } });
  }
  // a fact no caption stated (say a fourth subject, when every caption is short) has no accuracy to report
  return Object.fromEntries(CAPTION_FACTS.flatMap((f, i) => (counted[i] ? [[f.name, correct[i]! / counted[i]!]] : [])));
}
