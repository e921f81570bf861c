import type { Tensor } from '../engine/index.js';
import { getKernels } from '../engine/index.js';

/**
 * Scales all gradients together so their global L2 norm is at most maxNorm (as torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping, which is worth logging: spikes show instability before the loss does.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const grads: Tensor[] = [];
  for (const p of params) if (p.grad !== null) grads.push(p.grad);
  let sumSq = 0;
  for (const g of grads) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) sumSq += d[i]! * d[i]!;
  }
  const norm = Math.sqrt(sumSq);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (const g of grads) getKernels(g.dtype).scale(g.data, factor, 0, g.data, g.size);
  }
  return norm;
}
