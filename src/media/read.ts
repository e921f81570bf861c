/**
 * Decoding images and videos into clips at the size and frame rate the caller asks for.
 * Images (PNG, JPEG, WebP, animated WebP) go through sharp; everything else ffmpeg can decode goes through ffmpeg,
 * whose rgb24 output is read from a pipe. Bad input always ends as a TesseraError that names the file.
 */
import { open, readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { TesseraError, invalidArgument } from '../errors.js';
import { ffmpegInputError, runFfmpeg } from './ffmpeg.js';
import { clipByteLength, type ImageRgb, type VideoClip } from './types.js';

export type ImageType = 'png' | 'jpeg' | 'webp';

/**
 * How a picture is brought to a target size when both width and height are given:
 * 'cover' scales to fill and centre-crops the overflow, 'contain' scales to fit and pads with black,
 * 'fill' stretches. With only one of width/height the aspect ratio is kept and `fit` does not matter.
 */
export type Fit = 'cover' | 'contain' | 'fill';

export interface ImageReadOptions {
  width?: number;
  height?: number;
  fit?: Fit;
  /** Frame rate stamped on the 1-frame clip (default 8); images have none of their own. */
  fps?: number;
}

export interface VideoReadOptions {
  width?: number;
  height?: number;
  /** Resample to this frame rate (frames are dropped or repeated); default: the source's. */
  fps?: number;
  /** Stop after this many output frames. */
  maxFrames?: number;
  /** Start decoding this many seconds into the video. */
  startSeconds?: number;
  signal?: AbortSignal;
}

const DEFAULT_IMAGE_FPS = 8;
const IMAGE_TYPES_SUPPORTED = 'PNG, JPEG or WebP';

/** The image type from the first bytes of a file, or null when it is none Tessera reads as an image. */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
  const startsWith = (offset: number, magic: readonly number[]): boolean =>
    bytes.length >= offset + magic.length && magic.every((b, i) => bytes[offset + i] === b);
  if (startsWith(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(0, [0x52, 0x49, 0x46, 0x46]) && startsWith(8, [0x57, 0x45, 0x42, 0x50])) return 'webp'; // RIFF....WEBP
  return null;
}

/** Reads an image file into a 1-frame clip (the first frame of an animated WebP). */
export async function readImage(path: string, opts: ImageReadOptions = {}): Promise<ImageRgb> {
  return decodeImage(await readInputFile(path), opts, path);
}

/** Decodes image bytes into a 1-frame clip. `name` (a file name or field) is what errors mention. */
export async function decodeImage(bytes: Uint8Array, opts: ImageReadOptions = {}, name = 'image'): Promise<ImageRgb> {
  const clip = await decodeImageFrames(bytes, opts, name, false);
  return clip as ImageRgb;
}

/**
 * Reads a video file into a clip, scaled/cropped to the target size (as `fit: 'cover'`) and resampled to `fps`.
 * Any container and codec the ffmpeg build decodes works, including GIF.
 */
export async function readVideo(path: string, opts: VideoReadOptions = {}): Promise<VideoClip> {
  checkReadSize(opts);
  if (opts.fps !== undefined && !(opts.fps > 0 && Number.isFinite(opts.fps))) throw invalidArgument('fps', `expected a positive number, got ${opts.fps}`);
  if (opts.maxFrames !== undefined && !(Number.isInteger(opts.maxFrames) && opts.maxFrames >= 1)) {
    throw invalidArgument('maxFrames', `expected a positive integer, got ${opts.maxFrames}`);
  }
  const start = opts.startSeconds ?? 0;
  if (!(start >= 0 && Number.isFinite(start))) throw invalidArgument('startSeconds', `expected a non-negative number, got ${opts.startSeconds}`);

  const source = await probeVideo(path, opts.signal);
  const { width, height } = targetSize(source, opts);
  const fps = opts.fps ?? source.fps;

  const filters: string[] = [];
  if (opts.fps !== undefined) filters.push(`fps=${opts.fps}`);
  if (width !== source.width || height !== source.height) {
    filters.push(`scale=${width}:${height}:force_original_aspect_ratio=increase:flags=area`, `crop=${width}:${height}`);
  }
  const args = [
    '-v', 'error',
    ...(start > 0 ? ['-ss', String(start)] : []),
    '-i', path,
    '-an', '-sn', '-dn',
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    ...(opts.maxFrames !== undefined ? ['-frames:v', String(opts.maxFrames)] : []),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  const run = await runFfmpeg(args, { signal: opts.signal });
  if (run.exitCode !== 0) throw ffmpegInputError(path, run.stderr);

  const frameBytes = clipByteLength(1, height, width);
  const frames = Math.floor(run.stdout.length / frameBytes);
  if (frames === 0) {
    if (start > 0 && source.durationSeconds !== undefined && start >= source.durationSeconds) {
      throw invalidArgument('startSeconds', `${start} s is past the end of "${path}" (${source.durationSeconds} s long)`);
    }
    throw new TesseraError('corrupt_file', `"${path}" holds no decodable video frames`, { param: path });
  }
  // Small outputs can live in Node's shared Buffer pool; copy those so the clip owns its whole ArrayBuffer.
  const byteLength = frames * frameBytes;
  const ownsBuffer = run.stdout.byteOffset === 0 && run.stdout.buffer.byteLength === byteLength;
  const data = ownsBuffer ? new Uint8Array(run.stdout.buffer) : new Uint8Array(run.stdout.subarray(0, byteLength));
  return { frames, height, width, fps, data };
}

/**
 * Reads any supported media file by its content: a still image becomes a 1-frame clip, an animated WebP or a
 * video becomes a clip. Size options apply to both; `fps`/`maxFrames`/`startSeconds` to animations and videos.
 */
export async function readMedia(path: string, opts: VideoReadOptions & { fit?: Fit } = {}): Promise<VideoClip> {
  const head = await readHead(path, 16);
  if (sniffImageType(head) === null) return readVideo(path, opts);
  const clip = await decodeImageFrames(await readInputFile(path), opts, path, true);
  if (clip.frames === 1) return clip;
  return retime(clip, opts);
}

// ---------------------------------------------------------------------------------------------------------------

interface VideoProbe {
  width: number;
  height: number;
  fps: number;
  durationSeconds?: number;
}

/**
 * Size, frame rate and duration of the first video stream, parsed from `ffmpeg -i` (the npm ffmpeg build ships
 * no ffprobe). With no output file ffmpeg always exits non-zero, so success is judged by finding the stream line.
 */
async function probeVideo(path: string, signal: AbortSignal | undefined): Promise<VideoProbe> {
  await readHead(path, 1); // turns a missing or unreadable file into the usual not_found / io_error
  const { stderr } = await runFfmpeg(['-i', path], { signal });
  const stream = /Stream #\d+:\d+.*?: Video: (.*)/.exec(stderr)?.[1];
  if (stream === undefined) {
    // Audio-only is a valid file we cannot use; a stream of unknown type ("Data: none") is what a truncated or
    // damaged container leaves behind.
    if (/Stream #\d+:\d+.*: Audio:/.test(stderr)) throw new TesseraError('unsupported', `"${path}" has no video stream`, { param: path });
    if (/Stream #\d+:\d+/.test(stderr)) throw new TesseraError('corrupt_file', `"${path}" has no readable video stream (truncated or damaged?)`, { param: path });
    throw ffmpegInputError(path, stderr);
  }
  // ", 128x96," — the comma keeps codec tags such as "0x31637661" from matching.
  const size = /, (\d+)x(\d+)/.exec(stream);
  if (size === null) throw new TesseraError('corrupt_file', `"${path}": cannot find the video size in ffmpeg's report`, { param: path });
  let width = Number(size[1]);
  let height = Number(size[2]);
  // ffmpeg applies rotation metadata while decoding, so a portrait phone video comes out transposed.
  if (/rotate\s*:\s*-?(90|270)\b|rotation of -?(90|270)\.00/.test(stderr)) [width, height] = [height, width];
  const fps = parseRate(/([\d.]+k?) fps/.exec(stream)?.[1]) ?? parseRate(/([\d.]+k?) tbr/.exec(stream)?.[1]) ?? 25;
  const duration = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  const durationSeconds = duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : undefined;
  return { width, height, fps, ...(durationSeconds !== undefined ? { durationSeconds } : {}) };
}

function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.endsWith('k') ? Number(text.slice(0, -1)) * 1000 : Number(text);
  return value > 0 && Number.isFinite(value) ? value : undefined;
}

/** Output size: the asked width and height, or the source's, keeping its aspect ratio when only one is given. */
function targetSize(source: { width: number; height: number }, opts: { width?: number; height?: number }): { width: number; height: number } {
  const { width, height } = opts;
  if (width !== undefined && height !== undefined) return { width, height };
  if (width !== undefined) return { width, height: Math.max(1, Math.round((source.height * width) / source.width)) };
  if (height !== undefined) return { width: Math.max(1, Math.round((source.width * height) / source.height)), height };
  return { width: source.width, height: source.height };
}

function checkReadSize(opts: { width?: number; height?: number }): void {
  for (const field of ['width', 'height'] as const) {
    const value = opts[field];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 16384)) {
      throw invalidArgument(field, `expected an integer from 1 to 16384, got ${value}`);
    }
  }
}

/**
 * Decodes an image (all pages when `animated`) to rgb24 at the target size. Alpha is flattened onto black.
 * sharp is told to fail on any decoder warning, so truncated files are errors rather than half-grey pictures.
 */
async function decodeImageFrames(bytes: Uint8Array, opts: ImageReadOptions, name: string, animated: boolean): Promise<VideoClip> {
  checkReadSize(opts);
  const type = sniffImageType(bytes);
  if (type === null) {
    throw new TesseraError('unsupported', `"${name}" is not a ${IMAGE_TYPES_SUPPORTED} image`, { param: name });
  }
  const fps = opts.fps ?? DEFAULT_IMAGE_FPS;
  if (!(fps > 0 && Number.isFinite(fps))) throw invalidArgument('fps', `expected a positive number, got ${opts.fps}`);
  try {
    const input = sharp(bytes, { failOn: 'warning', autoOrient: true, ...(animated ? { pages: -1 } : {}) });
    const meta = await input.metadata();
    const frames = animated ? (meta.pages ?? 1) : 1;
    const pageHeight = frames > 1 ? (meta.pageHeight ?? meta.height) : (meta.autoOrient?.height ?? meta.height);
    const pageWidth = frames > 1 ? meta.width : (meta.autoOrient?.width ?? meta.width);
    const { width, height } = targetSize({ width: pageWidth, height: pageHeight }, opts);

    const pixels = (image: Sharp): Promise<Buffer> =>
      image
        .flatten({ background: { r: 0, g: 0, b: 0 } })
        .resize({ width, height, fit: opts.fit ?? 'cover', position: 'centre', background: { r: 0, g: 0, b: 0 } })
        .toColourspace('srgb')
        .raw()
        .toBuffer();

    if (frames === 1) return { frames: 1, height, width, fps, data: new Uint8Array(await pixels(input)) };
    // Resize each page on its own so crops never mix neighbouring frames.
    const data = new Uint8Array(clipByteLength(frames, height, width));
    for (let page = 0; page < frames; page++) {
      data.set(await pixels(sharp(bytes, { failOn: 'warning', page, pages: 1 })), page * width * height * 3);
    }
    const delays = meta.delay ?? [];
    const meanDelayMs = delays.length > 0 ? delays.reduce((a, b) => a + b, 0) / delays.length : 0;
    // The animation's own timing; readMedia resamples it to opts.fps.
    return { frames, height, width, fps: meanDelayMs > 0 ? 1000 / meanDelayMs : fps, data };
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new TesseraError('corrupt_file', `"${name}" is a damaged ${type.toUpperCase()} image: ${reason}`, { param: name, cause: e });
  }
}

/** An animation at a new frame rate (nearest earlier frame), cut to maxFrames; the same clip when nothing changes. */
function retime(clip: VideoClip, opts: { fps?: number; maxFrames?: number; startSeconds?: number }): VideoClip {
  const fps = opts.fps ?? clip.fps;
  const first = (opts.startSeconds ?? 0) * clip.fps;
  const available = Math.floor(((clip.frames - first) * fps) / clip.fps);
  const frames = Math.min(available, opts.maxFrames ?? Infinity);
  if (frames < 1) throw invalidArgument('startSeconds', `${opts.startSeconds} s is past the end of the animation`);
  if (fps === clip.fps && first === 0 && frames === clip.frames) return clip;
  const frameBytes = clipByteLength(1, clip.height, clip.width);
  const data = new Uint8Array(frames * frameBytes);
  for (let f = 0; f < frames; f++) {
    const source = Math.min(clip.frames - 1, Math.floor(first + (f * clip.fps) / fps));
    data.set(clip.data.subarray(source * frameBytes, (source + 1) * frameBytes), f * frameBytes);
  }
  return { ...clip, frames, fps, data };
}

async function readInputFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw fileError(path, e);
  }
}

async function readHead(path: string, length: number): Promise<Uint8Array> {
  try {
    const handle = await open(path, 'r');
    try {
      const head = new Uint8Array(length);
      const { bytesRead } = await handle.read(head, 0, length, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw fileError(path, e);
  }
}

function fileError(path: string, e: unknown): TesseraError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new TesseraError('not_found', `"${path}" does not exist`, { param: path, cause: e });
  if (code === 'EISDIR') return new TesseraError('invalid_argument', `"${path}" is a directory, expected a media file`, { param: path, cause: e });
  const reason = e instanceof Error ? e.message : String(e);
  return new TesseraError('io_error', `cannot read "${path}": ${reason}`, { param: path, cause: e });
}
