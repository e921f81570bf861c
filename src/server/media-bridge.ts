/**
 * The two media functions the server needs that src/media does not export yet (sniffing and decoding an
 * uploaded image). TEMPORARY: replace with src/media's sniffImageType/decodeImage when they land.
 */
import sharp from 'sharp';
import { TesseraError } from '../errors.js';
import type { VideoClip } from '../media/types.js';

export type ImageType = 'png' | 'jpeg' | 'webp';

/** The image type from magic bytes, or undefined; the upload's declared content type is not trusted. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'webp';
  return undefined;
}

/** Decodes an image and fits it to width x height (cover, centred): the first frame of an image-to-video job. */
export async function decodeReferenceImage(bytes: Uint8Array, width: number, height: number): Promise<VideoClip> {
  try {
    const data = await sharp(bytes).removeAlpha().resize(width, height, { fit: 'cover' }).raw().toBuffer();
    return { frames: 1, width, height, fps: 1, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new TesseraError('corrupt_file', `input_reference: the image cannot be decoded (${(e as Error).message})`, { param: 'input_reference', cause: e });
  }
}

/** Reads the image header, so a file with the right magic but broken contents is refused at upload time. */
export async function probeImage(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const meta = await sharp(bytes).metadata().catch(() => undefined);
  if (!meta?.width || !meta.height) {
    throw new TesseraError('invalid_argument', 'input_reference: the image is damaged and cannot be decoded', { param: 'input_reference' });
  }
  return { width: meta.width, height: meta.height };
}
