/**
 * Tensor and define-by-run reverse-mode autograd.
 *
 * A Tensor is a contiguous row-major Float32Array/Float64Array plus a shape. Ops (ops.ts) record a graph node on
 * their output when grad is enabled and an input requires grad; `backward()` walks that graph once in reverse
 * topological order, summing the gradients of tensors used more than once, and fills `.grad` on the leaves.
 * The graph is released as it is walked (like PyTorch's default), so intermediates are freed after backward.
 */
import { TesseraError, invalidArgument } from '../errors.js';
import type { FloatArray } from './kernels/types.js';
import { getKernels } from './kernels/index.js';
import type { Rng } from './random.js';
import * as ops from './ops.js';

export type DType = 'float32' | 'float64';
/** A tensor, or a number standing for a scalar of the other operand's dtype. */
export type Operand = Tensor | number;

let gradEnabled = true;

/** Runs fn without recording a graph (inference, optimiser updates). fn must be synchronous. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Gradients of an op's inputs from the gradient of its output; null where an input needs none. */
export type BackwardFn = (grad: Tensor) => readonly (Tensor | null)[];

interface GraphNode {
  readonly op: string;
  readonly parents: readonly Tensor[];
  readonly backward: BackwardFn;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A zero-filled array. */
export function allocate(dtype: DType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Gradient buffers that a backward pass has finished with, by dtype and length, for reuse. Recycling matters:
 * fresh memory costs a page fault per 4 KiB on first touch, which on a busy machine rivals the kernels.
 * Only `propagate` recycles, and only buffers no pending gradient, leaf `.grad` or caller still holds.
 */
const pool = new Map<string, FloatArray[]>();
const inPool = new WeakSet<ArrayBufferLike>();
let pooledBytes = 0;
// Bounded: a size that is recycled more often than it is requested would otherwise hoard memory that malloc
// could hand to other sizes, and the heap would keep growing into fresh (page-faulting) memory.
const POOL_LIMIT_BYTES = 256 << 20;
const POOL_LIMIT_PER_SIZE = 32;
const SMALL_BYTES = 4096;

function poolKey(dtype: DType, n: number): string {
  return `${dtype}:${n}`;
}

function recycle(array: FloatArray): void {
  const buffer = array.buffer;
  if (inPool.has(buffer) || array.byteOffset !== 0 || array.byteLength !== buffer.byteLength) return;
  if (array.byteLength < SMALL_BYTES || pooledBytes + array.byteLength > POOL_LIMIT_BYTES) return;
  const key = poolKey(array instanceof Float64Array ? 'float64' : 'float32', array.length);
  const list = pool.get(key);
  if (list === undefined) pool.set(key, [array]);
  else if (list.length < POOL_LIMIT_PER_SIZE) list.push(array);
  else return;
  inPool.add(buffer);
  pooledBytes += array.byteLength;
}

/** Empties the gradient buffer pool (memory is returned to the garbage collector). */
export function clearBufferPool(): void {
  pool.clear();
  pooledBytes = 0;
}

/** An array with unspecified contents, for outputs a kernel overwrites completely (no zero fill, pooled). */
export function uninitialized(dtype: DType, n: number): FloatArray {
  const bytesPer = dtype === 'float64' ? 8 : 4;
  if (n * bytesPer < SMALL_BYTES) return allocate(dtype, n);
  const reused = pool.get(poolKey(dtype, n))?.pop();
  if (reused !== undefined) {
    inPool.delete(reused.buffer);
    pooledBytes -= reused.byteLength;
    return reused;
  }
  const buffer = Buffer.allocUnsafeSlow(n * bytesPer).buffer;
  return dtype === 'float64' ? new Float64Array(buffer, 0, n) : new Float32Array(buffer, 0, n);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  data: FloatArray;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while it is part of a live graph; null for leaves. */
  node: GraphNode | null = null;

  /** Wraps `data` (not copied); its length must match the shape. */
  constructor(data: FloatArray, shape: readonly number[], dtype?: DType) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw invalidArgument('shape', `expected non-negative integers, got ${formatShape(shape)}`);
    }
    const inferred: DType = data instanceof Float64Array ? 'float64' : 'float32';
    if (dtype !== undefined && dtype !== inferred) throw invalidArgument('dtype', `${dtype} tensor given a ${data.constructor.name}`);
    if (data.length !== sizeOf(shape)) {
      throw new TesseraError('shape_mismatch', `Tensor: data of length ${data.length} does not fit shape ${formatShape(shape)}`);
    }
    this.shape = Object.freeze(shape.slice());
    this.dtype = inferred;
    this.data = data;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  // ---- construction ---------------------------------------------------------------------------

  /** A typed array of the requested dtype is used as is (shared); anything else is copied. */
  static from(data: ArrayLike<number> | Float32Array | Float64Array, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const matches = dtype === 'float64' ? data instanceof Float64Array : data instanceof Float32Array;
    const array = matches ? (data as FloatArray) : dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
    return new Tensor(array, shape, dtype);
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, sizeOf(shape)), shape, dtype);
  }

  static ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return Tensor.full(shape, 1, dtype);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  static scalar(value: number, dtype: DType = 'float32'): Tensor {
    return Tensor.full([], value, dtype);
  }

  /** N(0, std^2) samples drawn from rng. */
  static randn(shape: readonly number[], rng: Rng, std = 1, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    rng.fill(t.data, 'normal', std);
    return t;
  }

  /** U[0, 1) samples drawn from rng. */
  static rand(shape: readonly number[], rng: Rng, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    rng.fill(t.data, 'uniform');
    return t;
  }

  /**
   * The output of an op: records the graph node when grad is enabled and some input requires grad.
   * Used by ops.ts; `backward` receives the output's gradient and returns one gradient per parent.
   */
  static fromOp(data: FloatArray, shape: readonly number[], op: string, parents: readonly Tensor[], backward: BackwardFn): Tensor {
    const out = new Tensor(data, shape);
    if (gradEnabled && parents.some((p) => p.requiresGrad)) {
      out.requiresGrad = true;
      out.node = { op, parents, backward };
    }
    return out;
  }

  // ---- plain accessors -------------------------------------------------------------------------

  /** Same data, no graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy of the data, no graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  item(): number {
    if (this.size !== 1) throw new TesseraError('shape_mismatch', `item: expected a 1-element tensor, got ${formatShape(this.shape)}`);
    return this.data[0]!;
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Marks this tensor as a leaf that collects gradients; returns this. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- autograd ---------------------------------------------------------------------------------

  /**
   * Back-propagates from this tensor. `grad` defaults to 1 for a 1-element tensor. Leaf gradients accumulate
   * into `.grad` across calls (call zeroGrad() between steps); the graph is consumed.
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) throw invalidArgument('backward', `${this} does not require grad (no input of its graph has requiresGrad)`);
    let seed: Tensor;
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new TesseraError('shape_mismatch', `backward: implicit gradient needs a 1-element tensor, got ${formatShape(this.shape)}; pass grad`);
      }
      seed = Tensor.ones(this.shape, this.dtype);
    } else {
      if (!sameShape(grad.shape, this.shape) || grad.dtype !== this.dtype) {
        throw new TesseraError('shape_mismatch', `backward: grad ${formatShape(grad.shape)} ${grad.dtype} does not match ${formatShape(this.shape)} ${this.dtype}`);
      }
      seed = grad;
    }
    noGrad(() => propagate(this, seed));
  }

  // ---- ops as methods (see ops.ts) -------------------------------------------------------------

  add(y: Operand): Tensor { return ops.add(this, y); }
  sub(y: Operand): Tensor { return ops.sub(this, y); }
  mul(y: Operand): Tensor { return ops.mul(this, y); }
  div(y: Operand): Tensor { return ops.div(this, y); }
  pow(p: number): Tensor { return ops.pow(this, p); }
  maximum(y: Operand): Tensor { return ops.maximum(this, y); }
  minimum(y: Operand): Tensor { return ops.minimum(this, y); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  abs(): Tensor { return ops.abs(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  square(): Tensor { return ops.square(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  relu(): Tensor { return ops.relu(this); }
  gelu(): Tensor { return ops.gelu(this); }
  silu(): Tensor { return ops.silu(this); }
  clamp(lo: number, hi: number): Tensor { return ops.clamp(this, lo, hi); }
  scaleShift(a: number, b: number): Tensor { return ops.scaleShift(this, a, b); }

  matmul(y: Tensor): Tensor { return ops.matmul(this, y); }
  linear(weight: Tensor, bias?: Tensor | null): Tensor { return ops.linear(this, weight, bias); }

  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  permute(perm: readonly number[]): Tensor { return ops.permute(this, perm); }
  transpose(a: number, b: number): Tensor { return ops.transpose(this, a, b); }
  flatten(start = 0, end = -1): Tensor { return ops.flatten(this, start, end); }
  unsqueeze(axis: number): Tensor { return ops.unsqueeze(this, axis); }
  squeeze(axis?: number): Tensor { return ops.squeeze(this, axis); }
  expand(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  slice(axis: number, start: number, end?: number): Tensor { return ops.slice(this, axis, start, end); }
  split(sizes: number | readonly number[], axis = 0): Tensor[] { return ops.split(this, sizes, axis); }
  chunk(n: number, axis = 0): Tensor[] { return ops.chunk(this, n, axis); }
  pad(pads: readonly (readonly [number, number])[], value = 0): Tensor { return ops.pad(this, pads, value); }
  repeatInterleave(repeats: number, axis: number): Tensor { return ops.repeatInterleave(this, repeats, axis); }
  gather(axis: number, index: Int32Array): Tensor { return ops.gather(this, axis, index); }

  sum(axes?: number | readonly number[], keepDim = false): Tensor { return ops.sum(this, axes, keepDim); }
  mean(axes?: number | readonly number[], keepDim = false): Tensor { return ops.mean(this, axes, keepDim); }
  max(axis: number, keepDim = false): Tensor { return ops.max(this, axis, keepDim); }
  variance(axes?: number | readonly number[], keepDim = false): Tensor { return ops.variance(this, axes, keepDim); }

  softmax(axis = -1): Tensor { return ops.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis); }
  layerNorm(weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-6): Tensor { return ops.layerNorm(this, weight, bias, eps); }
  rmsNorm(weight: Tensor | null = null, eps = 1e-6): Tensor { return ops.rmsNorm(this, weight, eps); }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Tensors reachable from root through inputs that require grad, each after all of its inputs. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>([root]);
  const stack: { tensor: Tensor; next: number }[] = [{ tensor: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const parents = top.tensor.node?.parents ?? [];
    if (top.next < parents.length) {
      const parent = parents[top.next++]!;
      if (parent.requiresGrad && !visited.has(parent)) {
        visited.add(parent);
        stack.push({ tensor: parent, next: 0 });
      }
    } else {
      stack.pop();
      order.push(top.tensor);
    }
  }
  return order;
}

function released(op: string): GraphNode {
  return {
    op,
    parents: [],
    backward: () => {
      throw invalidArgument('backward', `the graph through '${op}' was already consumed by an earlier backward(); recompute the forward pass`);
    },
  };
}

function propagate(root: Tensor, seed: Tensor): void {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>();
  // Gradients this pass allocated itself, safe to add into in place. Others may be shared (an op like add hands
  // the same gradient to both inputs; reshape shares data), so summing into them would corrupt a sibling.
  const owned = new Set<Tensor>();
  // How many pending gradients hold each buffer; at zero a buffer is recycled unless pinned (the caller's seed,
  // leaf .grad buffers).
  const holders = new Map<ArrayBufferLike, number>();
  const pinned = new Set<ArrayBufferLike>([seed.data.buffer]);
  const hold = (t: Tensor, g: Tensor): void => {
    grads.set(t, g);
    holders.set(g.data.buffer, (holders.get(g.data.buffer) ?? 0) + 1);
  };
  const recycleIfFree = (g: Tensor): void => {
    if (!holders.has(g.data.buffer) && !pinned.has(g.data.buffer)) recycle(g.data);
  };
  const drop = (g: Tensor): void => {
    const count = holders.get(g.data.buffer)! - 1;
    if (count > 0) holders.set(g.data.buffer, count);
    else holders.delete(g.data.buffer);
    recycleIfFree(g);
  };

  hold(root, seed);
  for (let i = order.length - 1; i >= 0; i--) {
    const tensor = order[i]!;
    const grad = grads.get(tensor);
    if (grad === undefined) continue;
    grads.delete(tensor);
    const node = tensor.node;
    if (node === null) {
      accumulateLeaf(tensor, grad, owned.has(grad), pinned);
      drop(grad);
      continue;
    }
    owned.delete(grad); // backward may hand this very tensor to several inputs
    const parentGrads = node.backward(grad);
    tensor.node = released(node.op);
    const absorbed: Tensor[] = []; // gradients added into another and not kept themselves
    for (let p = 0; p < node.parents.length; p++) {
      const parent = node.parents[p]!;
      const g = parentGrads[p];
      if (!parent.requiresGrad || g === null || g === undefined) continue;
      if (!sameShape(g.shape, parent.shape)) {
        throw new TesseraError('internal', `${node.op} backward: gradient ${formatShape(g.shape)} for input ${formatShape(parent.shape)}`);
      }
      const existing = grads.get(parent);
      if (existing === undefined) {
        hold(parent, g);
      } else if (owned.has(existing)) {
        getKernels(existing.dtype).axpy(1, g.data, existing.data, existing.size);
        absorbed.push(g);
      } else {
        const sum = new Tensor(uninitialized(existing.dtype, existing.size), existing.shape);
        getKernels(sum.dtype).binary('add', existing.data, existing.shape, g.data, g.shape, sum.data, sum.shape);
        hold(parent, sum);
        owned.add(sum);
        drop(existing);
        absorbed.push(g);
      }
    }
    drop(grad);
    for (const g of absorbed) recycleIfFree(g);
  }
}

/** Adds a gradient into leaf.grad, or adopts it (a copy if another leaf or the caller already holds it). */
function accumulateLeaf(leaf: Tensor, grad: Tensor, isOwned: boolean, pinned: Set<ArrayBufferLike>): void {
  if (leaf.grad !== null) {
    getKernels(leaf.dtype).axpy(1, grad.data, leaf.grad.data, leaf.size);
    return;
  }
  const shared = !isOwned && pinned.has(grad.data.buffer);
  const own = shared ? grad.clone() : grad.detach();
  pinned.add(own.data.buffer);
  leaf.grad = own;
}
