// Synthetic clips and image metrics shared by the media tests.
import { clipByteLength, frameView, type VideoClip } from '../../src/media/types.js';

/** A smooth colour gradient with a bright square that moves one step right and down per frame. */
export function movingSquare(frames: number, height: number, width: number, fps = 8): VideoClip {
  const data = new Uint8Array(clipByteLength(frames, height, width));
  const side = Math.max(2, Math.floor(Math.min(height, width) / 4));
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = ((f * height + y) * width + x) * 3;
        const inSquare = x >= f * 2 && x < f * 2 + side && y >= f && y < f + side;
        data[i] = inSquare ? 250 : Math.round((200 * x) / width);
        data[i + 1] = inSquare ? 240 : Math.round((200 * y) / height);
        data[i + 2] = inSquare ? 60 : 100;
      }
    }
  }
  return { frames, height, width, fps, data };
}

/** Peak signal-to-noise ratio in dB between two equally sized byte arrays (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`psnr: lengths differ (${a.length} vs ${b.length})`);
  let sumSquares = 0;
  for (let i = 0; i < a.length; i++) sumSquares += (a[i]! - b[i]!) ** 2;
  const mse = sumSquares / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Frame `i` of `clip` cut to its top-left `height` x `width` pixels. */
export function cropFrame(clip: VideoClip, i: number, height: number, width: number): Uint8Array {
  const frame = frameView(clip, i);
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) out.set(frame.subarray(y * clip.width * 3, (y * clip.width + width) * 3), y * width * 3);
  return out;
}

/** The worst per-frame PSNR between two clips of the same frame count, comparing the top-left region of `a`'s size. */
export function minFramePsnr(a: VideoClip, b: VideoClip): number {
  let worst = Infinity;
  for (let f = 0; f < a.frames; f++) worst = Math.min(worst, psnr(frameView(a, f), cropFrame(b, f, a.height, a.width)));
  return worst;
}
