/**
 * The kernel contract: every hot loop of Tessera goes through one object implementing `Kernels`.
 * Two implementations exist: `reference` (TypeScript, works on Float32Array and Float64Array, the
 * ground truth in tests and the float64 path for gradient checks) and `native` (C++ addon, float32 only,
 * SIMD + one shared thread pool). Both must give the same results within float tolerance.
 *
 * Conventions
 * - All arrays are row-major and contiguous unless a leading dimension (ld*) or stride says otherwise.
 * - Callers pass views (`subarray`) rather than offsets.
 * - Output arrays are written, never reallocated; "accumulate" outputs (marked +=) are added to.
 * - Shapes are plain number arrays; no kernel validates shapes (the Tensor layer does, with good errors).
 */
export type FloatArray = Float32Array | Float64Array;

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'tanh' | 'sigmoid'
  | 'sin' | 'cos' | 'relu' | 'square' | 'recip';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow';

export type ReduceOp = 'sum' | 'max' | 'min';

/** Parameters of a 3D convolution on NCTHW tensors; conv2d is conv3d with T=1 and kt=1. */
export interface Conv3dParams {
  n: number; cIn: number; t: number; h: number; w: number; // input
  cOut: number; kt: number; kh: number; kw: number; // kernel, weight layout [cOut, cIn, kt, kh, kw]
  strideT: number; strideH: number; strideW: number;
  /** Zero padding; causal time padding is padFront = kt-1, padBack = 0. */
  padFront: number; padBack: number; padH: number; padW: number;
  /** Output sizes, computed by the caller: tOut = floor((t + padFront + padBack - kt) / strideT) + 1, etc. */
  tOut: number; hOut: number; wOut: number;
}

export interface Kernels {
  readonly name: 'native' | 'reference';
  /** Instruction set in use: 'avx512f' | 'avx2' | 'portable' | 'js'. */
  readonly isa: string;
  threads(): number;
  setThreads(n: number): void;

  // ---- matrix products --------------------------------------------------------------------
  /** C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C. op(X) = X^T when trans. Row-major with leading dims. */
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, lda: number, b: FloatArray, ldb: number, beta: number, c: FloatArray, ldc: number,
  ): void;
  /** `batch` independent sgemms; matrix i starts at i*strideX in each array (stride 0 broadcasts). */
  sgemmBatched(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, lda: number, strideA: number, b: FloatArray, ldb: number, strideB: number,
    beta: number, c: FloatArray, ldc: number, strideC: number, batch: number,
  ): void;

  // ---- attention ----------------------------------------------------------------------------
  /**
   * Fused multi-head attention. q [b,h,tq,d], k and v [b,h,tk,d], out [b,h,tq,d].
   * lse [b,h,tq] receives log-sum-exp of the scaled scores per query (saved for backward).
   * keyMask, if given, is [b,tk] with 1 = attend, 0 = padding. A query whose keys are all masked gets zeros.
   * Must not materialise the [tq,tk] score matrix for long sequences (tile over keys, online softmax).
   */
  attentionForward(
    q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray,
    b: number, h: number, tq: number, tk: number, d: number, scale: number, keyMask: Uint8Array | null,
  ): void;
  /** Gradients of attentionForward; dq, dk, dv are overwritten. */
  attentionBackward(
    q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, dout: FloatArray, lse: FloatArray,
    dq: FloatArray, dk: FloatArray, dv: FloatArray,
    b: number, h: number, tq: number, tk: number, d: number, scale: number, keyMask: Uint8Array | null,
  ): void;

  // ---- row-wise normalisations (rows x cols, normalised over cols) -----------------------------
  softmaxForward(x: FloatArray, y: FloatArray, rows: number, cols: number): void;
  softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void;
  /** y = (x - mean) * rstd * gamma + beta; gamma/beta [cols] or null. mean, rstd [rows] are outputs. */
  layerNormForward(
    x: FloatArray, gamma: FloatArray | null, beta: FloatArray | null, y: FloatArray,
    mean: FloatArray, rstd: FloatArray, rows: number, cols: number, eps: number,
  ): void;
  /** dx overwritten; dgamma, dbeta (+=) when not null. */
  layerNormBackward(
    x: FloatArray, gamma: FloatArray | null, dy: FloatArray, mean: FloatArray, rstd: FloatArray,
    dx: FloatArray, dgamma: FloatArray | null, dbeta: FloatArray | null, rows: number, cols: number,
  ): void;
  /** y = x * rstd * gamma, rstd = 1/sqrt(mean(x^2) + eps). */
  rmsNormForward(
    x: FloatArray, gamma: FloatArray | null, y: FloatArray, rstd: FloatArray, rows: number, cols: number, eps: number,
  ): void;
  rmsNormBackward(
    x: FloatArray, gamma: FloatArray | null, dy: FloatArray, rstd: FloatArray,
    dx: FloatArray, dgamma: FloatArray | null, rows: number, cols: number,
  ): void;

  // ---- activations (n elements) -------------------------------------------------------------
  /** GELU, tanh approximation. */
  geluForward(x: FloatArray, y: FloatArray, n: number): void;
  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void;
  siluForward(x: FloatArray, y: FloatArray, n: number): void;
  siluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void;

  // ---- elementwise and layout ---------------------------------------------------------------
  unary(op: UnaryOp, x: FloatArray, y: FloatArray, n: number): void;
  /**
   * out = a (op) b with NumPy broadcasting. aShape and bShape are already right-aligned to outShape's
   * rank (padded with 1s by the caller); a dimension of size 1 broadcasts.
   */
  binary(
    op: BinaryOp, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[],
    out: FloatArray, outShape: readonly number[],
  ): void;
  /** out = x * alpha + beta elementwise (scalar affine), n elements. */
  scale(x: FloatArray, alpha: number, beta: number, out: FloatArray, n: number): void;
  /** y += alpha * x (n elements). Used to accumulate gradients. */
  axpy(alpha: number, x: FloatArray, y: FloatArray, n: number): void;
  /**
   * Reduce over `axes` (sorted, unique) of x with shape `shape`; out has the shape with those axes removed
   * (or set to 1: same element count).
   */
  reduce(op: ReduceOp, x: FloatArray, shape: readonly number[], axes: readonly number[], out: FloatArray): void;
  /** out = x.permute(perm) made contiguous. */
  permute(x: FloatArray, shape: readonly number[], perm: readonly number[], out: FloatArray): void;

  // ---- convolution (NCTHW) ------------------------------------------------------------------
  /** out [n,cOut,tOut,hOut,wOut] = conv(x, weight) + bias (bias [cOut] or null). */
  conv3dForward(x: FloatArray, weight: FloatArray, bias: FloatArray | null, out: FloatArray, p: Conv3dParams): void;
  /** dx overwritten. */
  conv3dBackwardData(dout: FloatArray, weight: FloatArray, dx: FloatArray, p: Conv3dParams): void;
  /** dweight (+=), dbias (+=) when not null. */
  conv3dBackwardWeight(x: FloatArray, dout: FloatArray, dweight: FloatArray, dbias: FloatArray | null, p: Conv3dParams): void;

  // ---- optimiser ----------------------------------------------------------------------------
  /**
   * One decoupled-weight-decay Adam step in place, `step` counted from 1 (bias correction):
   * p -= lr * (mhat / (sqrt(vhat) + eps) + weightDecay * p).
   */
  adamw(
    param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number,
  ): void;
}
