/**
 * Samplers for the rectified-flow ODE dx/dsigma = v(x, sigma), integrated from sigma = 1 (noise) to 0 (data),
 * with a diffusers-like interface so any scheduler fits any pipeline:
 *
 *   scheduler.setTimesteps(steps, { shift });
 *   let x = noise;
 *   for (const t of scheduler.timesteps) x = scheduler.step(model(x, t), t, x);
 *
 * `timesteps` lists every model evaluation in order: a first-order scheduler evaluates once per step, Heun twice
 * (its `order` is 2), and `step` keeps track of which stage it is in. Timesteps are flow times in [0, 1], the value
 * the DiT takes directly.
 */
import { Tensor, type Rng } from '../engine/index.js';
import { invalidArgument, TesseraError } from '../errors.js';
import { shiftTime } from './flow.js';

export interface SetTimestepsOptions {
  /** Time shift s of t' = s t / (1 + (s - 1) t); 1 = none. See resolutionShift(). */
  shift?: number;
  /**
   * Fraction of the schedule to run (SDEdit-style editing): 1 starts from pure noise, 0.6 runs only the last 60%
   * of the steps, starting from `initialSigma` (see scaleNoise).
   */
  strength?: number;
}

export interface FlowScheduler {
  readonly name: string;
  /** Model evaluations per integration step. */
  readonly order: 1 | 2;
  /** Model evaluation times, in order; one step() call per entry. */
  readonly timesteps: Float32Array;
  /** The integration grid, from high noise to 0 (numSteps + 1 values). */
  readonly sigmas: Float32Array;
  /** Noise level of the sample returned by the most recent step() (or of the starting sample before any). */
  readonly sampleSigma: number;
  setTimesteps(numSteps: number, options?: SetTimestepsOptions): void;
  step(modelOutput: Tensor, timestep: number, sample: Tensor): Tensor;
  /** x at the schedule's first sigma for a clean sample (start of an edit): (1 - s) x + s noise. */
  scaleNoise(sample: Tensor, noise: Tensor): Tensor;
}

/** The shifted grid: linspace(1, 0, n + 1) mapped through the shift, truncated by strength. */
export function flowSigmas(numSteps: number, { shift = 1, strength = 1 }: SetTimestepsOptions = {}): Float32Array {
  if (!Number.isInteger(numSteps) || numSteps < 1) throw invalidArgument('steps', `expected a positive integer, got ${numSteps}`);
  if (!(strength > 0 && strength <= 1)) throw invalidArgument('strength', `expected a number in (0, 1], got ${strength}`);
  const all = Float32Array.from({ length: numSteps + 1 }, (_, i) => shiftTime(1 - i / numSteps, shift));
  const kept = Math.max(1, Math.round(numSteps * strength));
  return all.slice(numSteps - kept);
}

abstract class FlowSchedulerBase implements FlowScheduler {
  abstract readonly name: string;
  abstract readonly order: 1 | 2;
  sigmas: Float32Array = new Float32Array(0);
  timesteps: Float32Array = new Float32Array(0);
  sampleSigma = 1;
  /** Index into `timesteps` of the next expected step() call. */
  protected evalIndex = 0;

  setTimesteps(numSteps: number, options: SetTimestepsOptions = {}): void {
    this.sigmas = flowSigmas(numSteps, options);
    this.timesteps = this.evaluationTimes(this.sigmas);
    this.sampleSigma = this.sigmas[0]!;
    this.evalIndex = 0;
  }

  scaleNoise(sample: Tensor, noise: Tensor): Tensor {
    const s = this.sigmas.length > 0 ? this.sigmas[0]! : 1;
    return combine(sample, 1 - s, noise, s);
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): Tensor {
    if (this.timesteps.length === 0) throw new TesseraError('invalid_argument', `${this.name}: call setTimesteps() before step()`);
    if (this.evalIndex >= this.timesteps.length) {
      throw new TesseraError('invalid_argument', `${this.name}: all ${this.timesteps.length} steps are done; call setTimesteps() again`);
    }
    const expected = this.timesteps[this.evalIndex]!;
    if (Math.abs(timestep - expected) > 1e-6) {
      throw invalidArgument('timestep', `${this.name} expected step ${this.evalIndex} at t=${expected}, got t=${timestep}`);
    }
    if (modelOutput.size !== sample.size) {
      throw new TesseraError(
        'shape_mismatch',
        `${this.name}.step: model output [${modelOutput.shape.join(', ')}] does not match sample [${sample.shape.join(', ')}]`,
      );
    }
    return this.advance(modelOutput, sample, this.evalIndex++);
  }

  protected abstract evaluationTimes(sigmas: Float32Array): Float32Array;
  protected abstract advance(velocity: Tensor, sample: Tensor, evalIndex: number): Tensor;
}

/** First order: x_{i+1} = x_i + (sigma_{i+1} - sigma_i) v(x_i, sigma_i). Exact on straight paths. */
export class FlowEulerScheduler extends FlowSchedulerBase {
  readonly name = 'euler';
  readonly order = 1 as const;

  protected evaluationTimes(sigmas: Float32Array): Float32Array {
    return sigmas.slice(0, -1);
  }

  protected advance(velocity: Tensor, sample: Tensor, i: number): Tensor {
    const [from, to] = [this.sigmas[i]!, this.sigmas[i + 1]!];
    this.sampleSigma = to;
    return combine(sample, 1, velocity, to - from);
  }
}

/**
 * Heun (explicit trapezoid): an Euler predictor to sigma_{i+1}, then the average of the velocities at both ends.
 * Second order, two evaluations per step; the last step (to sigma = 0) is plain Euler, as in Karras et al., so
 * n steps cost 2n - 1 evaluations. The sample returned between the stages is the predictor at sigma_{i+1}.
 */
export class FlowHeunScheduler extends FlowSchedulerBase {
  readonly name = 'heun';
  readonly order = 2 as const;
  /** Per evaluation: the integration step it belongs to and whether it is the corrector stage. */
  private stages: { step: number; corrector: boolean }[] = [];
  private firstVelocity: Tensor | null = null;
  private startSample: Tensor | null = null;

  protected evaluationTimes(sigmas: Float32Array): Float32Array {
    const n = sigmas.length - 1;
    this.stages = [];
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      times.push(sigmas[i]!);
      this.stages.push({ step: i, corrector: false });
      if (i < n - 1) {
        times.push(sigmas[i + 1]!);
        this.stages.push({ step: i, corrector: true });
      }
    }
    this.firstVelocity = null;
    this.startSample = null;
    return Float32Array.from(times);
  }

  protected advance(velocity: Tensor, sample: Tensor, evalIndex: number): Tensor {
    const { step, corrector } = this.stages[evalIndex]!;
    const [from, to] = [this.sigmas[step]!, this.sigmas[step + 1]!];
    const h = to - from;
    this.sampleSigma = to;
    const isLast = step === this.sigmas.length - 2;
    if (!corrector) {
      if (!isLast) {
        this.firstVelocity = velocity.detach().clone();
        this.startSample = sample.detach().clone();
      }
      return combine(sample, 1, velocity, h);
    }
    // x_{i+1} = x_i + h (v1 + v2) / 2, from the sample saved at the predictor stage.
    const v1 = this.firstVelocity!;
    const x0 = this.startSample!;
    this.firstVelocity = this.startSample = null;
    const out = new Float32Array(x0.size);
    for (let j = 0; j < out.length; j++) out[j] = x0.data[j]! + 0.5 * h * (v1.data[j]! + velocity.data[j]!);
    return Tensor.from(out, x0.shape);
  }
}

/**
 * Stochastic first order: DDIM with eta, written for the flow x_t = (1 - t) x0 + t eps. Each step splits the
 * sample into the model's estimates of data and noise,
 *
 *   x0 = x - t v,   eps = x + (1 - t) v,
 *
 * and rebuilds it at the next noise level s from x0, part of eps and fresh noise z:
 *
 *   x_s = (1 - s) x0 + sqrt(s^2 - c^2) eps + c z,   c = eta s sqrt(1 - r^2),   r = (1 - t) s / ((1 - s) t).
 *
 * c^2 is eta^2 times the variance of q(x_s | x_t, x0), so eta = 0 is exactly Euler and eta = 1 is ancestral (DDPM)
 * sampling; for any eta the marginals stay those of the forward process, whatever the step count. Fresh noise
 * washes out part of the error earlier steps made instead of carrying it down the ODE, which helps a model whose
 * velocity is still rough (Karras et al. 2022, section 4). The last step returns x0.
 */
export class FlowEulerAncestralScheduler extends FlowSchedulerBase {
  readonly name = 'euler-ancestral';
  readonly order = 1 as const;
  readonly eta: number;
  private readonly rng: Rng;

  constructor(rng: Rng, eta = DEFAULT_ETA) {
    super();
    if (!(eta >= 0 && eta <= 1)) throw invalidArgument('eta', `expected a number in [0, 1], got ${eta}`);
    this.rng = rng;
    this.eta = eta;
  }

  protected evaluationTimes(sigmas: Float32Array): Float32Array {
    return sigmas.slice(0, -1);
  }

  protected advance(velocity: Tensor, sample: Tensor, i: number): Tensor {
    const [t, s] = [this.sigmas[i]!, this.sigmas[i + 1]!];
    this.sampleSigma = s;
    const r = t >= 1 ? 0 : ((1 - t) * s) / ((1 - s) * t);
    const c = this.eta * s * Math.sqrt(Math.max(0, 1 - r * r));
    const keep = Math.sqrt(Math.max(0, s * s - c * c));
    const out = new Float32Array(sample.size);
    const x = sample.data, v = velocity.data;
    for (let j = 0; j < out.length; j++) {
      const x0 = x[j]! - t * v[j]!;
      const eps = x[j]! + (1 - t) * v[j]!;
      out[j] = (1 - s) * x0 + keep * eps + (c > 0 ? c * this.rng.normal() : 0);
    }
    return Tensor.from(out, sample.shape);
  }
}

/** eta of euler-ancestral when none is given. */
export const DEFAULT_ETA = 0.5;

export type SchedulerName = 'euler' | 'heun' | 'euler-ancestral';
export const SCHEDULER_NAMES: readonly SchedulerName[] = ['euler', 'heun', 'euler-ancestral'];

export interface CreateSchedulerOptions {
  /** Source of the fresh noise of stochastic schedulers (euler-ancestral needs one). */
  rng?: Rng;
  /** euler-ancestral: DDIM's eta in [0, 1], how much of each step's posterior noise is drawn fresh. */
  eta?: number;
}

export function createScheduler(name: string, options: CreateSchedulerOptions = {}): FlowScheduler {
  switch (name) {
    case 'euler':
      return new FlowEulerScheduler();
    case 'heun':
      return new FlowHeunScheduler();
    case 'euler-ancestral':
      if (!options.rng) throw invalidArgument('rng', 'euler-ancestral draws fresh noise: pass a seeded Rng');
      return new FlowEulerAncestralScheduler(options.rng, options.eta);
    default:
      throw invalidArgument('scheduler', `expected one of ${SCHEDULER_NAMES.join(', ')}, got "${name}"`);
  }
}

/** a * x + b * y elementwise, as a new constant tensor with x's shape. */
function combine(x: Tensor, a: number, y: Tensor, b: number): Tensor {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = a * x.data[i]! + b * y.data[i]!;
  return Tensor.from(out, x.shape);
}
