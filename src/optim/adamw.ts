/**
 * AdamW (decoupled weight decay). The update itself is one kernel call per parameter; this class only keeps the
 * moment buffers and the hyper-parameters, and serialises both for checkpoints.
 */
import { getKernels } from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { TesseraError, invalidArgument } from '../errors.js';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /**
   * Which parameters are decayed. Default: matrices and kernels (ndim >= 2); biases, norm scales and other vectors
   * are not, as is usual for transformers.
   */
  decays?: (name: string, param: Tensor) => boolean;
}

type Moments = Float32Array | Float64Array;

/** Everything needed to resume: plain numbers and typed arrays keyed by parameter name. */
export interface AdamWState {
  step: number;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  m: Record<string, Moments>;
  v: Record<string, Moments>;
}

export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Updates taken so far (bias correction uses stepCount after increment, i.e. counted from 1). */
  stepCount = 0;
  private readonly params: { name: string; param: Tensor; decay: boolean; m: Moments; v: Moments }[];

  /** Takes named parameters (Module.namedParameters()) so the state can be saved and checked by name. */
  constructor(namedParams: [string, Tensor][], options: AdamWOptions) {
    const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01, decays = (_n, p) => p.ndim >= 2 } = options;
    if (!(lr >= 0)) throw invalidArgument('AdamW.lr', `expected a non-negative number, got ${lr}`);
    if (!(betas[0] >= 0 && betas[0] < 1 && betas[1] >= 0 && betas[1] < 1)) {
      throw invalidArgument('AdamW.betas', `expected both in [0, 1), got [${betas.join(', ')}]`);
    }
    this.lr = lr;
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.params = namedParams.map(([name, param]) => {
      const Moment = param.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor;
      return { name, param, decay: decays(name, param), m: new Moment(param.size), v: new Moment(param.size) };
    });
  }

  /** One update of every parameter that has a gradient; frozen or unused parameters are skipped. */
  step(): void {
    this.stepCount++;
    for (const { param, decay, m, v } of this.params) {
      if (!param.requiresGrad || param.grad === null) continue;
      getKernels(param.dtype).adamw(
        param.data, param.grad.data, m, v, param.size,
        this.lr, this.betas[0], this.betas[1], this.eps, decay ? this.weightDecay : 0, this.stepCount,
      );
    }
  }

  zeroGrad(): void {
    for (const { param } of this.params) param.grad = null;
  }

  /** A snapshot (copies of the moments) that survives further steps. */
  state(): AdamWState {
    const m: Record<string, Moments> = {};
    const v: Record<string, Moments> = {};
    for (const p of this.params) {
      m[p.name] = p.m.slice();
      v[p.name] = p.v.slice();
    }
    return { step: this.stepCount, lr: this.lr, betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay, m, v };
  }

  /** Restores moments and step count; every parameter must be present with the right length. */
  loadState(s: AdamWState): void {
    for (const p of this.params) {
      const m = s.m[p.name];
      const v = s.v[p.name];
      if (!m || !v) throw new TesseraError('invalid_argument', `AdamW.loadState: no moments for parameter ${p.name}`, { param: p.name });
      if (m.length !== p.param.size || v.length !== p.param.size) {
        throw new TesseraError(
          'shape_mismatch',
          `AdamW.loadState: ${p.name}: expected ${p.param.size} moment values, got ${m.length}/${v.length}`,
          { param: p.name },
        );
      }
    }
    for (const p of this.params) {
      p.m.set(s.m[p.name]!);
      p.v.set(s.v[p.name]!);
    }
    this.stepCount = s.step;
    this.lr = s.lr;
  }
}
