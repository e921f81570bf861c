import { invalidArgument } from '../errors.js';

export interface WarmupCosineOptions {
  baseLr: number;
  /** Steps of linear warm-up from ~0 to baseLr. */
  warmupSteps: number;
  /** Step at which the cosine reaches minLr; later steps stay at minLr. */
  totalSteps: number;
  minLr?: number;
}

/** Learning rate at a step (counted from 0): linear warm-up, then half a cosine down to minLr. */
export function warmupCosine({ baseLr, warmupSteps, totalSteps, minLr = 0 }: WarmupCosineOptions): (step: number) => number {
  if (!(warmupSteps >= 0)) throw invalidArgument('warmupSteps', `expected >= 0, got ${warmupSteps}`);
  if (!(totalSteps > warmupSteps)) {
    throw invalidArgument('totalSteps', `expected more than warmupSteps (${warmupSteps}), got ${totalSteps}`);
  }
  return (step: number) => {
    if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
