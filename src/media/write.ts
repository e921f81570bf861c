/**
 * Encoding clips to files and to bytes. Video codecs (MP4/H.264, WebM/VP9, GIF) go through ffmpeg with frames
 * piped in as raw rgb24; still and animated images (PNG, JPEG, WebP) go through sharp in-process.
 *
 * PNG and JPEG hold one picture. A 1-frame clip becomes that file; a longer clip becomes numbered files beside it,
 * `out.png` -> `out_0000.png`, `out_0001.png`, ..., so nothing is silently dropped and the frames sort by name.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, parse } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { TesseraError, invalidArgument } from '../errors.js';
import { writeAtomically, writeFileAtomically } from '../atomic.js';
import { ffmpegReason, runFfmpeg } from './ffmpeg.js';
import { formatFromPath, isStillFormat, type MediaFormat, type StillFormat } from './formats.js';
import { clipByteLength, frameView, type VideoClip } from './types.js';

export interface EncodeOptions {
  /** Overrides the format implied by the file extension. */
  format?: MediaFormat;
  /** 1..100, higher is better. Used by WebP and JPEG; for MP4/WebM it maps linearly onto crf (100 -> 0). */
  quality?: number;
  /** Constant rate factor for MP4 (0..51, default 18) and WebM (0..63, default 32); lower is better. */
  crf?: number;
  signal?: AbortSignal;
}

type VideoCodecFormat = 'mp4' | 'webm' | 'gif';

const CRF_RANGE: Record<'mp4' | 'webm', { max: number; default: number }> = {
  mp4: { max: 51, default: 18 },
  webm: { max: 63, default: 32 },
};
const DEFAULT_IMAGE_QUALITY = 90;

/**
 * Writes `clip` to `path` in the format its extension names, atomically. Returns the paths written: `[path]`, or
 * the numbered frame files when a multi-frame clip goes to PNG/JPEG.
 */
export async function writeVideo(path: string, clip: VideoClip, opts: EncodeOptions = {}): Promise<string[]> {
  const format = opts.format ?? formatFromPath(path);
  checkClip(clip);
  if (isStillFormat(format) && clip.frames > 1) return writeFrameSequence(path, clip, format, opts);
  if (isVideoCodecFormat(format)) {
    await writeAtomically(path, (tempPath) => encodeWithFfmpeg(clip, format, opts, tempPath, path));
  } else {
    await writeFileAtomically(path, await encodeWithSharp(clip, format, opts));
  }
  return [path];
}

/** Encodes `clip` to the bytes of a file in `format` (what an HTTP response carries). */
export async function encodeVideo(clip: VideoClip, format: MediaFormat, opts: Omit<EncodeOptions, 'format'> = {}): Promise<Buffer> {
  checkClip(clip);
  if (!isVideoCodecFormat(format)) {
    if (isStillFormat(format) && clip.frames > 1) {
      throw new TesseraError('unsupported', `${format} holds a single frame but the clip has ${clip.frames}; use mp4, webm, gif or webp`);
    }
    return encodeWithSharp(clip, format, opts);
  }
  // MP4 with the index at the front (+faststart) needs a seekable output, so encode into a private temp file.
  const dir = await mkdtemp(join(tmpdir(), 'tessera-encode-'));
  try {
    const file = join(dir, `clip.${format}`);
    await encodeWithFfmpeg(clip, format, opts, file, `<${format} in memory>`);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ThumbnailOptions {
  /** Which frame: 'middle' (default), 'first', or an index. */
  frame?: 'middle' | 'first' | number;
  /** Scale to this width, keeping the aspect ratio. */
  width?: number;
  quality?: number;
}

/** A still image of one frame; WebP unless `format` says otherwise. */
export async function encodeThumbnail(clip: VideoClip, opts: ThumbnailOptions & { format?: MediaFormat } = {}): Promise<Buffer> {
  checkClip(clip);
  const format = opts.format ?? 'webp';
  checkStillImageFormat(format, 'format');
  const index = opts.frame === 'first' ? 0 : opts.frame === undefined || opts.frame === 'middle' ? Math.floor(clip.frames / 2) : opts.frame;
  if (!Number.isInteger(index) || index < 0 || index >= clip.frames) {
    throw invalidArgument('frame', `expected 'first', 'middle' or an index from 0 to ${clip.frames - 1}, got ${String(opts.frame)}`);
  }
  let image = rawImage(frameView(clip, index), clip.width, clip.height);
  if (opts.width !== undefined) {
    checkIntInRange('width', opts.width, 1, 16384);
    image = image.resize({ width: opts.width });
  }
  return toFormat(image, format, opts.quality);
}

/** Writes a thumbnail (see encodeThumbnail) to `path`; the extension picks WebP, PNG or JPEG. */
export async function writeThumbnail(path: string, clip: VideoClip, opts: ThumbnailOptions = {}): Promise<void> {
  const format = formatFromPath(path);
  checkStillImageFormat(format, 'path');
  await writeFileAtomically(path, await encodeThumbnail(clip, { ...opts, format }));
}

export interface SpritesheetOptions {
  /** Frames per row; default ceil(sqrt(frames)), which makes a near-square sheet. */
  columns?: number;
  quality?: number;
}

/** All frames tiled in a grid, row by row; empty cells of the last row are black. JPEG unless `format` says otherwise. */
export async function encodeSpritesheet(clip: VideoClip, opts: SpritesheetOptions & { format?: MediaFormat } = {}): Promise<Buffer> {
  checkClip(clip);
  const format = opts.format ?? 'jpeg';
  checkStillImageFormat(format, 'format');
  const columns = opts.columns ?? Math.ceil(Math.sqrt(clip.frames));
  checkIntInRange('columns', columns, 1, clip.frames);
  const rows = Math.ceil(clip.frames / columns);
  const rowBytes = clip.width * 3;
  const sheetWidth = columns * clip.width;
  const sheet = new Uint8Array(rows * clip.height * sheetWidth * 3);
  for (let f = 0; f < clip.frames; f++) {
    const frame = frameView(clip, f);
    const x0 = (f % columns) * clip.width;
    const y0 = Math.floor(f / columns) * clip.height;
    for (let y = 0; y < clip.height; y++) {
      sheet.set(frame.subarray(y * rowBytes, (y + 1) * rowBytes), ((y0 + y) * sheetWidth + x0) * 3);
    }
  }
  return toFormat(rawImage(sheet, sheetWidth, rows * clip.height), format, opts.quality);
}

/** Writes a spritesheet (see encodeSpritesheet) to `path`; the extension picks JPEG, PNG or WebP. */
export async function writeSpritesheet(path: string, clip: VideoClip, opts: SpritesheetOptions = {}): Promise<void> {
  const format = formatFromPath(path);
  checkStillImageFormat(format, 'path');
  await writeFileAtomically(path, await encodeSpritesheet(clip, { ...opts, format }));
}

// ---------------------------------------------------------------------------------------------------------------

function isVideoCodecFormat(format: MediaFormat): format is VideoCodecFormat {
  return format === 'mp4' || format === 'webm' || format === 'gif';
}

/** ffmpeg output arguments per format, after the raw rgb24 input. */
function codecArgs(format: VideoCodecFormat, opts: EncodeOptions): string[] {
  switch (format) {
    case 'mp4':
      // yuv420p and +faststart (index before the media data) so browsers play it while it downloads.
      return ['-c:v', 'libx264', '-preset', 'medium', '-crf', String(crfFor('mp4', opts)), '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4'];
    case 'webm':
      return ['-c:v', 'libvpx-vp9', '-crf', String(crfFor('webm', opts)), '-b:v', '0', '-pix_fmt', 'yuv420p', '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1', '-f', 'webm'];
    case 'gif':
      // One palette built from every frame, then applied to each: far better than the fixed web palette.
      return ['-filter_complex', 'split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a', '-loop', '0', '-f', 'gif'];
  }
}

function crfFor(format: 'mp4' | 'webm', opts: EncodeOptions): number {
  const { max, default: fallback } = CRF_RANGE[format];
  if (opts.crf !== undefined) {
    checkIntInRange('crf', opts.crf, 0, max);
    return opts.crf;
  }
  if (opts.quality !== undefined) {
    checkIntInRange('quality', opts.quality, 1, 100);
    return Math.round(max * (1 - opts.quality / 100));
  }
  return fallback;
}

async function encodeWithFfmpeg(clip: VideoClip, format: VideoCodecFormat, opts: EncodeOptions, outPath: string, displayName: string): Promise<void> {
  // 4:2:0 chroma needs even sizes; repeat the last row/column rather than add a black edge or resample.
  const input = format === 'gif' ? clip : padToEven(clip);
  const args = [
    '-v', 'error',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${input.width}x${input.height}`, '-r', String(clip.fps), '-i', 'pipe:0',
    ...codecArgs(format, opts),
    '-y', outPath,
  ];
  const run = await runFfmpeg(args, { input: input.data, signal: opts.signal });
  if (run.exitCode !== 0) {
    throw new TesseraError('io_error', `cannot encode ${format} for "${displayName}": ${ffmpegReason(run.stderr)}`, { param: displayName });
  }
}

/** The clip grown to even width and height by repeating its last column and row (the clip itself if already even). */
export function padToEven(clip: VideoClip): VideoClip {
  const width = clip.width + (clip.width % 2);
  const height = clip.height + (clip.height % 2);
  if (width === clip.width && height === clip.height) return clip;
  const data = new Uint8Array(clipByteLength(clip.frames, height, width));
  const srcRow = clip.width * 3;
  const dstRow = width * 3;
  for (let f = 0; f < clip.frames; f++) {
    const src = frameView(clip, f);
    const dstFrame = f * height * dstRow;
    for (let y = 0; y < height; y++) {
      const sy = Math.min(y, clip.height - 1);
      const dst = dstFrame + y * dstRow;
      data.set(src.subarray(sy * srcRow, (sy + 1) * srcRow), dst);
      if (width !== clip.width) data.copyWithin(dst + srcRow, dst + srcRow - 3, dst + srcRow);
    }
  }
  return { ...clip, width, height, data };
}

async function encodeWithSharp(clip: VideoClip, format: 'webp' | StillFormat, opts: EncodeOptions): Promise<Buffer> {
  if (format !== 'webp') return toFormat(rawImage(frameView(clip, 0), clip.width, clip.height), format, opts.quality);
  // An animated WebP is the frames stacked vertically, cut into pages of one frame's height.
  const image = sharp(clip.data, { raw: { width: clip.width, height: clip.height * clip.frames, channels: 3, pageHeight: clip.height } });
  const animation = clip.frames > 1 ? { loop: 0, delay: Array<number>(clip.frames).fill(Math.round(1000 / clip.fps)) } : {};
  return image.webp({ quality: imageQuality(opts.quality), ...animation }).toBuffer();
}

async function writeFrameSequence(path: string, clip: VideoClip, format: StillFormat, opts: EncodeOptions): Promise<string[]> {
  const { dir, name, ext } = parse(path);
  const digits = Math.max(4, String(clip.frames - 1).length);
  const paths: string[] = [];
  for (let f = 0; f < clip.frames; f++) {
    const framePath = join(dir, `${name}_${String(f).padStart(digits, '0')}${ext}`);
    const frame: VideoClip = { ...clip, frames: 1, data: frameView(clip, f) };
    await writeFileAtomically(framePath, await encodeWithSharp(frame, format, opts));
    paths.push(framePath);
  }
  return paths;
}

function rawImage(pixels: Uint8Array, width: number, height: number): Sharp {
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

function toFormat(image: Sharp, format: MediaFormat, quality: number | undefined): Promise<Buffer> {
  switch (format) {
    case 'webp':
      return image.webp({ quality: imageQuality(quality) }).toBuffer();
    case 'jpeg':
      return image.jpeg({ quality: imageQuality(quality) }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    default:
      throw new TesseraError('internal', `toFormat called with the video format ${format}`);
  }
}

function imageQuality(quality: number | undefined): number {
  if (quality === undefined) return DEFAULT_IMAGE_QUALITY;
  checkIntInRange('quality', quality, 1, 100);
  return quality;
}

function checkStillImageFormat(format: MediaFormat, param: string): void {
  if (format !== 'webp' && !isStillFormat(format)) {
    throw invalidArgument(param, `expected an image format (.webp, .png, .jpg), got ${format}`);
  }
}

function checkIntInRange(param: string, value: number, lo: number, hi: number): void {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw invalidArgument(param, `expected an integer from ${lo} to ${hi}, got ${value}`);
  }
}

/** A clip whose fields disagree would make ffmpeg read garbage; catch it here with a message that says why. */
function checkClip(clip: VideoClip): void {
  for (const field of ['frames', 'height', 'width'] as const) {
    if (!Number.isInteger(clip[field]) || clip[field] < 1) throw invalidArgument(`clip.${field}`, `expected a positive integer, got ${clip[field]}`);
  }
  if (!(clip.fps > 0) || !Number.isFinite(clip.fps)) throw invalidArgument('clip.fps', `expected a positive number, got ${clip.fps}`);
  const expected = clipByteLength(clip.frames, clip.height, clip.width);
  if (clip.data.length !== expected) {
    throw invalidArgument('clip.data', `expected ${expected} bytes for ${clip.frames}x${clip.height}x${clip.width}x3, got ${clip.data.length}`);
  }
}
