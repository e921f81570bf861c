/**
 * The output formats Tessera writes, and how a file name selects one.
 */
import { extname } from 'node:path';
import { invalidArgument } from '../errors.js';

export type MediaFormat = 'mp4' | 'webm' | 'gif' | 'webp' | 'png' | 'jpeg';

/** Formats that hold one still image; a multi-frame clip becomes numbered files (see writeVideo). */
export type StillFormat = 'png' | 'jpeg';

export function isStillFormat(format: MediaFormat): format is StillFormat {
  return format === 'png' || format === 'jpeg';
}

const FORMAT_BY_EXTENSION: Readonly<Record<string, MediaFormat>> = {
  '.mp4': 'mp4',
  '.webm': 'webm',
  '.gif': 'gif',
  '.webp': 'webp',
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
};

export const SUPPORTED_EXTENSIONS: readonly string[] = Object.keys(FORMAT_BY_EXTENSION);

export const MIME_TYPES: Readonly<Record<MediaFormat, string>> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  gif: 'image/gif',
  webp: 'image/webp',
  png: 'image/png',
  jpeg: 'image/jpeg',
};

export function isMediaFormat(value: string): value is MediaFormat {
  return Object.prototype.hasOwnProperty.call(MIME_TYPES, value);
}

/** The format an output path asks for, from its extension (case-insensitive). `param` names the input in errors. */
export function formatFromPath(path: string, param = 'path'): MediaFormat {
  const ext = extname(path).toLowerCase();
  const format = FORMAT_BY_EXTENSION[ext];
  if (format === undefined) {
    const got = ext === '' ? 'no extension' : `"${ext}"`;
    throw invalidArgument(param, `cannot tell the output format of "${path}" (${got}); expected one of ${SUPPORTED_EXTENSIONS.join(', ')}`);
  }
  return format;
}
