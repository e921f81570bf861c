/**
 * Latents of clips the frozen VAE has already encoded, by the clip's key (its file and place in it, for a folder
 * source). A DiT run over a finite set of clips meets each one again every epoch; encoding is a third of a step,
 * and the VAE is frozen and encodes to its posterior mean, so a latent kept is exactly the one that would be
 * computed again. Entries are kept first come until the byte budget is spent and never evicted: epochs visit every
 * clip, so under a budget smaller than the set a least-recently-used policy would miss every time.
 */
import { Tensor, concat, split } from '../engine/index.js';
import type { VideoClip } from '../media/types.js';

export class LatentCache {
  private readonly latents = new Map<string, { data: Float32Array; shape: number[] }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly budgetBytes: number) {}

  get size(): number {
    return this.latents.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /**
   * The batch's latents [B, C, T, H, W]: kept ones where the key is known, the rest encoded together by `encode`
   * (which maps clips to their latents, batch first) and kept while the budget lasts.
   */
  batch(keys: readonly string[], clips: readonly VideoClip[], encode: (clips: VideoClip[]) => Tensor): Tensor {
    const missing = keys.flatMap((k, i) => (this.latents.has(k) ? [] : [i]));
    this.hits += keys.length - missing.length;
    this.misses += missing.length;
    const fresh = missing.length > 0 ? encode(missing.map((i) => clips[i]!)) : null;
    if (fresh && missing.length === keys.length) {
      this.keep(missing.map((i) => keys[i]!), fresh);
      return fresh;
    }
    const encoded = new Map<number, Tensor>();
    if (fresh) {
      const parts = split(fresh, 1, 0);
      missing.forEach((i, j) => encoded.set(i, parts[j]!));
      this.keep(missing.map((i) => keys[i]!), fresh);
    }
    return concat(keys.map((k, i) => encoded.get(i) ?? this.tensorOf(k)), 0);
  }

  private tensorOf(key: string): Tensor {
    const { data, shape } = this.latents.get(key)!;
    return Tensor.from(data, shape);
  }

  /** Copies each sample of `latents` under its key while the budget lasts. */
  private keep(keys: readonly string[], latents: Tensor): void {
    const per = latents.size / keys.length;
    const shape = [1, ...latents.shape.slice(1)];
    keys.forEach((key, i) => {
      const bytes = per * Float32Array.BYTES_PER_ELEMENT;
      if (this.latents.has(key) || this.bytes + bytes > this.budgetBytes) return;
      this.latents.set(key, { data: Float32Array.from(latents.data.subarray(i * per, (i + 1) * per)), shape });
      this.bytes += bytes;
    });
  }
}
