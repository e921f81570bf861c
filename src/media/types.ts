/**
 * Video at the edges of the system: 8-bit RGB, frame-major, (frames, height, width, 3) interleaved.
 * The world renders it, the media layer reads and writes it, pipelines convert it to and from [-1, 1] floats.
 */
export interface VideoClip {
  frames: number;
  height: number;
  width: number;
  fps: number;
  /** length = frames * height * width * 3 */
  data: Uint8Array;
}

/** A single image is a 1-frame clip. */
export type ImageRgb = VideoClip & { frames: 1 };

export function clipByteLength(frames: number, height: number, width: number): number {
  return frames * height * width * 3;
}

/** A view of frame i (no copy). */
export function frameView(clip: VideoClip, i: number): Uint8Array {
  const n = clip.height * clip.width * 3;
  return clip.data.subarray(i * n, (i + 1) * n);
}
