// The engine's public surface: tensors, autograd, ops, PRNG and kernels. Import from '../engine/index.js'.
export { Tensor, noGrad, isGradEnabled, sizeOf, sameShape, formatShape, clearBufferPool } from './tensor.js';
export type { DType, Operand, BackwardFn } from './tensor.js';
export * from './ops.js';
export { Rng } from './random.js';
export type { RngState } from './random.js';
export { getKernels, overrideKernels, referenceKernels } from './kernels/index.js';
export type { Kernels, FloatArray, UnaryOp, BinaryOp, ReduceOp, Conv3dParams } from './kernels/types.js';
