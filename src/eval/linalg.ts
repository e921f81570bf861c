/**
 * The little dense linear algebra the Frechet distance needs, in float64: symmetric eigendecomposition by cyclic
 * Jacobi rotations, and the square root of a symmetric positive semi-definite matrix built from it. Matrices are
 * row-major Float64Array of n*n. Dimensions here are small (64-128), where Jacobi is simple, exact to machine
 * precision and fast enough (a few sweeps of n^3 work).
 */
import { invalidArgument } from '../errors.js';

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** Eigenvectors as the columns of a row-major n*n matrix, in the order of `values`. */
  vectors: Float64Array;
}

function checkSquare(a: Float64Array, n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1 || a.length !== n * n) {
    throw invalidArgument(name, `expected a ${n}x${n} matrix (${n * n} values), got ${a.length} values`);
  }
}

/**
 * Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method: sweep over every off-diagonal pair (p, q)
 * and rotate it to zero, until the off-diagonal mass is negligible against the diagonal. Only the upper triangle
 * is read (the matrix is symmetrised first), so small asymmetries from rounding do no harm.
 */
export function symmetricEigen(matrix: Float64Array, n: number, { maxSweeps = 100, tolerance = 1e-14 } = {}): SymmetricEigen {
  checkSquare(matrix, n, 'symmetricEigen.matrix');
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = 0.5 * (matrix[i * n + j]! + matrix[j * n + i]!);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;

  const offDiagonal = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += a[i * n + j]! ** 2;
    return s;
  };
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i]! ** 2;
  if (scale === 0) return { values: new Float64Array(n), vectors: v };

  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    if (offDiagonal() <= tolerance * tolerance * scale) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        // the rotation angle that zeroes a[p][q]: tan(2θ) = 2 apq / (aqq - app), taking the smaller root for stability
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q of A
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q of A
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }

  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j]! - a[i * n + i]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src]!;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]!;
  });
  return { values, vectors };
}

/** C = A B for n*n row-major matrices. */
export function matmulSquare(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j]!;
    }
  }
  return c;
}

/**
 * Square root of a symmetric positive semi-definite matrix: V diag(sqrt(max(λ, 0))) Vᵀ. Eigenvalues that rounding
 * pushed slightly below zero count as zero (covariances from fewer samples than dimensions are singular).
 */
export function sqrtSymmetric(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const roots = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i * n + k]! * roots[k]! * vectors[j * n + k]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}
