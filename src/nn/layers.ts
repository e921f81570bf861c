/**
 * The standard layers. Each holds its parameters as properties (discovered by Module) and its forward is one or two
 * engine ops; weight layouts follow PyTorch so state dicts read the same way.
 */
import {
  Tensor,
  conv2d,
  conv3d,
  embedding,
  gelu,
  groupNorm,
  layerNorm,
  linear,
  rmsNorm,
  silu,
} from '../engine/index.js';
import type { Rng } from '../engine/index.js';
import { invalidArgument } from '../errors.js';
import { Module } from './module.js';
import { fillInit, initParameter, onesParameter, zerosParameter } from './init.js';
import type { Init } from './init.js';

export interface LinearOptions {
  rng: Rng;
  bias?: boolean;
  /** Weight init (default 'xavier'); the bias always starts at zero. */
  init?: Init;
}

/** y = x W^T + b with W [out, in]. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, { rng, bias = true, init = 'xavier' }: LinearOptions) {
    super();
    checkPositive('Linear.inFeatures', inFeatures);
    checkPositive('Linear.outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = initParameter([outFeatures, inFeatures], init, rng, inFeatures, outFeatures);
    this.bias = bias ? zerosParameter([outFeatures]) : null;
  }

  /** Re-initialises the weight (and zeroes the bias), e.g. the zero-init of adaLN-Zero. */
  reset(init: Init, rng: Rng): this {
    fillInit(this.weight, init, rng, this.inFeatures, this.outFeatures);
    this.bias?.data.fill(0);
    return this;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}

export interface NormOptions {
  /** Learnable per-channel scale (and shift for LayerNorm/GroupNorm); default true. */
  affine?: boolean;
  eps?: number;
}

/** Normalises over the last dimension. */
export class LayerNorm extends Module {
  readonly eps: number;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(dim: number, { affine = true, eps = 1e-6 }: NormOptions = {}) {
    super();
    checkPositive('LayerNorm.dim', dim);
    this.eps = eps;
    this.weight = affine ? onesParameter([dim]) : null;
    this.bias = affine ? zerosParameter([dim]) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** Root-mean-square norm over the last dimension (no centring), used for QK-norm. */
export class RMSNorm extends Module {
  readonly eps: number;
  weight: Tensor | null;

  constructor(dim: number, { affine = true, eps = 1e-6 }: NormOptions = {}) {
    super();
    checkPositive('RMSNorm.dim', dim);
    this.eps = eps;
    this.weight = affine ? onesParameter([dim]) : null;
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** Normalises [N, C, ...] over groups of C/groups channels and all positions. */
export class GroupNorm extends Module {
  readonly groups: number;
  readonly eps: number;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(groups: number, channels: number, { affine = true, eps = 1e-6 }: NormOptions = {}) {
    super();
    checkPositive('GroupNorm.groups', groups);
    if (channels % groups !== 0) {
      throw invalidArgument('GroupNorm.channels', `${channels} is not divisible by groups=${groups}`);
    }
    this.groups = groups;
    this.eps = eps;
    this.weight = affine ? onesParameter([channels]) : null;
    this.bias = affine ? zerosParameter([channels]) : null;
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

/** A lookup table [n, dim]; forward(ids, idsShape) -> [...idsShape, dim]. */
export class Embedding extends Module {
  weight: Tensor;

  constructor(numEmbeddings: number, dim: number, rng: Rng, { std = 0.02 }: { std?: number } = {}) {
    super();
    checkPositive('Embedding.numEmbeddings', numEmbeddings);
    checkPositive('Embedding.dim', dim);
    this.weight = initParameter([numEmbeddings, dim], { std }, rng, dim, dim);
  }

  forward(ids: Int32Array, idsShape: readonly number[] = [ids.length]): Tensor {
    const n = this.weight.shape[0]!;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i]! < 0 || ids[i]! >= n) throw invalidArgument('Embedding.ids', `id ${ids[i]} at ${i} is outside [0, ${n})`);
    }
    return embedding(this.weight, ids, idsShape);
  }
}

export type Triple = [number, number, number];

export interface Conv3dOptions {
  rng: Rng;
  stride?: number | Triple;
  /** Zero padding per axis (t, h, w); default keeps the size for odd kernels at stride 1 (k // 2). */
  padding?: number | Triple;
  /** Pads time only at the front (kt - 1 frames) so frame i never sees frames after i. */
  causal?: boolean;
  bias?: boolean;
  init?: Init;
}

/** 3D convolution on NCTHW with weight [cOut, cIn, kt, kh, kw]. */
export class Conv3d extends Module {
  readonly kernel: Triple;
  readonly stride: Triple;
  /** [front, back, h, w] as the engine op takes it. */
  readonly padding: [number, number, number, number];
  weight: Tensor;
  bias: Tensor | null;

  constructor(
    cIn: number,
    cOut: number,
    kernel: number | Triple,
    { rng, stride = 1, padding, causal = false, bias = true, init = 'kaiming' }: Conv3dOptions,
  ) {
    super();
    checkPositive('Conv3d.cIn', cIn);
    checkPositive('Conv3d.cOut', cOut);
    this.kernel = triple(kernel);
    this.stride = triple(stride);
    const [kt, kh, kw] = this.kernel;
    const [pt, ph, pw] = padding === undefined ? [kt >> 1, kh >> 1, kw >> 1] : triple(padding);
    this.padding = causal ? [kt - 1, 0, ph, pw] : [pt, pt, ph, pw];
    const fanIn = cIn * kt * kh * kw;
    this.weight = initParameter([cOut, cIn, kt, kh, kw], init, rng, fanIn, cOut * kt * kh * kw);
    this.bias = bias ? zerosParameter([cOut]) : null;
  }

  forward(x: Tensor): Tensor {
    return conv3d(x, this.weight, this.bias ?? undefined, { stride: this.stride, padding: this.padding });
  }
}

export interface Conv2dOptions {
  rng: Rng;
  stride?: number | [number, number];
  /** Zero padding (h, w); default k // 2. */
  padding?: number | [number, number];
  bias?: boolean;
  init?: Init;
}

/** 2D convolution on NCHW with weight [cOut, cIn, kh, kw]. */
export class Conv2d extends Module {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  weight: Tensor;
  bias: Tensor | null;

  constructor(
    cIn: number,
    cOut: number,
    kernel: number | [number, number],
    { rng, stride = 1, padding, bias = true, init = 'kaiming' }: Conv2dOptions,
  ) {
    super();
    checkPositive('Conv2d.cIn', cIn);
    checkPositive('Conv2d.cOut', cOut);
    this.kernel = pair(kernel);
    this.stride = pair(stride);
    const [kh, kw] = this.kernel;
    this.padding = padding === undefined ? [kh >> 1, kw >> 1] : pair(padding);
    this.weight = initParameter([cOut, cIn, kh, kw], init, rng, cIn * kh * kw, cOut * kh * kw);
    this.bias = bias ? zerosParameter([cOut]) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, { stride: this.stride, padding: this.padding });
  }
}

export type Activation = 'gelu' | 'silu';

export function activate(x: Tensor, activation: Activation): Tensor {
  return activation === 'gelu' ? gelu(x) : silu(x);
}

export interface MLPOptions {
  rng: Rng;
  activation?: Activation;
  /** Init of both layers' weights (default 'xavier'). */
  init?: Init;
}

/** Two linear layers with an activation between: fc2(act(fc1(x))). */
export class MLP extends Module {
  readonly activation: Activation;
  fc1: Linear;
  fc2: Linear;

  constructor(inFeatures: number, hiddenFeatures: number, outFeatures: number, { rng, activation = 'gelu', init = 'xavier' }: MLPOptions) {
    super();
    this.activation = activation;
    this.fc1 = new Linear(inFeatures, hiddenFeatures, { rng, init });
    this.fc2 = new Linear(hiddenFeatures, outFeatures, { rng, init });
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(activate(this.fc1.forward(x), this.activation));
  }
}

function triple(v: number | Triple): Triple {
  return typeof v === 'number' ? [v, v, v] : [v[0], v[1], v[2]];
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function checkPositive(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw invalidArgument(name, `expected a positive integer, got ${v}`);
}
