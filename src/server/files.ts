/**
 * Where a job's files live: one folder per video under the output root, named by its id. Ids are checked
 * against one pattern before any path is built, and every path is checked to stay inside the root, so no
 * request can reach outside it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { TesseraError, invalidArgument } from '../errors.js';
import { writeFileAtomically } from '../atomic.js';
import type { VideoClip } from '../media/types.js';

const VIDEO_ID = /^video_[0-9a-f]{32}$/;

export function newVideoId(): string {
  return `video_${randomBytes(16).toString('hex')}`;
}

export function isVideoId(id: string): boolean {
  return VIDEO_ID.test(id);
}

/** The downloadable variants and their file names and content types (OpenAI's: mp4, webp thumbnail, jpeg sprites). */
export const VARIANTS = {
  video: { file: 'video.mp4', type: 'video/mp4' },
  thumbnail: { file: 'thumbnail.webp', type: 'image/webp' },
  spritesheet: { file: 'spritesheet.jpg', type: 'image/jpeg' },
} as const;
export type Variant = keyof typeof VARIANTS;

/** Raw frames kept beside the encoded video so edits and extensions start from lossless pixels. */
const CLIP_FILE = 'frames.rgb';
const CLIP_MAGIC = 0x50494c43; // "CLIP" little-endian
const CLIP_HEADER = 20;

export class OutputFiles {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The folder of one video; throws on a malformed id, so callers never join untrusted text into a path. */
  dir(id: string): string {
    if (!isVideoId(id)) throw invalidArgument('video_id', `expected "video_" followed by 32 hex digits, got ${JSON.stringify(id.slice(0, 80))}`);
    const dir = resolve(this.root, id);
    if (!dir.startsWith(this.root + sep)) throw new TesseraError('internal', `video folder escapes the output root: ${id}`);
    return dir;
  }

  path(id: string, file: string): string {
    if (file.includes('/') || file.includes('\\') || file.startsWith('.')) throw new TesseraError('internal', `bad output file name ${file}`);
    return join(this.dir(id), file);
  }

  async ensureDir(id: string): Promise<string> {
    const dir = this.dir(id);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async writeFile(id: string, file: string, bytes: Uint8Array): Promise<void> {
    await this.ensureDir(id);
    await writeFileAtomically(this.path(id, file), bytes);
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  async writeClip(id: string, clip: VideoClip): Promise<void> {
    const header = Buffer.alloc(CLIP_HEADER);
    header.writeUInt32LE(CLIP_MAGIC, 0);
    header.writeUInt32LE(clip.frames, 4);
    header.writeUInt32LE(clip.height, 8);
    header.writeUInt32LE(clip.width, 12);
    header.writeUInt32LE(clip.fps, 16);
    await this.writeFile(id, CLIP_FILE, Buffer.concat([header, clip.data.subarray(0, clip.frames * clip.height * clip.width * 3)]));
  }

  async readClip(id: string): Promise<VideoClip> {
    const path = this.path(id, CLIP_FILE);
    const bytes = await readFile(path).catch((e: unknown) => {
      throw new TesseraError('not_found', `the frames of ${id} are gone (expired or deleted)`, { param: 'video', cause: e });
    });
    if (bytes.length < CLIP_HEADER || bytes.readUInt32LE(0) !== CLIP_MAGIC) throw new TesseraError('corrupt_file', `${path}: not a Tessera frame file`);
    const frames = bytes.readUInt32LE(4);
    const height = bytes.readUInt32LE(8);
    const width = bytes.readUInt32LE(12);
    const fps = bytes.readUInt32LE(16);
    const n = frames * height * width * 3;
    if (bytes.length !== CLIP_HEADER + n) throw new TesseraError('corrupt_file', `${path}: expected ${n} pixel bytes, found ${bytes.length - CLIP_HEADER}`);
    return { frames, height, width, fps, data: new Uint8Array(bytes.buffer, bytes.byteOffset + CLIP_HEADER, n) };
  }
}
