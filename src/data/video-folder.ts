/**
 * A dataset over a user's own videos: a folder with any files ffmpeg reads and a `captions.jsonl` beside them,
 * one JSON object a line: {"file": "beach.mp4", "caption": "waves roll onto a sandy beach"}. Each video is cut
 * into clips of the bucket's frame count (at the bucket's fps), scaled and centre-cropped to the bucket's size.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TesseraError, invalidArgument } from '../errors.js';
import { readVideo } from '../media/index.js';
import type { VideoClip } from '../media/types.js';
import type { Bucket } from './world-dataset.js';

export interface CaptionedFile {
  file: string;
  caption: string;
}

export interface VideoFolderOptions {
  dir: string;
  bucket: Required<Pick<Bucket, 'width' | 'height' | 'frames'>> & { fps?: number };
  /** Most clips cut from one video (default 8). */
  maxClipsPerVideo?: number;
  /** The videos to visit, as indices into captions.jsonl's lines (default: every one, in the file's order). */
  order?: readonly number[];
  /** Start at this place instead of the first clip of the first video: a position in `order` and clips of it to skip. */
  from?: FolderPlace;
}

/** A clip's place in a visit of the folder: the video's position in the visiting order and the clip's index in it. */
export interface FolderPlace {
  video: number;
  clip: number;
}

export interface FolderSample {
  clip: VideoClip;
  caption: string;
  file: string;
  /** Seconds into the source video where the clip starts. */
  start: number;
  place: FolderPlace;
}

/** Reads and checks `captions.jsonl`; errors name the line. */
export function readCaptions(dir: string): CaptionedFile[] {
  const path = join(dir, 'captions.jsonl');
  if (!existsSync(path)) throw new TesseraError('not_found', `${path}: no captions.jsonl in the video folder`);
  const out: CaptionedFile[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try { row = JSON.parse(line); } catch { throw new TesseraError('corrupt_file', `${path}:${i + 1}: not valid JSON`); }
    const r = row as Record<string, unknown>;
    const file = r.file ?? r.video;
    if (typeof file !== 'string' || typeof r.caption !== 'string') {
      throw new TesseraError('corrupt_file', `${path}:${i + 1}: expected {"file": "...", "caption": "..."}`);
    }
    if (!existsSync(join(dir, file))) throw new TesseraError('not_found', `${path}:${i + 1}: ${file} does not exist in ${dir}`);
    out.push({ file, caption: r.caption });
  });
  if (out.length === 0) throw new TesseraError('invalid_argument', `${path}: no captioned videos`);
  return out;
}

/** Iterates clips over the folder, videos in the order of captions.jsonl (or `order`), clips of a video in turn. */
export async function* videoFolderClips(opts: VideoFolderOptions): AsyncGenerator<FolderSample> {
  const dir = resolve(opts.dir);
  const { width, height, frames } = opts.bucket;
  const fps = opts.bucket.fps ?? 8;
  if (!(frames >= 1)) throw invalidArgument('bucket.frames', `expected a positive integer, got ${frames}`);
  const entries = readCaptions(dir);
  const order = opts.order ?? [...entries.keys()];
  const from = opts.from ?? { video: 0, clip: 0 };
  for (let position = from.video; position < order.length; position++) {
    const index = order[position]!;
    const entry = entries[index];
    if (!entry) throw invalidArgument('order', `index ${index} is not a line of ${join(dir, 'captions.jsonl')} (${entries.length} videos)`);
    const path = join(dir, entry.file);
    const maxFrames = frames * (opts.maxClipsPerVideo ?? 8);
    // one decode per video: scaled to cover the bucket and centre-cropped by the media layer
    const video = await readVideo(path, { width, height, fps, maxFrames });
    const frameBytes = width * height * 3;
    const skip = position === from.video ? from.clip : 0;
    for (let start = 0, clip = 0; start + frames <= video.frames || (start === 0 && video.frames > 0); start += frames, clip++) {
      const n = Math.min(frames, video.frames - start);
      if (clip < skip) {
        if (n < frames) break;
        continue;
      }
      const data = new Uint8Array(frames * frameBytes);
      data.set(video.data.subarray(start * frameBytes, (start + n) * frameBytes));
      // a video shorter than the bucket repeats its last frame
      for (let f = n; f < frames; f++) data.copyWithin(f * frameBytes, (n - 1) * frameBytes, n * frameBytes);
      yield { clip: { frames, width, height, fps, data }, caption: entry.caption, file: entry.file, start: start / fps, place: { video: position, clip } };
      if (n < frames) break;
    }
  }
}
