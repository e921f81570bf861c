/**
 * The safetensors format, read and written from scratch:
 *
 *   [u64 little-endian N][N bytes of JSON header][data section]
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end)} (offsets relative to the data
 * section) and may hold "__metadata__": {string: string}. Tensors are decoded to Float32Array on read and
 * encoded from any float array on write (F32, F16, BF16; F64 is read only).
 * Every defect of a file is a TesseraError('corrupt_file') whose message names the file and the tensor.
 */
import { open, readFile } from 'node:fs/promises';
import { TesseraError } from '../errors.js';
import { writeHandleAtomically } from '../atomic.js';
import { BYTES_PER_ELEMENT, decodeToFloat32, encodeFromFloat, isStorageDType, type StorageDType } from './dtype.js';

/** What a writer needs of a tensor; the engine's Tensor fits structurally. */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface TensorInfo {
  dtype: StorageDType;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface StoredTensor {
  /** The dtype the tensor had in the file; `data` is always float32. */
  dtype: StorageDType;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

export interface SafetensorsContents {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export type WritableDType = Exclude<StorageDType, 'F64'>;

export interface WriteOptions {
  /** Storage dtype of every tensor (default F32). */
  dtype?: WritableDType;
  metadata?: Record<string, string>;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const HEADER_ALIGNMENT = 8;

function corrupt(file: string, message: string): TesseraError {
  return new TesseraError('corrupt_file', `${file}: ${message}`, { param: file });
}

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function readHeaderLength(prefix: Uint8Array, file: string, fileBytes: number): number {
  if (fileBytes < 8) {
    throw corrupt(file, `truncated: ${fileBytes} bytes, a safetensors file starts with an 8-byte header length`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(file, `header length ${length} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(length);
  if (8 + n > fileBytes) {
    throw corrupt(file, `truncated: header length ${n} runs past the end of the ${fileBytes}-byte file`);
  }
  return n;
}

/**
 * Parses and validates the JSON header. `dataBytes` is the size of the data section, so every tensor's offsets
 * can be checked against it without reading the data.
 */
function parseHeaderJson(json: Uint8Array, file: string, dataStart: number, dataBytes: number): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw corrupt(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw corrupt(file, 'header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}');
  }

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        throw corrupt(file, '__metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') throw corrupt(file, `__metadata__.${k} must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.set(name, parseTensorEntry(entry, `${file}: tensor '${name}'`, dataBytes));
  }

  // Tensors may come in any order in the header but must not share bytes.
  const bySpan = [...tensors].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  for (let i = 1; i < bySpan.length; i++) {
    const [prevName, prev] = bySpan[i - 1]!;
    const [name, info] = bySpan[i]!;
    if (info.dataOffsets[0] < prev.dataOffsets[1]) {
      throw corrupt(
        file,
        `tensor '${name}' bytes [${info.dataOffsets.join(', ')}) overlap tensor '${prevName}' bytes [${prev.dataOffsets.join(', ')})`,
      );
    }
  }
  return { tensors, metadata, dataStart };
}

function parseTensorEntry(entry: unknown, where: string, dataBytes: number): TensorInfo {
  const fail = (message: string) => new TesseraError('corrupt_file', `${where}: ${message}`, { param: where.split(': ')[0] });
  if (typeof entry !== 'object' || entry === null) throw fail('entry must be an object {dtype, shape, data_offsets}');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;

  if (!isStorageDType(dtype)) throw fail(`unknown dtype ${JSON.stringify(dtype)} (expected F32, F16, BF16 or F64)`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail(`shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
  ) {
    throw fail(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataBytes) {
    throw fail(`data_offsets [${begin}, ${end}) run past the ${dataBytes}-byte data section (file truncated?)`);
  }
  const expected = numElements(shape) * BYTES_PER_ELEMENT[dtype];
  if (end - begin !== expected) {
    throw fail(`shape ${shapeString(shape)} of ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`);
  }
  return { dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

/** Parses a whole safetensors file held in memory. `file` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContents {
  const headerLength = readHeaderLength(bytes, file, bytes.byteLength);
  const dataStart = 8 + headerLength;
  const header = parseHeaderJson(bytes.subarray(8, dataStart), file, dataStart, bytes.byteLength - dataStart);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, info] of header.tensors) {
    const [begin, end] = info.dataOffsets;
    tensors.set(name, {
      dtype: info.dtype,
      shape: info.shape,
      data: decodeToFloat32(bytes.subarray(dataStart + begin, dataStart + end), info.dtype),
    });
  }
  return { tensors, metadata: header.metadata };
}

export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fileError(path, e);
  }
  return parseSafetensors(bytes, path);
}

/** Reads and validates only the header: names, dtypes and shapes without loading the data. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw fileError(path, e);
  }
  try {
    const { size } = await handle.stat();
    const prefix = new Uint8Array(8);
    await handle.read(prefix, 0, Math.min(8, size), 0);
    const headerLength = readHeaderLength(prefix, path, size);
    const json = new Uint8Array(headerLength);
    await handle.read(json, 0, headerLength, 8);
    return parseHeaderJson(json, path, 8 + headerLength, size - 8 - headerLength);
  } finally {
    await handle.close();
  }
}

function fileError(path: string, e: unknown): TesseraError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new TesseraError('not_found', `${path}: no such file`, { param: path, cause: e });
  return new TesseraError('io_error', `${path}: ${(e as Error).message}`, { param: path, cause: e });
}

/** Builds the header bytes (JSON padded with spaces so the data section starts 8-byte aligned). */
function buildHeader(
  tensors: Iterable<[string, TensorLike]>,
  dtype: WritableDType,
  metadata: Record<string, string> | undefined,
): { header: Uint8Array; entries: [string, TensorLike][] } {
  const json: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) json['__metadata__'] = metadata;
  const entries = [...tensors];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new TesseraError('invalid_argument', 'a tensor cannot be named __metadata__');
    const n = numElements(t.shape);
    if (t.data.length !== n) {
      throw new TesseraError(
        'shape_mismatch',
        `tensor '${name}': shape ${shapeString(t.shape)} has ${n} elements but its data has ${t.data.length}`,
      );
    }
    const bytes = n * BYTES_PER_ELEMENT[dtype];
    json[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(json);
  const encoder = new TextEncoder();
  let length = encoder.encode(text).byteLength;
  const padded = Math.ceil((8 + length) / HEADER_ALIGNMENT) * HEADER_ALIGNMENT - 8;
  text += ' '.repeat(padded - length);
  length = padded;
  const header = new Uint8Array(8 + length);
  new DataView(header.buffer).setBigUint64(0, BigInt(length), true);
  header.set(encoder.encode(text), 8);
  return { header, entries };
}

type TensorCollection = Map<string, TensorLike> | Iterable<[string, TensorLike]> | Record<string, TensorLike>;

function toEntries(tensors: TensorCollection): Iterable<[string, TensorLike]> {
  if (tensors instanceof Map || Symbol.iterator in tensors) return tensors as Iterable<[string, TensorLike]>;
  return Object.entries(tensors);
}

/** The whole file as bytes, tensors in the given order. */
export function serializeSafetensors(tensors: TensorCollection, options: WriteOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const { header, entries } = buildHeader(toEntries(tensors), dtype, options.metadata);
  const parts = entries.map(([, t]) => encodeFromFloat(t.data, dtype));
  const out = new Uint8Array(header.byteLength + parts.reduce((s, p) => s + p.byteLength, 0));
  out.set(header, 0);
  let offset = header.byteLength;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Writes atomically, encoding one tensor at a time so a large model never exists twice in memory. */
export async function writeSafetensors(path: string, tensors: TensorCollection, options: WriteOptions = {}): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  if (!['F32', 'F16', 'BF16'].includes(dtype)) {
    throw new TesseraError('unsupported', `cannot write dtype ${dtype}: expected F32, F16 or BF16`, { param: 'dtype' });
  }
  const { header, entries } = buildHeader(toEntries(tensors), dtype, options.metadata);
  await writeHandleAtomically(path, async (handle) => {
    // writeFile (unlike write) loops until every byte is written, continuing at the current position.
    await handle.writeFile(header);
    for (const [, t] of entries) await handle.writeFile(encodeFromFloat(t.data, dtype));
  });
}
