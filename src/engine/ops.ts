/**
 * Differentiable ops. Each op checks shapes (errors name the op and the shapes), computes its output through the
 * kernels, and records a backward closure with `Tensor.fromOp`. Hot ops (matmul, linear, attention, norms,
 * activations, broadcasting arithmetic, permute, conv) are single kernel calls forward and backward; the rest are
 * derived from them in a line or two.
 *
 * Backward closures run under noGrad, so they may freely call other ops.
 */
import { TesseraError, invalidArgument } from '../errors.js';
import { getKernels } from './kernels/index.js';
import type { BinaryOp, Conv3dParams, FloatArray, Kernels, UnaryOp } from './kernels/types.js';
import { Tensor, allocate, formatShape as fmt, sameShape, sizeOf, uninitialized } from './tensor.js';
import type { DType, Operand } from './tensor.js';

// ---- helpers ----------------------------------------------------------------------------------

function shapeError(op: string, message: string): TesseraError {
  return new TesseraError('shape_mismatch', `${op}: ${message}`);
}

/** A tensor whose contents the caller overwrites completely. */
function empty(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(uninitialized(dtype, sizeOf(shape)), shape);
}

function kernelsFor(t: Tensor): Kernels {
  return getKernels(t.dtype);
}

/** Normalises a possibly negative axis; `extra` allows one past the end (unsqueeze). */
function axisOf(op: string, axis: number, ndim: number, extra = 0): number {
  const limit = ndim + extra;
  if (!Number.isInteger(axis) || axis < -limit || axis >= limit) {
    throw shapeError(op, `axis ${axis} out of range for a ${ndim}-d tensor`);
  }
  return axis < 0 ? axis + limit : axis;
}

/** Sorted unique axes; undefined means all. */
function axesOf(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => axisOf(op, a, ndim)))].sort((a, b) => a - b);
}

function checkDtypes(op: string, tensors: readonly Tensor[]): DType {
  const dtype = tensors[0]!.dtype;
  for (const t of tensors) {
    if (t.dtype !== dtype) throw invalidArgument(op, `mixed dtypes ${tensors.map((x) => x.dtype).join(', ')}`);
  }
  return dtype;
}

function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw invalidArgument(op, 'needs at least one tensor operand');
  const dtype = typeof a === 'number' ? (b as Tensor).dtype : a.dtype;
  const ta = typeof a === 'number' ? Tensor.scalar(a, dtype) : a;
  const tb = typeof b === 'number' ? Tensor.scalar(b, dtype) : b;
  checkDtypes(op, [ta, tb]);
  return [ta, tb];
}

/** NumPy broadcasting of two shapes. */
function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw shapeError(op, `${fmt(a)} and ${fmt(b)} cannot broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

function padShape(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

function binaryData(op: BinaryOp, a: Tensor, b: Tensor, outShape: readonly number[]): FloatArray {
  const out = uninitialized(a.dtype, sizeOf(outShape));
  const rank = outShape.length;
  kernelsFor(a).binary(op, a.data, padShape(a.shape, rank), b.data, padShape(b.shape, rank), out, outShape);
  return out;
}

/** x's data broadcast to `shape` (materialised). */
function expandData(x: Tensor, shape: readonly number[]): FloatArray {
  if (sameShape(x.shape, shape)) return x.data;
  const zero = Tensor.scalar(0, x.dtype);
  return binaryData('add', x, zero, shape);
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const padded = padShape(shape, g.ndim);
  const axes: number[] = [];
  for (let d = 0; d < g.ndim; d++) if (padded[d] === 1 && g.shape[d] !== 1) axes.push(d);
  if (axes.length === 0) return new Tensor(g.data, shape);
  const out = uninitialized(g.dtype, sizeOf(shape));
  kernelsFor(g).reduce('sum', g.data, g.shape, axes, out);
  return new Tensor(out, shape);
}

/** Elementwise map over tensors of one shape, into a new tensor (used by non-hot backward passes). */
function mapData(shape: readonly number[], dtype: DType, n: number, f: (i: number) => number): Tensor {
  const out = uninitialized(dtype, n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return new Tensor(out, shape);
}

// ---- elementwise arithmetic (broadcasting) ------------------------------------------------------

/** x * a + b with scalars a, b. */
export function scaleShift(x: Tensor, a: number, b: number): Tensor {
  const out = uninitialized(x.dtype, x.size);
  kernelsFor(x).scale(x.data, a, b, out, x.size);
  return Tensor.fromOp(out, x.shape, 'scaleShift', [x], (g) => [a === 1 ? g : scaleShift(g, a, 0)]);
}

export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scaleShift(a, 1, b);
  if (typeof a === 'number' && typeof b !== 'number') return scaleShift(b, 1, a);
  const [x, y] = operands('add', a, b);
  const shape = broadcastShapes('add', x.shape, y.shape);
  return Tensor.fromOp(binaryData('add', x, y, shape), shape, 'add', [x, y], (g) => [
    x.requiresGrad ? sumTo(g, x.shape) : null,
    y.requiresGrad ? sumTo(g, y.shape) : null,
  ]);
}

export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scaleShift(a, 1, -b);
  if (typeof a === 'number' && typeof b !== 'number') return scaleShift(b, -1, a);
  const [x, y] = operands('sub', a, b);
  const shape = broadcastShapes('sub', x.shape, y.shape);
  return Tensor.fromOp(binaryData('sub', x, y, shape), shape, 'sub', [x, y], (g) => [
    x.requiresGrad ? sumTo(g, x.shape) : null,
    y.requiresGrad ? sumTo(neg(g), y.shape) : null,
  ]);
}

export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scaleShift(a, b, 0);
  if (typeof a === 'number' && typeof b !== 'number') return scaleShift(b, a, 0);
  const [x, y] = operands('mul', a, b);
  const shape = broadcastShapes('mul', x.shape, y.shape);
  return Tensor.fromOp(binaryData('mul', x, y, shape), shape, 'mul', [x, y], (g) => [
    x.requiresGrad ? sumTo(mul(g, y), x.shape) : null,
    y.requiresGrad ? sumTo(mul(g, x), y.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scaleShift(a, 1 / b, 0);
  if (typeof a === 'number' && typeof b !== 'number') return scaleShift(reciprocal(b), a, 0);
  const [x, y] = operands('div', a, b);
  const shape = broadcastShapes('div', x.shape, y.shape);
  const out = Tensor.fromOp(binaryData('div', x, y, shape), shape, 'div', [x, y], (g) => [
    x.requiresGrad ? sumTo(div(g, y), x.shape) : null,
    // d(x/y)/dy = -out / y
    y.requiresGrad ? sumTo(neg(mul(g, div(out.detach(), y))), y.shape) : null,
  ]);
  return out;
}

/** x ** p for a constant exponent. */
export function pow(x: Tensor, p: number): Tensor {
  const out = uninitialized(x.dtype, x.size);
  const exponent = Tensor.scalar(p, x.dtype);
  kernelsFor(x).binary('pow', x.data, x.shape, exponent.data, x.shape.map(() => 1), out, x.shape);
  return Tensor.fromOp(out, x.shape, 'pow', [x], (g) => [mul(g, scaleShift(pow(x, p - 1), p, 0))]);
}

function extremum(op: 'max' | 'min', name: string, a: Operand, b: Operand): Tensor {
  const [x, y] = operands(name, a, b);
  const shape = broadcastShapes(name, x.shape, y.shape);
  const data = binaryData(op, x, y, shape);
  return Tensor.fromOp(data, shape, name, [x, y], (g) => {
    // the gradient goes to whichever input the output equals (x on ties)
    const xFull = expandData(x, shape);
    const fromX = mapData(shape, g.dtype, g.size, (i) => (data[i] === xFull[i] ? 1 : 0));
    return [
      x.requiresGrad ? sumTo(mul(g, fromX), x.shape) : null,
      y.requiresGrad ? sumTo(mul(g, scaleShift(fromX, -1, 1)), y.shape) : null,
    ];
  });
}

export function maximum(a: Operand, b: Operand): Tensor {
  return extremum('max', 'maximum', a, b);
}

export function minimum(a: Operand, b: Operand): Tensor {
  return extremum('min', 'minimum', a, b);
}

/** cond (0 or 1, broadcasting) selects a where 1 and b where 0. cond gets no gradient. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [x, y] = operands('where', a, b);
  checkDtypes('where', [cond, x]);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const c = expandData(cond, shape), xs = expandData(x, shape), ys = expandData(y, shape);
  const out = uninitialized(x.dtype, sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = c[i] !== 0 ? xs[i]! : ys[i]!;
  return Tensor.fromOp(out, shape, 'where', [x, y], (g) => {
    const mask = new Tensor(c, shape);
    return [
      x.requiresGrad ? sumTo(mul(g, mask), x.shape) : null,
      y.requiresGrad ? sumTo(mul(g, scaleShift(mask, -1, 1)), y.shape) : null,
    ];
  });
}

// ---- unary ------------------------------------------------------------------------------------

/** A unary kernel op whose gradient is g * dydx(x, y) elementwise. */
function unaryOp(op: UnaryOp, x: Tensor, dydx: (x: number, y: number) => number): Tensor {
  const out = uninitialized(x.dtype, x.size);
  kernelsFor(x).unary(op, x.data, out, x.size);
  return Tensor.fromOp(out, x.shape, op, [x], (g) => {
    const gd = g.data, xd = x.data;
    return [mapData(x.shape, x.dtype, x.size, (i) => gd[i]! * dydx(xd[i]!, out[i]!))];
  });
}

export function neg(x: Tensor): Tensor {
  return scaleShift(x, -1, 0);
}
export function exp(x: Tensor): Tensor {
  return unaryOp('exp', x, (_, y) => y);
}
export function log(x: Tensor): Tensor {
  return unaryOp('log', x, (v) => 1 / v);
}
export function sqrt(x: Tensor): Tensor {
  return unaryOp('sqrt', x, (_, y) => 0.5 / y);
}
export function rsqrt(x: Tensor): Tensor {
  return unaryOp('rsqrt', x, (_, y) => -0.5 * y * y * y);
}
export function abs(x: Tensor): Tensor {
  return unaryOp('abs', x, (v) => Math.sign(v));
}
export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', x, (_, y) => 1 - y * y);
}
export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', x, (_, y) => y * (1 - y));
}
export function sin(x: Tensor): Tensor {
  return unaryOp('sin', x, (v) => Math.cos(v));
}
export function cos(x: Tensor): Tensor {
  return unaryOp('cos', x, (v) => -Math.sin(v));
}
export function square(x: Tensor): Tensor {
  return unaryOp('square', x, (v) => 2 * v);
}
export function reciprocal(x: Tensor): Tensor {
  return unaryOp('recip', x, (_, y) => -y * y);
}
export function relu(x: Tensor): Tensor {
  return unaryOp('relu', x, (v) => (v > 0 ? 1 : 0));
}

/** A pointwise activation whose forward and backward are kernels (geluForward/geluBackward, ...). */
function kernelActivation(name: 'gelu' | 'silu', x: Tensor): Tensor {
  const k = kernelsFor(x);
  const forward = name === 'gelu' ? k.geluForward : k.siluForward;
  const backward = name === 'gelu' ? k.geluBackward : k.siluBackward;
  const out = uninitialized(x.dtype, x.size);
  forward.call(k, x.data, out, x.size);
  return Tensor.fromOp(out, x.shape, name, [x], (g) => {
    const dx = uninitialized(x.dtype, x.size);
    backward.call(k, x.data, g.data, dx, x.size);
    return [new Tensor(dx, x.shape)];
  });
}

/** GELU with the tanh approximation (as in DiT). */
export function gelu(x: Tensor): Tensor {
  return kernelActivation('gelu', x);
}

export function silu(x: Tensor): Tensor {
  return kernelActivation('silu', x);
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw invalidArgument('clamp', `lo ${lo} must be <= hi ${hi}`);
  const xd = x.data;
  const out = mapData(x.shape, x.dtype, x.size, (i) => Math.min(hi, Math.max(lo, xd[i]!))).data;
  return Tensor.fromOp(out, x.shape, 'clamp', [x], (g) => {
    const gd = g.data;
    return [mapData(x.shape, x.dtype, x.size, (i) => (xd[i]! >= lo && xd[i]! <= hi ? gd[i]! : 0))];
  });
}

// ---- linear algebra ---------------------------------------------------------------------------

/** Element offsets of each output batch matrix in an operand whose batch dims broadcast. */
function batchOffsets(batchShape: readonly number[], outBatch: readonly number[], matrixSize: number): number[] {
  const padded = padShape(batchShape, outBatch.length);
  const strides = new Array<number>(padded.length);
  let s = matrixSize;
  for (let d = padded.length - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d]!;
  }
  const count = sizeOf(outBatch);
  const offsets = new Array<number>(count);
  const index = new Array<number>(outBatch.length).fill(0);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = offset;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      index[d]!++;
      offset += strides[d]!;
      if (index[d]! < outBatch[d]!) break;
      offset -= strides[d]! * outBatch[d]!;
      index[d] = 0;
    }
  }
  return offsets;
}

/** The common stride of an arithmetic sequence of offsets, or null. */
function uniformStride(offsets: readonly number[]): number | null {
  if (offsets.length < 2) return 0;
  const stride = offsets[1]! - offsets[0]!;
  for (let i = 2; i < offsets.length; i++) if (offsets[i]! - offsets[i - 1]! !== stride) return null;
  return offsets[0] === 0 ? stride : null;
}

/**
 * C_i = op(A_i) op(B_i) for matrices at the given offsets; where several products land on the same C matrix
 * (the gradient of a broadcast operand) they are summed.
 */
function batchedGemm(
  kern: Kernels, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: FloatArray, aOffsets: readonly number[], lda: number,
  b: FloatArray, bOffsets: readonly number[], ldb: number,
  c: FloatArray, cOffsets: readonly number[], ldc: number,
): void {
  const count = cOffsets.length;
  const sa = uniformStride(aOffsets), sb = uniformStride(bOffsets), sc = uniformStride(cOffsets);
  if (sa !== null && sb !== null && sc !== null && (sc !== 0 || count === 1)) {
    kern.sgemmBatched(transA, transB, m, n, k, 1, a, lda, sa, b, ldb, sb, 0, c, ldc, sc, count);
    return;
  }
  const aSize = (transA ? k : m) * lda, bSize = (transB ? n : k) * ldb, cSize = m * ldc;
  const written = new Set<number>();
  for (let i = 0; i < count; i++) {
    const beta = written.has(cOffsets[i]!) ? 1 : 0;
    written.add(cOffsets[i]!);
    kern.sgemm(
      transA, transB, m, n, k, 1,
      a.subarray(aOffsets[i], aOffsets[i]! + aSize), lda,
      b.subarray(bOffsets[i], bOffsets[i]! + bSize), ldb,
      beta, c.subarray(cOffsets[i], cOffsets[i]! + cSize), ldc,
    );
  }
}

/** a [..., m, k] x b [..., k, n] -> [..., m, n], batch dims broadcasting. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkDtypes('matmul', [a, b]);
  if (a.ndim < 2 || b.ndim < 2) throw shapeError('matmul', `${fmt(a.shape)} x ${fmt(b.shape)}: both operands need at least 2 dims`);
  const m = a.shape[a.ndim - 2]!, k = a.shape[a.ndim - 1]!, n = b.shape[b.ndim - 1]!;
  if (b.shape[b.ndim - 2] !== k) {
    throw shapeError('matmul', `${fmt(a.shape)} x ${fmt(b.shape)}: inner dims ${k} != ${b.shape[b.ndim - 2]}`);
  }
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', aBatch, bBatch);
  } catch {
    throw shapeError('matmul', `${fmt(a.shape)} x ${fmt(b.shape)}: batch dims cannot broadcast`);
  }
  const kern = kernelsFor(a);
  const outShape = [...batch, m, n];
  const out = uninitialized(a.dtype, sizeOf(outShape));

  if (sizeOf(bBatch) === 1 && sameShape(padShape(aBatch, batch.length), batch)) {
    // b is one matrix: fold a's batch into its rows, one gemm.
    const rows = sizeOf(batch) * m;
    kern.sgemm(false, false, rows, n, k, 1, a.data, k, b.data, n, 0, out, n);
    return Tensor.fromOp(out, outShape, 'matmul', [a, b], (g) => {
      let ga: Tensor | null = null, gb: Tensor | null = null;
      if (a.requiresGrad) {
        ga = empty(a.shape, a.dtype);
        kern.sgemm(false, true, rows, k, n, 1, g.data, n, b.data, n, 0, ga.data, k);
      }
      if (b.requiresGrad) {
        gb = empty(b.shape, b.dtype);
        kern.sgemm(true, false, k, n, rows, 1, a.data, k, g.data, n, 0, gb.data, n);
      }
      return [ga, gb];
    });
  }

  const aOff = batchOffsets(aBatch, batch, m * k);
  const bOff = batchOffsets(bBatch, batch, k * n);
  const cOff = batchOffsets(batch, batch, m * n);
  batchedGemm(kern, false, false, m, n, k, a.data, aOff, k, b.data, bOff, n, out, cOff, n);
  return Tensor.fromOp(out, outShape, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      ga = empty(a.shape, a.dtype); // dA_i += dC_i B_i^T
      batchedGemm(kern, false, true, m, k, n, g.data, cOff, n, b.data, bOff, n, ga.data, aOff, k);
    }
    if (b.requiresGrad) {
      gb = empty(b.shape, b.dtype); // dB_i += A_i^T dC_i
      batchedGemm(kern, true, false, k, n, m, a.data, aOff, k, g.data, cOff, n, gb.data, bOff, n);
    }
    return [ga, gb];
  });
}

/** x [..., in] W^T + bias, weight [out, in] in PyTorch layout (no transpose copy), bias [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const b = bias ?? null;
  checkDtypes('linear', b === null ? [x, weight] : [x, weight, b]);
  if (weight.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw shapeError('linear', `input ${fmt(x.shape)} with weight ${fmt(weight.shape)}: expected weight [out, ${x.shape[x.ndim - 1]}]`);
  }
  const inF = weight.shape[1]!, outF = weight.shape[0]!;
  if (b !== null && (b.ndim !== 1 || b.shape[0] !== outF)) {
    throw shapeError('linear', `bias ${fmt(b.shape)} for weight ${fmt(weight.shape)}: expected [${outF}]`);
  }
  const rows = x.size / inF;
  const kern = kernelsFor(x);
  const outShape = [...x.shape.slice(0, -1), outF];
  const out = uninitialized(x.dtype, rows * outF);
  if (b !== null) for (let r = 0; r < rows; r++) out.set(b.data, r * outF);
  kern.sgemm(false, true, rows, outF, inF, 1, x.data, inF, weight.data, inF, b !== null ? 1 : 0, out, outF);
  const parents = b !== null ? [x, weight, b] : [x, weight];
  return Tensor.fromOp(out, outShape, 'linear', parents, (g) => {
    let gx: Tensor | null = null, gw: Tensor | null = null, gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = empty(x.shape, x.dtype); // dX = dY W
      kern.sgemm(false, false, rows, inF, outF, 1, g.data, outF, weight.data, inF, 0, gx.data, inF);
    }
    if (weight.requiresGrad) {
      gw = empty(weight.shape, weight.dtype); // dW = dY^T X
      kern.sgemm(true, false, outF, inF, rows, 1, g.data, outF, x.data, inF, 0, gw.data, inF);
    }
    if (b !== null && b.requiresGrad) {
      gb = empty(b.shape, b.dtype);
      kern.reduce('sum', g.data, [rows, outF], [0], gb.data);
    }
    return [gx, gw, gb];
  });
}

// ---- shape ------------------------------------------------------------------------------------

/** Same data, new shape; one dim may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const inferred = shape.indexOf(-1);
  let target = shape;
  if (inferred >= 0) {
    if (shape.indexOf(-1, inferred + 1) >= 0) throw shapeError('reshape', `${fmt(x.shape)} to ${fmt(shape)}: only one -1 allowed`);
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw shapeError('reshape', `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sizeOf(target) !== x.size || target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw shapeError('reshape', `cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  if (sameShape(target, x.shape)) return x;
  return Tensor.fromOp(x.data, target, 'reshape', [x], (g) => [new Tensor(g.data, x.shape)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const axes = perm.map((p) => axisOf('permute', p, x.ndim));
  if (axes.length !== x.ndim || new Set(axes).size !== x.ndim) {
    throw shapeError('permute', `${fmt(perm)} is not a permutation of the ${x.ndim} axes of ${fmt(x.shape)}`);
  }
  const outShape = axes.map((p) => x.shape[p]!);
  // Moving only size-1 axes (or none) keeps the element order: a reshape.
  const moved = axes.filter((p) => x.shape[p] !== 1);
  if (moved.every((p, i) => i === 0 || p > moved[i - 1]!)) return reshape(x, outShape);
  const out = uninitialized(x.dtype, x.size);
  kernelsFor(x).permute(x.data, x.shape, axes, out);
  const inverse = new Array<number>(axes.length);
  axes.forEach((p, i) => (inverse[p] = i));
  return Tensor.fromOp(out, outShape, 'permute', [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  const perm = Array.from({ length: x.ndim }, (_, i) => i);
  const i = axisOf('transpose', a, x.ndim), j = axisOf('transpose', b, x.ndim);
  perm[i] = j;
  perm[j] = i;
  return permute(x, perm);
}

/** Merges axes start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = axisOf('flatten', start, x.ndim), e = axisOf('flatten', end, x.ndim);
  if (s > e) throw shapeError('flatten', `start ${start} after end ${end} for ${fmt(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = axisOf('unsqueeze', axis, x.ndim, 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes the given size-1 axis, or all size-1 axes. */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = axisOf('squeeze', axis, x.ndim);
  if (x.shape[a] !== 1) throw shapeError('squeeze', `axis ${axis} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]);
}

/** Broadcasts x to `shape` (-1 keeps a dim), materialised. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const padded = padShape(x.shape, shape.length);
  if (shape.length < x.ndim) throw shapeError('expand', `${fmt(x.shape)} to ${fmt(shape)}: fewer dims`);
  const target = shape.map((d, i) => (d === -1 ? padded[i]! : d));
  for (let i = 0; i < target.length; i++) {
    if (padded[i] !== 1 && padded[i] !== target[i]) throw shapeError('expand', `${fmt(x.shape)} cannot expand to ${fmt(shape)}`);
  }
  if (sameShape(target, x.shape)) return x;
  return Tensor.fromOp(expandData(x, target), target, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** outer = product of dims before axis, inner = product after: the layout every axis op works in. */
function around(shape: readonly number[], axis: number): { outer: number; dim: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), dim: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw invalidArgument('concat', 'needs at least one tensor');
  const first = xs[0]!;
  checkDtypes('concat', xs);
  const a = axisOf('concat', axis, first.ndim);
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw shapeError('concat', `shapes ${xs.map((t) => fmt(t.shape)).join(', ')} differ outside axis ${a}`);
    }
  }
  const outShape = first.shape.slice();
  outShape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const { outer, inner } = around(first.shape, a);
  const outRow = outShape[a]! * inner;
  const out = uninitialized(first.dtype, sizeOf(outShape));
  let offset = 0;
  const offsets: number[] = [];
  for (const x of xs) {
    offsets.push(offset);
    const row = x.shape[a]! * inner;
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * row, (o + 1) * row), o * outRow + offset);
    offset += row;
  }
  return Tensor.fromOp(out, outShape, 'concat', xs, (g) =>
    xs.map((x, i) => {
      if (!x.requiresGrad) return null;
      const row = x.shape[a]! * inner;
      const gx = uninitialized(x.dtype, x.size);
      for (let o = 0; o < outer; o++) gx.set(g.data.subarray(o * outRow + offsets[i]!, o * outRow + offsets[i]! + row), o * row);
      return new Tensor(gx, x.shape);
    }),
  );
}

/** Elements start..end (exclusive) along axis; negative indices count from the end. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = axisOf('slice', axis, x.ndim);
  const { outer, dim, inner } = around(x.shape, a);
  const s = start < 0 ? start + dim : start;
  const e = end === undefined ? dim : end < 0 ? end + dim : end;
  if (!(0 <= s && s <= e && e <= dim)) throw shapeError('slice', `[${start}, ${end ?? dim}) out of range for axis ${a} of ${fmt(x.shape)}`);
  const outShape = x.shape.slice();
  outShape[a] = e - s;
  const row = dim * inner, outRow = (e - s) * inner;
  let out: FloatArray;
  if (outer === 1) {
    out = x.data.subarray(s * inner, e * inner); // contiguous: a view, no copy
  } else {
    out = uninitialized(x.dtype, outer * outRow);
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * row + s * inner, o * row + e * inner), o * outRow);
  }
  return Tensor.fromOp(out, outShape, 'slice', [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let o = 0; o < outer; o++) gx.set(g.data.subarray(o * outRow, (o + 1) * outRow), o * row + s * inner);
    return [new Tensor(gx, x.shape)];
  });
}

/** Pieces of the given sizes along axis (a number: pieces of that size, the last may be smaller). */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = axisOf('split', axis, x.ndim);
  const dim = x.shape[a]!;
  let list: number[];
  if (typeof sizes === 'number') {
    if (!(sizes > 0)) throw invalidArgument('split', `size must be positive, got ${sizes}`);
    list = [];
    for (let s = 0; s < dim; s += sizes) list.push(Math.min(sizes, dim - s));
  } else {
    list = [...sizes];
  }
  if (list.reduce((s, v) => s + v, 0) !== dim) throw shapeError('split', `sizes ${fmt(list)} do not sum to axis ${a} of ${fmt(x.shape)}`);
  let start = 0;
  return list.map((size) => slice(x, a, start, (start += size)));
}

/** n equal pieces along axis. */
export function chunk(x: Tensor, n: number, axis = 0): Tensor[] {
  const a = axisOf('chunk', axis, x.ndim);
  if (!Number.isInteger(n) || n < 1 || x.shape[a]! % n !== 0) {
    throw shapeError('chunk', `axis ${a} of ${fmt(x.shape)} does not divide into ${n} equal chunks`);
  }
  return split(x, x.shape[a]! / n, a);
}

/** Constant padding; pads[i] = [before, after] for axis i (one pair per axis). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length !== x.ndim || pads.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0)) {
    throw shapeError('pad', `pads ${JSON.stringify(pads)} for ${fmt(x.shape)}: need one non-negative [before, after] per axis`);
  }
  const outShape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const out = allocate(x.dtype, sizeOf(outShape));
  if (value !== 0) out.fill(value);
  const rowOffsets = paddedRowOffsets(x.shape, outShape, pads);
  const inner = x.ndim === 0 ? 1 : x.shape[x.ndim - 1]!;
  rowOffsets.forEach((o, r) => out.set(x.data.subarray(r * inner, (r + 1) * inner), o));
  return Tensor.fromOp(out, outShape, 'pad', [x], (g) => {
    const gx = uninitialized(x.dtype, x.size);
    rowOffsets.forEach((o, r) => gx.set(g.data.subarray(o, o + inner), r * inner));
    return [new Tensor(gx, x.shape)];
  });
}

/** Offset in the padded output of each innermost row of x. */
function paddedRowOffsets(shape: readonly number[], outShape: readonly number[], pads: readonly (readonly [number, number])[]): number[] {
  const rank = shape.length;
  if (rank === 0) return [0];
  const outStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStrides[d] = s;
    s *= outShape[d]!;
  }
  const rows = sizeOf(shape.slice(0, -1));
  const offsets = new Array<number>(rows);
  const index = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let o = pads[rank - 1]![0];
    for (let d = 0; d < rank - 1; d++) o += (index[d]! + pads[d]![0]) * outStrides[d]!;
    offsets[r] = o;
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return offsets;
}

/** Repeats each element `repeats` times along axis (nearest-neighbour upsampling). */
export function repeatInterleave(x: Tensor, repeats: number, axis: number): Tensor {
  if (!Number.isInteger(repeats) || repeats < 1) throw invalidArgument('repeatInterleave', `repeats must be a positive integer, got ${repeats}`);
  const a = axisOf('repeatInterleave', axis, x.ndim);
  if (repeats === 1) return x;
  const { outer, dim, inner } = around(x.shape, a);
  const outShape = x.shape.slice();
  outShape[a] = dim * repeats;
  const out = uninitialized(x.dtype, x.size * repeats);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < dim; i++) {
      const src = x.data.subarray((o * dim + i) * inner, (o * dim + i + 1) * inner);
      for (let r = 0; r < repeats; r++) out.set(src, ((o * dim + i) * repeats + r) * inner);
    }
  }
  return Tensor.fromOp(out, outShape, 'repeatInterleave', [x], (g) => {
    const gx = uninitialized(x.dtype, x.size);
    kernelsFor(x).reduce('sum', g.data, [outer * dim, repeats, inner], [1], gx);
    return [new Tensor(gx, x.shape)];
  });
}

/** Selects entries index[j] along axis: output has index.length there. */
export function gather(x: Tensor, axis: number, index: Int32Array): Tensor {
  const a = axisOf('gather', axis, x.ndim);
  const { outer, dim, inner } = around(x.shape, a);
  for (const i of index) {
    if (i < 0 || i >= dim) throw shapeError('gather', `index ${i} out of range for axis ${a} of ${fmt(x.shape)}`);
  }
  const count = index.length;
  const outShape = x.shape.slice();
  outShape[a] = count;
  const out = uninitialized(x.dtype, outer * count * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const src = (o * dim + index[j]!) * inner;
      out.set(x.data.subarray(src, src + inner), (o * count + j) * inner);
    }
  }
  return Tensor.fromOp(out, outShape, 'gather', [x], (g) => {
    const gx = allocate(x.dtype, x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < count; j++) {
        const dst = (o * dim + index[j]!) * inner, src = (o * count + j) * inner;
        for (let e = 0; e < inner; e++) gx[dst + e]! += g.data[src + e]!;
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** Rows of weight [n, d] for each id: [...idsShape, d]. */
export function embedding(weight: Tensor, ids: Int32Array, idsShape: readonly number[] = [ids.length]): Tensor {
  if (weight.ndim !== 2) throw shapeError('embedding', `weight ${fmt(weight.shape)} must be [n, d]`);
  if (sizeOf(idsShape) !== ids.length) throw shapeError('embedding', `${ids.length} ids do not fit idsShape ${fmt(idsShape)}`);
  return reshape(gather(weight, 0, ids), [...idsShape, weight.shape[1]!]);
}

// ---- reductions -------------------------------------------------------------------------------

function reducedShape(shape: readonly number[], axes: readonly number[], keepDim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDim) out.push(1);
  });
  return out;
}

export function sum(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = axesOf('sum', axes, x.ndim);
  const outShape = reducedShape(x.shape, list, keepDim);
  const out = uninitialized(x.dtype, sizeOf(outShape));
  kernelsFor(x).reduce('sum', x.data, x.shape, list, out);
  const kept = reducedShape(x.shape, list, true);
  return Tensor.fromOp(out, outShape, 'sum', [x], (g) => [new Tensor(expandData(new Tensor(g.data, kept), x.shape), x.shape)]);
}

export function mean(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = axesOf('mean', axes, x.ndim);
  const count = sizeOf(list.map((a) => x.shape[a]!));
  return scaleShift(sum(x, list, keepDim), 1 / count, 0);
}

/** Maximum along one axis; the gradient goes to the (first) argmax. */
export function max(x: Tensor, axis: number, keepDim = false): Tensor {
  const a = axisOf('max', axis, x.ndim);
  const outShape = reducedShape(x.shape, [a], keepDim);
  const out = uninitialized(x.dtype, sizeOf(outShape));
  kernelsFor(x).reduce('max', x.data, x.shape, [a], out);
  return Tensor.fromOp(out, outShape, 'max', [x], (g) => {
    const { outer, dim, inner } = around(x.shape, a);
    const gx = allocate(x.dtype, x.size);
    for (let o = 0; o < outer; o++) {
      for (let e = 0; e < inner; e++) {
        const target = out[o * inner + e]!;
        let j = 0;
        while (j < dim - 1 && x.data[(o * dim + j) * inner + e] !== target) j++;
        gx[(o * dim + j) * inner + e] = g.data[o * inner + e]!;
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** Population variance (divides by n), as used by normalisation layers. */
export function variance(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const list = axesOf('variance', axes, x.ndim);
  return mean(square(sub(x, mean(x, list, true))), list, keepDim);
}

// ---- normalisation and attention ----------------------------------------------------------------

/** Applies a last-axis op along any axis by moving that axis last and back. */
function alongAxis(x: Tensor, axis: number, op: string, f: (t: Tensor) => Tensor): Tensor {
  const a = axisOf(op, axis, x.ndim);
  if (a === x.ndim - 1) return f(x);
  return transpose(f(transpose(x, a, -1)), a, -1);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, 'softmax', (t) => {
    const cols = t.shape[t.ndim - 1]!, rows = t.size / cols;
    const out = uninitialized(t.dtype, t.size);
    kernelsFor(t).softmaxForward(t.data, out, rows, cols);
    return Tensor.fromOp(out, t.shape, 'softmax', [t], (g) => {
      const dx = uninitialized(t.dtype, t.size);
      kernelsFor(t).softmaxBackward(out, g.data, dx, rows, cols);
      return [new Tensor(dx, t.shape)];
    });
  });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, 'logSoftmax', (t) => {
    const cols = t.shape[t.ndim - 1]!, rows = t.size / cols;
    // x - max - log(sum(exp(x - max))): finite for confident rows, where log(softmax) would give -inf
    const out = uninitialized(t.dtype, t.size);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, t.data[o + j]!);
      let z = 0;
      for (let j = 0; j < cols; j++) z += Math.exp(t.data[o + j]! - m);
      const lse = m + Math.log(z);
      for (let j = 0; j < cols; j++) out[o + j] = t.data[o + j]! - lse;
    }
    return Tensor.fromOp(out, t.shape, 'logSoftmax', [t], (g) => {
      // dx = g - softmax * sum(g)
      const dx = uninitialized(t.dtype, t.size);
      for (let r = 0; r < rows; r++) {
        const o = r * cols;
        let total = 0;
        for (let j = 0; j < cols; j++) total += g.data[o + j]!;
        for (let j = 0; j < cols; j++) dx[o + j] = g.data[o + j]! - Math.exp(out[o + j]!) * total;
      }
      return [new Tensor(dx, t.shape)];
    });
  });
}

function checkAffine(op: string, x: Tensor, p: Tensor | null, name: string): void {
  const cols = x.shape[x.ndim - 1];
  if (p !== null && (p.ndim !== 1 || p.shape[0] !== cols)) {
    throw shapeError(op, `${name} ${fmt(p.shape)} for input ${fmt(x.shape)}: expected [${cols}]`);
  }
}

/** Normalises over the last dim: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(x: Tensor, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-6): Tensor {
  if (x.ndim < 1) throw shapeError('layerNorm', `input ${fmt(x.shape)} needs at least one dim`);
  checkAffine('layerNorm', x, weight, 'weight');
  checkAffine('layerNorm', x, bias, 'bias');
  const cols = x.shape[x.ndim - 1]!, rows = x.size / cols;
  const kern = kernelsFor(x);
  const out = uninitialized(x.dtype, x.size);
  const mu = uninitialized(x.dtype, rows), rstd = uninitialized(x.dtype, rows);
  kern.layerNormForward(x.data, weight?.data ?? null, bias?.data ?? null, out, mu, rstd, rows, cols, eps);
  const parents = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return Tensor.fromOp(out, x.shape, 'layerNorm', parents, (g) => {
    const dx = uninitialized(x.dtype, x.size);
    const dw = weight?.requiresGrad ? Tensor.zeros(weight.shape, x.dtype) : null;
    const db = bias?.requiresGrad ? Tensor.zeros(bias.shape, x.dtype) : null;
    kern.layerNormBackward(x.data, weight?.data ?? null, g.data, mu, rstd, dx, dw?.data ?? null, db?.data ?? null, rows, cols);
    return [new Tensor(dx, x.shape), ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  });
}

/** x / sqrt(mean(x^2) + eps) * weight over the last dim. */
export function rmsNorm(x: Tensor, weight: Tensor | null = null, eps = 1e-6): Tensor {
  if (x.ndim < 1) throw shapeError('rmsNorm', `input ${fmt(x.shape)} needs at least one dim`);
  checkAffine('rmsNorm', x, weight, 'weight');
  const cols = x.shape[x.ndim - 1]!, rows = x.size / cols;
  const kern = kernelsFor(x);
  const out = uninitialized(x.dtype, x.size);
  const rstd = uninitialized(x.dtype, rows);
  kern.rmsNormForward(x.data, weight?.data ?? null, out, rstd, rows, cols, eps);
  return Tensor.fromOp(out, x.shape, 'rmsNorm', weight ? [x, weight] : [x], (g) => {
    const dx = uninitialized(x.dtype, x.size);
    const dw = weight?.requiresGrad ? Tensor.zeros(weight.shape, x.dtype) : null;
    kern.rmsNormBackward(x.data, weight?.data ?? null, g.data, rstd, dx, dw?.data ?? null, rows, cols);
    return [new Tensor(dx, x.shape), dw];
  });
}

/** Group normalisation of x [N, C, ...] over (C/groups, ...) per group, then per-channel affine. */
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-6): Tensor {
  const c = x.shape[1];
  if (x.ndim < 2 || c === undefined || !Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw shapeError('groupNorm', `input ${fmt(x.shape)} with ${groups} groups: expected [N, C, ...] with C divisible by groups`);
  }
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p !== null && (p.ndim !== 1 || p.shape[0] !== c)) throw shapeError('groupNorm', `${name} ${fmt(p.shape)} for ${c} channels`);
  }
  let y = reshape(layerNorm(reshape(x, [x.shape[0]!, groups, -1]), null, null, eps), x.shape);
  const channelShape = [c, ...new Array<number>(x.ndim - 2).fill(1)];
  if (weight !== null) y = mul(y, reshape(weight, channelShape));
  if (bias !== null) y = add(y, reshape(bias, channelShape));
  return y;
}

export interface AttentionOptions {
  /** Defaults to 1/sqrt(head dim). */
  scale?: number;
  /** [B, Tk], 1 = attend, 0 = padding. */
  keyMask?: Uint8Array;
}

/** Multi-head attention: q [B,H,Tq,D], k and v [B,H,Tk,D] -> [B,H,Tq,D]. */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  checkDtypes('attention', [q, k, v]);
  const describe = `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;
  if (q.ndim !== 4 || k.ndim !== 4 || !sameShape(k.shape, v.shape)) throw shapeError('attention', `${describe}: expected q [B,H,Tq,D] and k, v [B,H,Tk,D]`);
  const [b, h, tq, d] = q.shape as [number, number, number, number];
  const tk = k.shape[2]!;
  if (k.shape[0] !== b || k.shape[1] !== h || k.shape[3] !== d) throw shapeError('attention', `${describe}: batch, heads or head dim differ`);
  const mask = options.keyMask ?? null;
  if (mask !== null && mask.length !== b * tk) throw shapeError('attention', `keyMask of length ${mask.length} for ${describe}: expected B*Tk = ${b * tk}`);
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const kern = kernelsFor(q);
  const out = uninitialized(q.dtype, q.size);
  const lse = uninitialized(q.dtype, b * h * tq);
  kern.attentionForward(q.data, k.data, v.data, out, lse, b, h, tq, tk, d, scale, mask);
  return Tensor.fromOp(out, q.shape, 'attention', [q, k, v], (g) => {
    const dq = uninitialized(q.dtype, q.size), dk = uninitialized(q.dtype, k.size), dv = uninitialized(q.dtype, v.size);
    kern.attentionBackward(q.data, k.data, v.data, out, g.data, lse, dq, dk, dv, b, h, tq, tk, d, scale, mask);
    return [new Tensor(dq, q.shape), new Tensor(dk, k.shape), new Tensor(dv, v.shape)];
  });
}

/**
 * Rotary embedding on interleaved pairs (x[2i], x[2i+1]) of x [..., T, D] with cos, sin [T, D/2].
 * cos and sin are constants (they receive no gradient).
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  checkDtypes('rope', [x, cos, sin]);
  const t = x.shape[x.ndim - 2], d = x.shape[x.ndim - 1];
  if (x.ndim < 2 || t === undefined || d === undefined || d % 2 !== 0 || !sameShape(cos.shape, [t, d / 2]) || !sameShape(sin.shape, cos.shape)) {
    throw shapeError('rope', `x ${fmt(x.shape)}, cos ${fmt(cos.shape)}, sin ${fmt(sin.shape)}: expected x [..., T, D] (D even), cos and sin [T, D/2]`);
  }
  const out = uninitialized(x.dtype, x.size);
  rotatePairs(x.data, out, cos.data, sin.data, t, d, 1);
  return Tensor.fromOp(out, x.shape, 'rope', [x], (g) => {
    const gx = uninitialized(x.dtype, x.size);
    rotatePairs(g.data, gx, cos.data, sin.data, t, d, -1); // the inverse rotation
    return [new Tensor(gx, x.shape)];
  });
}

function rotatePairs(x: FloatArray, out: FloatArray, cos: FloatArray, sin: FloatArray, t: number, d: number, direction: 1 | -1): void {
  const half = d / 2, sequence = t * d;
  for (let base = 0; base < x.length; base += sequence) {
    for (let p = 0; p < t; p++) {
      const row = base + p * d, angles = p * half;
      for (let i = 0; i < half; i++) {
        const c = cos[angles + i]!, s = direction * sin[angles + i]!;
        const x0 = x[row + 2 * i]!, x1 = x[row + 2 * i + 1]!;
        out[row + 2 * i] = x0 * c - x1 * s;
        out[row + 2 * i + 1] = x0 * s + x1 * c;
      }
    }
  }
}

// ---- convolution -----------------------------------------------------------------------------------

export interface Conv3dOptions {
  /** [st, sh, sw], default 1. */
  stride?: readonly [number, number, number];
  /** [front, back, h, w] zero padding (h and w on both sides), default 0; causal time padding is [kt-1, 0, ...]. */
  padding?: readonly [number, number, number, number];
}

/** x [N, Cin, T, H, W], weight [Cout, Cin, kt, kh, kw], bias [Cout] -> [N, Cout, T', H', W']. */
export function conv3d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv3dOptions = {}): Tensor {
  checkDtypes('conv3d', bias ? [x, weight, bias] : [x, weight]);
  const describe = `input ${fmt(x.shape)}, weight ${fmt(weight.shape)}`;
  if (x.ndim !== 5 || weight.ndim !== 5 || weight.shape[1] !== x.shape[1]) {
    throw shapeError('conv3d', `${describe}: expected [N, Cin, T, H, W] and [Cout, Cin, kt, kh, kw]`);
  }
  const [n, cIn, t, h, w] = x.shape as [number, number, number, number, number];
  const [cOut, , kt, kh, kw] = weight.shape as [number, number, number, number, number];
  if (bias !== null && !sameShape(bias.shape, [cOut])) throw shapeError('conv3d', `bias ${fmt(bias.shape)} for ${cOut} output channels`);
  const [strideT, strideH, strideW] = options.stride ?? [1, 1, 1];
  const [padFront, padBack, padH, padW] = options.padding ?? [0, 0, 0, 0];
  const p: Conv3dParams = {
    n, cIn, t, h, w, cOut, kt, kh, kw, strideT, strideH, strideW, padFront, padBack, padH, padW,
    tOut: Math.floor((t + padFront + padBack - kt) / strideT) + 1,
    hOut: Math.floor((h + 2 * padH - kh) / strideH) + 1,
    wOut: Math.floor((w + 2 * padW - kw) / strideW) + 1,
  };
  if (p.tOut < 1 || p.hOut < 1 || p.wOut < 1) throw shapeError('conv3d', `${describe}: kernel larger than the padded input`);
  const kern = kernelsFor(x);
  const outShape = [n, cOut, p.tOut, p.hOut, p.wOut];
  const out = uninitialized(x.dtype, sizeOf(outShape));
  kern.conv3dForward(x.data, weight.data, bias?.data ?? null, out, p);
  return Tensor.fromOp(out, outShape, 'conv3d', bias ? [x, weight, bias] : [x, weight], (g) => {
    let gx: Tensor | null = null, gw: Tensor | null = null, gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = empty(x.shape, x.dtype);
      kern.conv3dBackwardData(g.data, weight.data, gx.data, p);
    }
    if (weight.requiresGrad || bias?.requiresGrad) {
      gw = Tensor.zeros(weight.shape, x.dtype);
      gb = bias?.requiresGrad ? Tensor.zeros(bias.shape, x.dtype) : null;
      kern.conv3dBackwardWeight(x.data, g.data, gw.data, gb?.data ?? null, p);
    }
    return [gx, gw, gb];
  });
}

export interface Conv2dOptions {
  stride?: readonly [number, number];
  padding?: readonly [number, number];
}

/** x [N, Cin, H, W], weight [Cout, Cin, kh, kw]: conv3d with a time axis of 1. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) {
    throw shapeError('conv2d', `input ${fmt(x.shape)}, weight ${fmt(weight.shape)}: expected [N, Cin, H, W] and [Cout, Cin, kh, kw]`);
  }
  const [sh, sw] = options.stride ?? [1, 1];
  const [ph, pw] = options.padding ?? [0, 0];
  const y = conv3d(unsqueeze(x, 2), unsqueeze(weight, 2), bias, { stride: [1, sh, sw], padding: [0, 0, ph, pw] });
  return squeeze(y, 2);
}

// ---- losses ----------------------------------------------------------------------------------------

/** mean((pred - target)^2 [* weight]) over all elements. */
export function mseLoss(pred: Tensor, target: Tensor, weight?: Tensor): Tensor {
  if (!sameShape(pred.shape, target.shape)) throw shapeError('mseLoss', `pred ${fmt(pred.shape)} vs target ${fmt(target.shape)}`);
  const err = square(sub(pred, target));
  return mean(weight === undefined ? err : mul(err, weight));
}

export function l1Loss(pred: Tensor, target: Tensor): Tensor {
  if (!sameShape(pred.shape, target.shape)) throw shapeError('l1Loss', `pred ${fmt(pred.shape)} vs target ${fmt(target.shape)}`);
  return mean(abs(sub(pred, target)));
}

/** Mean negative log-likelihood of targets under softmax(logits), logits [N, C]. */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  if (logits.ndim !== 2 || targets.length !== logits.shape[0]) {
    throw shapeError('crossEntropy', `logits ${fmt(logits.shape)} with ${targets.length} targets: expected [N, C] and N targets`);
  }
  const [n, c] = logits.shape as [number, number];
  const oneHot = Tensor.zeros([n, c], logits.dtype);
  targets.forEach((cls, i) => {
    if (cls < 0 || cls >= c) throw invalidArgument('crossEntropy', `target ${cls} at ${i} outside [0, ${c})`);
    oneHot.data[i * c + cls] = 1;
  });
  return scaleShift(sum(mul(logSoftmax(logits, -1), oneHot)), -1 / n, 0);
}
