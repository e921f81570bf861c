/**
 * The one place where video changes layout: 8-bit (frames, height, width, channels) at the edges of the system,
 * float NCTHW in [-1, 1] inside the VAE.
 */
import { Tensor } from '../../engine/index.js';
import { invalidArgument } from '../../errors.js';

/** An 8-bit frame-major interleaved video; src/media's VideoClip fits. */
export interface PixelVideo {
  frames: number;
  height: number;
  width: number;
  data: Uint8Array;
}

/** Clips of one size -> [N, channels, T, H, W] with values mapped from 0..255 to [-1, 1]. */
export function videosToTensor(videos: readonly PixelVideo[], channels = 3): Tensor {
  if (videos.length === 0) throw invalidArgument('videos', 'expected at least one clip');
  const { frames: t, height: h, width: w } = videos[0]!;
  const plane = t * h * w;
  const out = new Float32Array(videos.length * channels * plane);
  videos.forEach((v, n) => {
    if (v.frames !== t || v.height !== h || v.width !== w) {
      throw invalidArgument(`videos[${n}]`, `size ${v.frames}x${v.height}x${v.width} differs from ${t}x${h}x${w}`);
    }
    if (v.data.length !== plane * channels) {
      throw invalidArgument(`videos[${n}].data`, `expected ${plane * channels} bytes, got ${v.data.length}`);
    }
    const base = n * channels * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[base + c * plane + p] = v.data[p * channels + c]! / 127.5 - 1;
    }
  });
  return new Tensor(out, [videos.length, channels, t, h, w]);
}

/** Item `index` of [N, C, T, H, W] in [-1, 1] -> 8-bit frame-major video (values clamped and rounded). */
export function tensorToVideo(x: Tensor, index = 0): PixelVideo {
  if (x.ndim !== 5) throw invalidArgument('video', `expected [N, C, T, H, W], got [${x.shape.join(', ')}]`);
  const [n, channels, frames, height, width] = x.shape as [number, number, number, number, number];
  if (index < 0 || index >= n) throw invalidArgument('index', `expected 0..${n - 1}, got ${index}`);
  const plane = frames * height * width;
  const src = x.data.subarray(index * channels * plane, (index + 1) * channels * plane);
  const data = new Uint8Array(plane * channels);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) {
      data[p * channels + c] = Math.round(Math.min(1, Math.max(-1, src[c * plane + p]!)) * 127.5 + 127.5);
    }
  }
  return { frames, height, width, data };
}
