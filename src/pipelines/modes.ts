/**
 * The Sora report's modes, each reduced to a list of frame conditions (or an edit) on one sampling loop:
 * image-to-video puts an image at frame 0, extension puts the given clip at the head (forward) or the tail
 * (backward), a loop pins the same frame at both ends, connect puts A's tail at the head and B's head at the
 * tail, keyframes pin images anywhere.
 */
import type { VideoClip } from '../media/types.js';
import { invalidArgument } from '../errors.js';
import type { FrameCondition } from './types.js';

/** Frames [start, end) of a clip as a new clip (no pixel copy). */
export function sliceFrames(clip: VideoClip, start: number, end: number): VideoClip {
  const n = clip.height * clip.width * 3;
  const s = Math.max(0, Math.min(clip.frames, start));
  const e = Math.max(s, Math.min(clip.frames, end));
  return { ...clip, frames: e - s, data: clip.data.subarray(s * n, e * n) };
}

/** Concatenates clips of the same size along time. */
export function concatFrames(clips: VideoClip[]): VideoClip {
  const first = clips[0];
  if (!first) throw invalidArgument('clips', 'expected at least one clip');
  for (const c of clips) {
    if (c.width !== first.width || c.height !== first.height) {
      throw invalidArgument('clips', `cannot join ${c.width}x${c.height} with ${first.width}x${first.height}`);
    }
  }
  const frames = clips.reduce((s, c) => s + c.frames, 0);
  const data = new Uint8Array(frames * first.height * first.width * 3);
  let off = 0;
  for (const c of clips) {
    data.set(c.data.subarray(0, c.frames * c.height * c.width * 3), off);
    off += c.frames * c.height * c.width * 3;
  }
  return { frames, height: first.height, width: first.width, fps: first.fps, data };
}

export function imageToVideo(image: VideoClip, strength = 1): FrameCondition[] {
  return [{ clip: sliceFrames(image, 0, 1), frameIndex: 0, strength }];
}

/** Continue a video forward in time: its last `contextFrames` frames open the new clip. */
export function extendForward(video: VideoClip, contextFrames: number, strength = 1): FrameCondition[] {
  return [{ clip: sliceFrames(video, video.frames - contextFrames, video.frames), frameIndex: 0, strength }];
}

/** Extend a video backward in time: its first `contextFrames` frames close the new clip. */
export function extendBackward(video: VideoClip, contextFrames: number, strength = 1): FrameCondition[] {
  return [{ clip: sliceFrames(video, 0, contextFrames), frameIndex: -contextFrames, strength }];
}

/** A seamless loop: the same frame at both ends. */
export function loopConditions(frame: VideoClip, strength = 1): FrameCondition[] {
  const still = sliceFrames(frame, 0, 1);
  return [
    { clip: still, frameIndex: 0, strength },
    { clip: still, frameIndex: -1, strength },
  ];
}

/** A transition: the end of A opens the clip, the start of B closes it. */
export function connectConditions(a: VideoClip, b: VideoClip, contextFrames: number, strength = 1): FrameCondition[] {
  return [
    { clip: sliceFrames(a, a.frames - contextFrames, a.frames), frameIndex: 0, strength },
    { clip: sliceFrames(b, 0, contextFrames), frameIndex: -contextFrames, strength },
  ];
}

/** Images pinned at chosen frames. */
export function keyframeConditions(keys: { image: VideoClip; frameIndex: number; strength?: number }[]): FrameCondition[] {
  return keys.map((k) => ({ clip: sliceFrames(k.image, 0, 1), frameIndex: k.frameIndex, strength: k.strength ?? 1 }));
}
