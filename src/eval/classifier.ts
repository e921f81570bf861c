/**
 * World classifier: a small 3D-conv network that reads a clip and names what is in it (the first object's kind,
 * its colour, its motion, and the background). Trained on rendered world clips (train-classifier.ts), it is the
 * feature extractor of the Frechet video distance in fvd.ts, the role I3D plays for published FVD.
 *
 *   clip -> resample to (frames, size, size) -> [conv3d -> SiLU] x3 (strided)
 *        -> [average pool to a 2x2 grid (where things are), max pool over all positions (what is there)]
 *        -> Linear -> SiLU = features -> one head per attribute
 *
 * There is no normalisation layer on purpose: GroupNorm/InstanceNorm remove each clip's own colour statistics
 * (which is why style transfer uses them), and colour is half of what this network must read. Three layers train
 * fine without it.
 *
 * The label vocabularies are stored in config.json, so a saved classifier describes its own outputs.
 */
import { Rng, Tensor, concat, crossEntropy, max, mean, noGrad, reshape, silu } from '../engine/index.js';
import { TesseraError, invalidArgument } from '../errors.js';
import { loadPretrained, loadWeightsInto, savePretrained } from '../formats/index.js';
import type { VideoClip } from '../media/types.js';
import { Conv3d, Linear, Module } from '../nn/index.js';
import { BACKGROUNDS, COLOUR_NAMES, MOTIONS, SHAPES, SPRITE_NAMES } from '../world/lexicon.js';
import type { SceneSpec } from '../world/spec.js';

export const CLASSIFIER_CLASS_NAME = 'WorldClassifier';

export const ATTRIBUTES = ['kind', 'colour', 'motion', 'background'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** Colour label of an object that has none of its own (a sprite). */
export const NO_COLOUR = 'none';

export interface WorldClassifierConfig {
  /** Frames the clip is resampled to (evenly spread over its length). */
  frames: number;
  /** Side the frames are resampled to. */
  size: number;
  /** Output channels of the three conv stages. */
  channels: [number, number, number];
  /** Width of the feature vector the Frechet distance uses. */
  featureDim: number;
  labels: Record<Attribute, string[]>;
}

export function defaultClassifierConfig(): WorldClassifierConfig {
  return {
    frames: 8,
    size: 32,
    channels: [16, 32, 64],
    featureDim: 64,
    labels: {
      kind: [...SHAPES, ...SPRITE_NAMES],
      colour: [NO_COLOUR, ...COLOUR_NAMES],
      motion: [...MOTIONS],
      background: [...BACKGROUNDS],
    },
  };
}

/** Strides of the three stages: space halves every stage, time from the second on. */
const STRIDES: [number, number, number][] = [[1, 2, 2], [2, 2, 2], [2, 2, 2]];
/** The pooled grid is POOL_GRID x POOL_GRID over space, averaged over time. */
const POOL_GRID = 2;

function checkConfig(c: WorldClassifierConfig): void {
  const reduce = STRIDES.reduce((a, s) => [a[0] * s[0], a[1] * s[1]], [1, 1]);
  if (!Number.isInteger(c.frames) || c.frames < reduce[0]! || c.frames % reduce[0]! !== 0) {
    throw invalidArgument('classifier.frames', `expected a positive multiple of ${reduce[0]}, got ${c.frames}`);
  }
  if (!Number.isInteger(c.size) || c.size % (reduce[1]! * POOL_GRID) !== 0) {
    throw invalidArgument('classifier.size', `expected a multiple of ${reduce[1]! * POOL_GRID}, got ${c.size}`);
  }
  for (const a of ATTRIBUTES) {
    if (!Array.isArray(c.labels?.[a]) || c.labels[a].length < 2) throw invalidArgument(`classifier.labels.${a}`, 'expected at least two label names');
  }
}

export interface ClassifierOutput {
  /** [N, featureDim]: the penultimate activations. */
  features: Tensor;
  logits: Record<Attribute, Tensor>;
}

export class WorldClassifier extends Module {
  // not enumerable, so Module does not look into it for parameters
  declare readonly config: WorldClassifierConfig;
  conv1: Conv3d;
  conv2: Conv3d;
  conv3: Conv3d;
  project: Linear;
  kindHead: Linear;
  colourHead: Linear;
  motionHead: Linear;
  backgroundHead: Linear;

  constructor(config: WorldClassifierConfig, rng: Rng) {
    super();
    checkConfig(config);
    Object.defineProperty(this, 'config', { value: config, enumerable: false });
    const [c1, c2, c3] = config.channels;
    this.conv1 = new Conv3d(3, c1, 3, { rng, stride: STRIDES[0] });
    this.conv2 = new Conv3d(c1, c2, 3, { rng, stride: STRIDES[1] });
    this.conv3 = new Conv3d(c2, c3, 3, { rng, stride: STRIDES[2] });
    this.project = new Linear(c3 * (POOL_GRID * POOL_GRID + 1), config.featureDim, { rng });
    const head = (labels: string[]) => new Linear(config.featureDim, labels.length, { rng });
    this.kindHead = head(config.labels.kind);
    this.colourHead = head(config.labels.colour);
    this.motionHead = head(config.labels.motion);
    this.backgroundHead = head(config.labels.background);
  }

  /** x [N, 3, frames, size, size] in [-1, 1] -> features [N, featureDim]. */
  features(x: Tensor): Tensor {
    let h = silu(this.conv1.forward(x));
    h = silu(this.conv2.forward(h));
    h = silu(this.conv3.forward(h));
    const [n, c, t, hh, ww] = h.shape as [number, number, number, number, number];
    // average over time and within each cell of a POOL_GRID x POOL_GRID grid
    const cells = reshape(h, [n, c, t, POOL_GRID, hh / POOL_GRID, POOL_GRID, ww / POOL_GRID]);
    const grid = reshape(mean(cells, [2, 4, 6]), [n, c * POOL_GRID * POOL_GRID]);
    // and the strongest response anywhere: a small object is a few positions among many background ones,
    // which averaging alone dilutes
    const peak = max(reshape(h, [n, c, t * hh * ww]), 2);
    return silu(this.project.forward(concat([grid, peak], 1)));
  }

  forward(x: Tensor): ClassifierOutput {
    const features = this.features(x);
    return {
      features,
      logits: {
        kind: this.kindHead.forward(features),
        colour: this.colourHead.forward(features),
        motion: this.motionHead.forward(features),
        background: this.backgroundHead.forward(features),
      },
    };
  }

  /** Mean cross-entropy over the four heads. */
  loss(x: Tensor, targets: Record<Attribute, Int32Array>): { loss: Tensor; output: ClassifierOutput } {
    const output = this.forward(x);
    let total: Tensor | undefined;
    for (const a of ATTRIBUTES) {
      const l = crossEntropy(output.logits[a], targets[a]);
      total = total ? total.add(l) : l;
    }
    return { loss: total!.div(ATTRIBUTES.length), output };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Clips in, labels out

/**
 * Resamples a clip to the classifier's input, written into `out` at `offset` as [3, frames, size, size] floats in
 * [-1, 1]: frames picked evenly over the clip (nearest), pixels box-averaged (exact area weights), so a clip of
 * any size and length maps onto the same grid.
 */
export function writeClipInput(clip: VideoClip, config: Pick<WorldClassifierConfig, 'frames' | 'size'>, out: Float32Array, offset = 0): void {
  const { frames: T, size: S } = config;
  if (clip.data.length !== clip.frames * clip.height * clip.width * 3) {
    throw invalidArgument('clip', `expected ${clip.frames}x${clip.height}x${clip.width}x3 bytes, got ${clip.data.length}`);
  }
  const xs = areaWeights(clip.width, S);
  const ys = areaWeights(clip.height, S);
  const plane = T * S * S;
  const row = new Float64Array(S * 3);
  for (let t = 0; t < T; t++) {
    const src = Math.min(clip.frames - 1, Math.floor(((t + 0.5) * clip.frames) / T));
    const base = src * clip.height * clip.width * 3;
    for (let oy = 0; oy < S; oy++) {
      row.fill(0);
      for (const [y, wy] of ys[oy]!) {
        const line = base + y * clip.width * 3;
        for (let ox = 0; ox < S; ox++) {
          for (const [x, wx] of xs[ox]!) {
            const p = line + x * 3;
            const w = wy * wx;
            row[ox * 3] += w * clip.data[p]!;
            row[ox * 3 + 1] += w * clip.data[p + 1]!;
            row[ox * 3 + 2] += w * clip.data[p + 2]!;
          }
        }
      }
      for (let ox = 0; ox < S; ox++) {
        for (let ch = 0; ch < 3; ch++) out[offset + ch * plane + t * S * S + oy * S + ox] = row[ox * 3 + ch]! / 127.5 - 1;
      }
    }
  }
}

/** For each output pixel, the source pixels it covers and their weights (summing to 1). */
function areaWeights(from: number, to: number): [number, number][][] {
  const scale = from / to;
  return Array.from({ length: to }, (_, o) => {
    const lo = o * scale;
    const hi = lo + scale;
    const taps: [number, number][] = [];
    for (let i = Math.floor(lo); i < Math.min(from, Math.ceil(hi)); i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      if (w > 1e-9) taps.push([i, w / scale]);
    }
    return taps;
  });
}

/** A batch of clips as the classifier's input tensor [N, 3, frames, size, size]. */
export function clipsToInput(clips: readonly VideoClip[], config: Pick<WorldClassifierConfig, 'frames' | 'size'>): Tensor {
  const each = 3 * config.frames * config.size * config.size;
  const data = new Float32Array(clips.length * each);
  clips.forEach((clip, i) => writeClipInput(clip, config, data, i * each));
  return Tensor.from(data, [clips.length, 3, config.frames, config.size, config.size]);
}

/** The attribute labels of a scene as class indices: the first object's kind, colour and motion, and the background. */
export function labelsOf(spec: SceneSpec, config: Pick<WorldClassifierConfig, 'labels'>): Record<Attribute, number> {
  const o = spec.objects[0]!;
  const index = (a: Attribute, name: string) => {
    const i = config.labels[a].indexOf(name);
    if (i < 0) throw invalidArgument(`spec.${a}`, `'${name}' is not one of the classifier's ${a} labels`);
    return i;
  };
  return {
    kind: index('kind', o.kind),
    colour: index('colour', o.colour ?? NO_COLOUR),
    motion: index('motion', o.motion.type),
    background: index('background', spec.background.kind),
  };
}

export interface ClipPrediction {
  features: Float32Array;
  labels: Record<Attribute, string>;
}

/** Features [N * featureDim] and predicted labels of clips, in batches, without a graph. */
export function classifyClips(model: WorldClassifier, clips: readonly VideoClip[], batchSize = 16): ClipPrediction[] {
  const out: ClipPrediction[] = [];
  const dim = model.config.featureDim;
  noGrad(() => {
    for (let start = 0; start < clips.length; start += batchSize) {
      const batch = clips.slice(start, start + batchSize);
      const { features, logits } = model.forward(clipsToInput(batch, model.config));
      batch.forEach((_, i) => {
        const labels = {} as Record<Attribute, string>;
        for (const a of ATTRIBUTES) labels[a] = model.config.labels[a][argmaxRow(logits[a], i)]!;
        out.push({ features: Float32Array.from(features.data.subarray(i * dim, (i + 1) * dim)), labels });
      });
    }
  });
  return out;
}

function argmaxRow(logits: Tensor, row: number): number {
  const c = logits.shape[1]!;
  let best = 0;
  for (let j = 1; j < c; j++) if (logits.data[row * c + j]! > logits.data[row * c + best]!) best = j;
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Saving and loading

export async function saveClassifier(model: WorldClassifier, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await savePretrained(model, { ...model.config, ...extra }, dir, { className: CLASSIFIER_CLASS_NAME, dtype: 'F16' });
}

export async function loadClassifier(dir: string): Promise<WorldClassifier> {
  const { className, config, stateDict } = await loadPretrained(dir);
  if (className !== CLASSIFIER_CLASS_NAME) {
    throw new TesseraError('corrupt_file', `${dir}/config.json: expected _class_name ${CLASSIFIER_CLASS_NAME}, got ${className}`, { param: dir });
  }
  const c = config as unknown as WorldClassifierConfig;
  const model = new WorldClassifier({ frames: c.frames, size: c.size, channels: c.channels, featureDim: c.featureDim, labels: c.labels }, new Rng(0));
  loadWeightsInto(model, stateDict, dir);
  return model.eval();
}
