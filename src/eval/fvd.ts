/**
 * Frechet distance between two sets of feature vectors, each summarised as a Gaussian (mean, covariance):
 *
 *   d² = |μ₁ - μ₂|² + tr(Σ₁ + Σ₂ - 2 (Σ₁ Σ₂)^½)
 *
 * FID/FVD compute this on features of a pretrained network (Inception for images, I3D trained on Kinetics for
 * video). Here the features come from the small world classifier (classifier.ts), so the number measures how far
 * generated clips are from rendered clips of the same world, and is NOT comparable with published FVD figures.
 *
 * tr((Σ₁ Σ₂)^½) is computed as tr((√Σ₁ Σ₂ √Σ₁)^½): the inner matrix is symmetric PSD, so both roots come from a
 * symmetric eigendecomposition and no general (non-symmetric) matrix square root is needed.
 */
import { invalidArgument } from '../errors.js';
import type { VideoClip } from '../media/types.js';
import { classifyClips, type WorldClassifier } from './classifier.js';
import { matmulSquare, sqrtSymmetric, symmetricEigen } from './linalg.js';

export interface GaussianStats {
  dim: number;
  /** How many feature vectors were summarised. */
  count: number;
  mean: Float64Array;
  /** Row-major dim*dim, unbiased (divides by count - 1). */
  covariance: Float64Array;
}

/** Mean and covariance of `count` feature vectors of `dim` values, laid out one after another. */
export function gaussianStats(features: ArrayLike<number>, count: number, dim: number): GaussianStats {
  if (!Number.isInteger(count) || count < 2) throw invalidArgument('features', `expected at least 2 feature vectors, got ${count}`);
  if (features.length !== count * dim) {
    throw invalidArgument('features', `expected ${count} x ${dim} = ${count * dim} values, got ${features.length}`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j] /= count;
  const covariance = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) centred[j] = features[i * dim + j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const ca = centred[a]!;
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) covariance[a * dim + b] += ca * centred[b]!;
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = covariance[a * dim + b]! / (count - 1);
      covariance[a * dim + b] = v;
      covariance[b * dim + a] = v;
    }
  }
  return { dim, count, mean, covariance };
}

export interface FrechetParts {
  /** The distance d² (what FID/FVD report; not square-rooted). */
  distance: number;
  /** |μ₁ - μ₂|²: how far apart the typical clips are. */
  meanTerm: number;
  /** tr(Σ₁ + Σ₂ - 2(Σ₁Σ₂)^½): how differently the sets vary. */
  covarianceTerm: number;
}

/** Frechet distance between two Gaussians, with its two terms. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): FrechetParts {
  if (a.dim !== b.dim) throw invalidArgument('stats', `feature dimensions differ: ${a.dim} vs ${b.dim}`);
  const n = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
  const rootA = sqrtSymmetric(a.covariance, n);
  const inner = matmulSquare(matmulSquare(rootA, b.covariance, n), rootA, n);
  const { values } = symmetricEigen(inner, n);
  let traceRoot = 0;
  for (const l of values) traceRoot += Math.sqrt(Math.max(l, 0));
  let traces = 0;
  for (let i = 0; i < n; i++) traces += a.covariance[i * n + i]! + b.covariance[i * n + i]!;
  // rounding can leave a tiny negative where the sets are identical; a distance is never below zero
  const covarianceTerm = Math.max(0, traces - 2 * traceRoot);
  return { distance: meanTerm + covarianceTerm, meanTerm, covarianceTerm };
}

/** Frechet distance between two sets of feature vectors of the same dimension. */
export function frechetDistanceOf(a: ArrayLike<number>, countA: number, b: ArrayLike<number>, countB: number, dim: number): FrechetParts {
  return frechetDistance(gaussianStats(a, countA, dim), gaussianStats(b, countB, dim));
}

/** Frechet distance between two sets of clips on the world classifier's features (the FVD-style number). */
export function clipFrechetDistance(classifier: WorldClassifier, a: readonly VideoClip[], b: readonly VideoClip[]): FrechetParts {
  const dim = classifier.config.featureDim;
  const stack = (clips: readonly VideoClip[]) => {
    const out = new Float64Array(clips.length * dim);
    classifyClips(classifier, clips).forEach((p, i) => out.set(p.features, i * dim));
    return out;
  };
  return frechetDistanceOf(stack(a), a.length, stack(b), b.length, dim);
}
