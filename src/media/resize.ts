/**
 * Resizing whole clips frame by frame through sharp (Lanczos), for outputs asked at a size the model does not
 * sample natively and for conditioning clips of another size. `cover` keeps the aspect ratio and centre-crops.
 */
import sharp from 'sharp';
import type { VideoClip } from './types.js';

export type ResizeFit = 'cover' | 'fill' | 'contain';

export async function resizeClip(clip: VideoClip, width: number, height: number, fit: ResizeFit = 'cover'): Promise<VideoClip> {
  if (clip.width === width && clip.height === height) return clip;
  const inBytes = clip.width * clip.height * 3;
  const outBytes = width * height * 3;
  const data = new Uint8Array(clip.frames * outBytes);
  for (let f = 0; f < clip.frames; f++) {
    const frame = clip.data.subarray(f * inBytes, (f + 1) * inBytes);
    const out = await sharp(frame, { raw: { width: clip.width, height: clip.height, channels: 3 } })
      .resize(width, height, { fit, kernel: 'lanczos3', background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    data.set(out, f * outBytes);
  }
  return { frames: clip.frames, width, height, fps: clip.fps, data };
}
