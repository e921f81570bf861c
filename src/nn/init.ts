/**
 * Parameter initialisers. Every random one takes the Rng explicitly, so a model built from the same seed has the
 * same weights on every machine.
 */
import { Tensor } from '../engine/index.js';
import type { Rng } from '../engine/index.js';
import { parameter } from './module.js';

/**
 * How a weight starts:
 * - 'xavier': U(-a, a), a = sqrt(6 / (fanIn + fanOut)), as DiT uses for every linear layer;
 * - 'kaiming': U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's default for Linear and Conv;
 * - 'zeros': all zero (adaLN-Zero modulation, final projections);
 * - { std }: N(0, std^2) (embeddings, timestep MLPs).
 */
export type Init = 'xavier' | 'kaiming' | 'zeros' | { std: number };

/** A new parameter of the given shape; fanIn/fanOut describe the weight as a linear map. */
export function initParameter(shape: number[], init: Init, rng: Rng, fanIn: number, fanOut: number): Tensor {
  const t = Tensor.zeros(shape);
  fillInit(t, init, rng, fanIn, fanOut);
  return parameter(t);
}

/** Refills an existing tensor in place (used to re-initialise a layer after construction). */
export function fillInit(t: Tensor, init: Init, rng: Rng, fanIn: number, fanOut: number): void {
  const d = t.data;
  if (init === 'zeros') {
    d.fill(0);
  } else if (init === 'xavier' || init === 'kaiming') {
    const bound = init === 'xavier' ? Math.sqrt(6 / (fanIn + fanOut)) : 1 / Math.sqrt(fanIn);
    for (let i = 0; i < d.length; i++) d[i] = (2 * rng.uniform() - 1) * bound;
  } else {
    for (let i = 0; i < d.length; i++) d[i] = rng.normal() * init.std;
  }
}

export function zerosParameter(shape: number[]): Tensor {
  return parameter(Tensor.zeros(shape));
}

export function onesParameter(shape: number[]): Tensor {
  return parameter(Tensor.ones(shape));
}
