/**
 * Reference kernels in TypeScript: the ground truth for tests of the native kernels and the float64 path of
 * gradient checks. Generic over Float32Array and Float64Array (writes to a Float32Array round on store).
 * Written for clarity first, with loop orders that keep the innermost loop contiguous.
 */
import type { BinaryOp, Conv3dParams, FloatArray, Kernels, ReduceOp, UnaryOp } from './types.js';

// ---- matrix products ------------------------------------------------------------------------

const GEMM_BLOCK_K = 128;
const GEMM_BLOCK_N = 512;

function sgemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: FloatArray, lda: number, b: FloatArray, ldb: number, beta: number, c: FloatArray, ldc: number,
): void {
  // C = beta * C first; beta == 0 overwrites (so NaN garbage in C never leaks through).
  for (let i = 0; i < m; i++) {
    const row = i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[row + j]! *= beta;
  }
  if (alpha === 0 || k === 0) return;

  if (transB && !transA) {
    // C[i,j] += alpha * dot(A[i,:], B[j,:]): both rows contiguous.
    for (let i = 0; i < m; i++) {
      const ai = i * lda;
      for (let j = 0; j < n; j++) {
        const bj = j * ldb;
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a[ai + p]! * b[bj + p]!;
        c[i * ldc + j]! += alpha * acc;
      }
    }
    return;
  }
  if (transB && transA) {
    // Rare: C[i,j] += alpha * sum_p A[p,i] * B[j,p].
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const bj = j * ldb;
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a[p * lda + i]! * b[bj + p]!;
        c[i * ldc + j]! += alpha * acc;
      }
    }
    return;
  }
  // B not transposed: rank-1 updates along rows of B, blocked over k and n so a panel of B stays in cache.
  for (let p0 = 0; p0 < k; p0 += GEMM_BLOCK_K) {
    const p1 = Math.min(k, p0 + GEMM_BLOCK_K);
    for (let j0 = 0; j0 < n; j0 += GEMM_BLOCK_N) {
      const j1 = Math.min(n, j0 + GEMM_BLOCK_N);
      for (let i = 0; i < m; i++) {
        const ci = i * ldc;
        for (let p = p0; p < p1; p++) {
          const aip = alpha * (transA ? a[p * lda + i]! : a[i * lda + p]!);
          const bp = p * ldb;
          for (let j = j0; j < j1; j++) c[ci + j]! += aip * b[bp + j]!;
        }
      }
    }
  }
}

function sgemmBatched(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: FloatArray, lda: number, strideA: number, b: FloatArray, ldb: number, strideB: number,
  beta: number, c: FloatArray, ldc: number, strideC: number, batch: number,
): void {
  const aRows = transA ? k : m, bRows = transB ? n : k;
  for (let i = 0; i < batch; i++) {
    const aView = a.subarray(i * strideA, i * strideA + (aRows - 1) * lda + (transA ? m : k));
    const bView = b.subarray(i * strideB, i * strideB + (bRows - 1) * ldb + (transB ? k : n));
    const cView = c.subarray(i * strideC, i * strideC + (m - 1) * ldc + n);
    sgemm(transA, transB, m, n, k, alpha, aView, lda, bView, ldb, beta, cView, ldc);
  }
}

// ---- attention ----------------------------------------------------------------------------------

/** scores[j] = scale * q_i . k_j for one query row; masked keys get -Infinity. Returns the row max. */
function scoreRow(
  q: FloatArray, qOff: number, k: FloatArray, kBase: number, tk: number, d: number, scale: number,
  mask: Uint8Array | null, maskOff: number, scores: Float64Array,
): number {
  let max = -Infinity;
  for (let j = 0; j < tk; j++) {
    if (mask !== null && mask[maskOff + j] === 0) {
      scores[j] = -Infinity;
      continue;
    }
    const kOff = kBase + j * d;
    let dot = 0;
    for (let e = 0; e < d; e++) dot += q[qOff + e]! * k[kOff + e]!;
    const s = dot * scale;
    scores[j] = s;
    if (s > max) max = s;
  }
  return max;
}

function attentionForward(
  q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray,
  b: number, h: number, tq: number, tk: number, d: number, scale: number, keyMask: Uint8Array | null,
): void {
  const scores = new Float64Array(tk);
  const acc = new Float64Array(d);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const head = bi * h + hi;
      const kvBase = head * tk * d;
      for (let i = 0; i < tq; i++) {
        const qOff = (head * tq + i) * d;
        const max = scoreRow(q, qOff, k, kvBase, tk, d, scale, keyMask, bi * tk, scores);
        if (max === -Infinity) {
          // every key masked: zeros out, and an lse that backward recognises as "no keys"
          out.fill(0, qOff, qOff + d);
          lse[head * tq + i] = -Infinity;
          continue;
        }
        acc.fill(0);
        let sum = 0;
        for (let j = 0; j < tk; j++) {
          if (scores[j] === -Infinity) continue;
          const p = Math.exp(scores[j]! - max);
          sum += p;
          const vOff = kvBase + j * d;
          for (let e = 0; e < d; e++) acc[e]! += p * v[vOff + e]!;
        }
        const inv = 1 / sum;
        for (let e = 0; e < d; e++) out[qOff + e] = acc[e]! * inv;
        lse[head * tq + i] = max + Math.log(sum);
      }
    }
  }
}

function attentionBackward(
  q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, dout: FloatArray, lse: FloatArray,
  dq: FloatArray, dk: FloatArray, dv: FloatArray,
  b: number, h: number, tq: number, tk: number, d: number, scale: number, keyMask: Uint8Array | null,
): void {
  dq.fill(0, 0, b * h * tq * d);
  dk.fill(0, 0, b * h * tk * d);
  dv.fill(0, 0, b * h * tk * d);
  const scores = new Float64Array(tk);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const head = bi * h + hi;
      const kvBase = head * tk * d;
      for (let i = 0; i < tq; i++) {
        const row = head * tq + i;
        const l = lse[row]!;
        if (l === -Infinity) continue;
        const qOff = row * d;
        scoreRow(q, qOff, k, kvBase, tk, d, scale, keyMask, bi * tk, scores);
        // delta = dout_i . out_i = sum_j p_ij (dout_i . v_j)
        let delta = 0;
        for (let e = 0; e < d; e++) delta += dout[qOff + e]! * out[qOff + e]!;
        for (let j = 0; j < tk; j++) {
          if (scores[j] === -Infinity) continue;
          const p = Math.exp(scores[j]! - l);
          const kvOff = kvBase + j * d;
          let dp = 0;
          for (let e = 0; e < d; e++) {
            dp += dout[qOff + e]! * v[kvOff + e]!;
            dv[kvOff + e]! += p * dout[qOff + e]!;
          }
          const ds = p * (dp - delta) * scale;
          for (let e = 0; e < d; e++) {
            dq[qOff + e]! += ds * k[kvOff + e]!;
            dk[kvOff + e]! += ds * q[qOff + e]!;
          }
        }
      }
    }
  }
}

// ---- row-wise normalisations ----------------------------------------------------------------------

function softmaxForward(x: FloatArray, y: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j]! > max) max = x[o + j]!;
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j]! - max);
      y[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) y[o + j]! *= inv;
  }
}

function softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += y[o + j]! * dy[o + j]!;
    for (let j = 0; j < cols; j++) dx[o + j] = y[o + j]! * (dy[o + j]! - dot);
  }
}

function layerNormForward(
  x: FloatArray, gamma: FloatArray | null, beta: FloatArray | null, y: FloatArray,
  mean: FloatArray, rstd: FloatArray, rows: number, cols: number, eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += x[o + j]!;
    const mu = sum / cols;
    let sq = 0;
    for (let j = 0; j < cols; j++) {
      const c = x[o + j]! - mu;
      sq += c * c;
    }
    const rs = 1 / Math.sqrt(sq / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      let v = (x[o + j]! - mu) * rs;
      if (gamma !== null) v *= gamma[j]!;
      if (beta !== null) v += beta[j]!;
      y[o + j] = v;
    }
  }
}

function layerNormBackward(
  x: FloatArray, gamma: FloatArray | null, dy: FloatArray, mean: FloatArray, rstd: FloatArray,
  dx: FloatArray, dgamma: FloatArray | null, dbeta: FloatArray | null, rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean[r]!, rs = rstd[r]!;
    // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma
    let sumG = 0, sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[o + j]! - mu) * rs;
      const g = gamma !== null ? dy[o + j]! * gamma[j]! : dy[o + j]!;
      sumG += g;
      sumGX += g * xhat;
      if (dgamma !== null) dgamma[j]! += dy[o + j]! * xhat;
      if (dbeta !== null) dbeta[j]! += dy[o + j]!;
    }
    const meanG = sumG / cols, meanGX = sumGX / cols;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[o + j]! - mu) * rs;
      const g = gamma !== null ? dy[o + j]! * gamma[j]! : dy[o + j]!;
      dx[o + j] = rs * (g - meanG - xhat * meanGX);
    }
  }
}

function rmsNormForward(
  x: FloatArray, gamma: FloatArray | null, y: FloatArray, rstd: FloatArray, rows: number, cols: number, eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sq = 0;
    for (let j = 0; j < cols; j++) sq += x[o + j]! * x[o + j]!;
    const rs = 1 / Math.sqrt(sq / cols + eps);
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) y[o + j] = x[o + j]! * rs * (gamma !== null ? gamma[j]! : 1);
  }
}

function rmsNormBackward(
  x: FloatArray, gamma: FloatArray | null, dy: FloatArray, rstd: FloatArray,
  dx: FloatArray, dgamma: FloatArray | null, rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const rs = rstd[r]!;
    // dx = rstd * (g - x * rstd^2 * mean(g * x)), g = dy * gamma
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const g = gamma !== null ? dy[o + j]! * gamma[j]! : dy[o + j]!;
      sumGX += g * x[o + j]!;
      if (dgamma !== null) dgamma[j]! += dy[o + j]! * x[o + j]! * rs;
    }
    const coef = (rs * rs * sumGX) / cols;
    for (let j = 0; j < cols; j++) {
      const g = gamma !== null ? dy[o + j]! * gamma[j]! : dy[o + j]!;
      dx[o + j] = rs * (g - x[o + j]! * coef);
    }
  }
}

// ---- activations --------------------------------------------------------------------------------

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

function geluForward(x: FloatArray, y: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    y[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
  }
}

function geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
    const dt = (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
    dx[i] = dy[i]! * (0.5 * (1 + t) + 0.5 * v * dt);
  }
}

function siluForward(x: FloatArray, y: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i]! / (1 + Math.exp(-x[i]!));
}

function siluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const s = 1 / (1 + Math.exp(-x[i]!));
    dx[i] = dy[i]! * s * (1 + x[i]! * (1 - s));
  }
}

// ---- elementwise and layout -----------------------------------------------------------------------

const UNARY: Record<UnaryOp, (v: number) => number> = {
  neg: (v) => -v,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (v) => 1 / Math.sqrt(v),
  abs: Math.abs,
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  sin: Math.sin,
  cos: Math.cos,
  relu: (v) => (v > 0 ? v : 0),
  square: (v) => v * v,
  recip: (v) => 1 / v,
};

function unary(op: UnaryOp, x: FloatArray, y: FloatArray, n: number): void {
  const f = UNARY[op];
  for (let i = 0; i < n; i++) y[i] = f(x[i]!);
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a >= b ? a : b),
  min: (a, b) => (a <= b ? a : b),
  pow: Math.pow,
};

/** Row-major strides of a shape, with 0 for dimensions of size 1 (so they broadcast). */
function broadcastStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = shape[i] === 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function binary(
  op: BinaryOp, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[],
  out: FloatArray, outShape: readonly number[],
): void {
  const f = BINARY[op];
  const n = product(outShape);
  const aSize = product(aShape), bSize = product(bShape);
  if (aSize === n && bSize === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
    return;
  }
  if (bSize === 1 && aSize === n) {
    const bv = b[0]!;
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, bv);
    return;
  }
  if (aSize === 1 && bSize === n) {
    const av = a[0]!;
    for (let i = 0; i < n; i++) out[i] = f(av, b[i]!);
    return;
  }
  // General case: walk the output in order, innermost dimension as a strided loop.
  const rank = outShape.length;
  const as = broadcastStrides(aShape), bs = broadcastStrides(bShape);
  const inner = outShape[rank - 1]!, ai = as[rank - 1]!, bi = bs[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let aOff = 0, bOff = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = f(a[aOff + j * ai]!, b[bOff + j * bi]!);
    // advance the outer index (odometer over dims rank-2 .. 0)
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      aOff += as[d]!;
      bOff += bs[d]!;
      if (index[d]! < outShape[d]!) break;
      aOff -= as[d]! * outShape[d]!;
      bOff -= bs[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
}

function scale(x: FloatArray, alpha: number, beta: number, out: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x[i]! * alpha + beta;
}

function axpy(alpha: number, x: FloatArray, y: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) y[i]! += alpha * x[i]!;
}

function reduce(op: ReduceOp, x: FloatArray, shape: readonly number[], axes: readonly number[], out: FloatArray): void {
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const ax of axes) reduced[ax] = true;
  // Output strides over the full rank, 0 on reduced axes: x element -> out element.
  const os = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    os[d] = reduced[d] ? 0 : s;
    if (!reduced[d]) s *= shape[d]!;
  }
  const outSize = s;
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  out.fill(init, 0, outSize);
  const n = product(shape);
  if (n === 0) return;
  const inner = rank === 0 ? 1 : shape[rank - 1]!;
  const innerStride = rank === 0 ? 0 : os[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let oOff = 0;
  for (let i = 0; i < n; i += inner) {
    if (innerStride === 0) {
      // reducing the innermost axis: fold the contiguous run into one output element
      let acc = out[oOff]!;
      if (op === 'sum') for (let j = 0; j < inner; j++) acc += x[i + j]!;
      else if (op === 'max') for (let j = 0; j < inner; j++) acc = x[i + j]! > acc ? x[i + j]! : acc;
      else for (let j = 0; j < inner; j++) acc = x[i + j]! < acc ? x[i + j]! : acc;
      out[oOff] = acc;
    } else if (op === 'sum') {
      for (let j = 0; j < inner; j++) out[oOff + j]! += x[i + j]!;
    } else if (op === 'max') {
      for (let j = 0; j < inner; j++) if (x[i + j]! > out[oOff + j]!) out[oOff + j] = x[i + j]!;
    } else {
      for (let j = 0; j < inner; j++) if (x[i + j]! < out[oOff + j]!) out[oOff + j] = x[i + j]!;
    }
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      oOff += os[d]!;
      if (index[d]! < shape[d]!) break;
      oOff -= os[d]! * shape[d]!;
      index[d] = 0;
    }
  }
}

function permute(x: FloatArray, shape: readonly number[], perm: readonly number[], out: FloatArray): void {
  const rank = shape.length;
  const n = product(shape);
  if (rank === 0 || n === 0) {
    if (n === 1) out[0] = x[0]!;
    return;
  }
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => inStrides[p]!); // input stride of each output dim
  const inner = outShape[rank - 1]!, innerStride = strides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let xOff = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = x[xOff + j * innerStride]!;
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      xOff += strides[d]!;
      if (index[d]! < outShape[d]!) break;
      xOff -= strides[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
}

// ---- convolution (im2col + gemm) ------------------------------------------------------------------

/**
 * Where each element of the im2col matrix [cIn*kt*kh*kw, tOut*hOut*wOut] reads from in one sample x [cIn, t, h, w]:
 * an input offset, or -1 for zero padding. im2col and its inverse walk the same map.
 */
function im2colIndex(p: Conv3dParams): Int32Array {
  const { cIn, t, h, w, kt, kh, kw, tOut, hOut, wOut } = p;
  const index = new Int32Array(cIn * kt * kh * kw * tOut * hOut * wOut);
  let o = 0;
  for (let c = 0; c < cIn; c++) {
    for (let dt = 0; dt < kt; dt++) {
      for (let dh = 0; dh < kh; dh++) {
        for (let dw = 0; dw < kw; dw++) {
          for (let ot = 0; ot < tOut; ot++) {
            const it = ot * p.strideT - p.padFront + dt;
            for (let oh = 0; oh < hOut; oh++) {
              const ih = oh * p.strideH - p.padH + dh;
              const valid = it >= 0 && it < t && ih >= 0 && ih < h;
              const base = ((c * t + it) * h + ih) * w;
              for (let ow = 0; ow < wOut; ow++, o++) {
                const iw = ow * p.strideW - p.padW + dw;
                index[o] = valid && iw >= 0 && iw < w ? base + iw : -1;
              }
            }
          }
        }
      }
    }
  }
  return index;
}

/** col from one sample x (zero padding). */
function im2col(x: FloatArray, col: FloatArray, index: Int32Array): void {
  for (let o = 0; o < index.length; o++) {
    const i = index[o]!;
    col[o] = i >= 0 ? x[i]! : 0;
  }
}

/** Inverse of im2col: dx += scattered col. */
function col2im(col: FloatArray, dx: FloatArray, index: Int32Array): void {
  for (let o = 0; o < index.length; o++) {
    const i = index[o]!;
    if (i >= 0) dx[i]! += col[o]!;
  }
}

function convSizes(p: Conv3dParams): { kSize: number; positions: number; inSize: number; outSize: number } {
  const kSize = p.cIn * p.kt * p.kh * p.kw;
  const positions = p.tOut * p.hOut * p.wOut;
  return { kSize, positions, inSize: p.cIn * p.t * p.h * p.w, outSize: p.cOut * positions };
}

function newLike(x: FloatArray, n: number): FloatArray {
  return x instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

function conv3dForward(x: FloatArray, weight: FloatArray, bias: FloatArray | null, out: FloatArray, p: Conv3dParams): void {
  const { kSize, positions, inSize, outSize } = convSizes(p);
  const col = newLike(x, kSize * positions);
  const index = im2colIndex(p);
  for (let s = 0; s < p.n; s++) {
    im2col(x.subarray(s * inSize, (s + 1) * inSize), col, index);
    const o = out.subarray(s * outSize, (s + 1) * outSize);
    sgemm(false, false, p.cOut, positions, kSize, 1, weight, kSize, col, positions, 0, o, positions);
    if (bias !== null) for (let c = 0; c < p.cOut; c++) for (let j = 0; j < positions; j++) o[c * positions + j]! += bias[c]!;
  }
}

function conv3dBackwardData(dout: FloatArray, weight: FloatArray, dx: FloatArray, p: Conv3dParams): void {
  const { kSize, positions, inSize, outSize } = convSizes(p);
  const col = newLike(dout, kSize * positions);
  const index = im2colIndex(p);
  dx.fill(0, 0, p.n * inSize);
  for (let s = 0; s < p.n; s++) {
    const g = dout.subarray(s * outSize, (s + 1) * outSize);
    sgemm(true, false, kSize, positions, p.cOut, 1, weight, kSize, g, positions, 0, col, positions);
    col2im(col, dx.subarray(s * inSize, (s + 1) * inSize), index);
  }
}

function conv3dBackwardWeight(x: FloatArray, dout: FloatArray, dweight: FloatArray, dbias: FloatArray | null, p: Conv3dParams): void {
  const { kSize, positions, inSize, outSize } = convSizes(p);
  const col = newLike(x, kSize * positions);
  const index = im2colIndex(p);
  for (let s = 0; s < p.n; s++) {
    im2col(x.subarray(s * inSize, (s + 1) * inSize), col, index);
    const g = dout.subarray(s * outSize, (s + 1) * outSize);
    sgemm(false, true, p.cOut, kSize, positions, 1, g, positions, col, positions, 1, dweight, kSize);
    if (dbias !== null) {
      for (let c = 0; c < p.cOut; c++) {
        let acc = 0;
        for (let j = 0; j < positions; j++) acc += g[c * positions + j]!;
        dbias[c]! += acc;
      }
    }
  }
}

// ---- optimiser ----------------------------------------------------------------------------------

function adamw(
  param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number,
): void {
  const c1 = 1 / (1 - Math.pow(beta1, step));
  const c2 = 1 / (1 - Math.pow(beta2, step));
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i]! -= lr * ((mi * c1) / (Math.sqrt(vi * c2) + eps) + weightDecay * param[i]!);
  }
}

export const referenceKernels: Kernels = {
  name: 'reference',
  isa: 'js',
  threads: () => 1,
  setThreads: () => {},
  sgemm,
  sgemmBatched,
  attentionForward,
  attentionBackward,
  softmaxForward,
  softmaxBackward,
  layerNormForward,
  layerNormBackward,
  rmsNormForward,
  rmsNormBackward,
  geluForward,
  geluBackward,
  siluForward,
  siluBackward,
  unary,
  binary,
  scale,
  axpy,
  reduce,
  permute,
  conv3dForward,
  conv3dBackwardData,
  conv3dBackwardWeight,
  adamw,
};
