/**
 * Request bodies to job parameters. JSON bodies and multipart forms arrive as the same RequestBody (multipart's
 * bracketed keys like `video[id]` become nested objects), so each endpoint validates one shape. Every rejection
 * is a 400 naming the field and what was expected.
 */
import { randomInt } from 'node:crypto';
import { badRequest, tooLarge } from './http-errors.js';
import { sniffImageType, type ImageType } from '../media/index.js';
import type { GeneratorCapabilities, JobParams } from './types.js';

export interface RequestBody {
  fields: Record<string, unknown>;
  files: Record<string, Buffer>;
}

export interface Limits {
  maxPromptChars: number;
  maxUploadBytes: number;
}

/** OpenAI's sizes; the model's own training sizes are offered beside them. */
export const OPENAI_SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024'] as const;
const MODEL_ALIASES = /^sora-2(-pro)?(-\d{4}-\d{2}-\d{2})?$/;
const MAX_SEED = 2 ** 32 - 1;

/** Tessera's options beyond OpenAI's, accepted on every endpoint that generates. */
const TESSERA_FIELDS = ['negative_prompt', 'seed', 'steps', 'guidance', 'fps'] as const;

export interface ImageUpload {
  bytes: Buffer;
  type: ImageType;
}

export interface CreateRequest {
  params: JobParams;
  size: string;
  seconds: string;
  image?: ImageUpload;
}

/** Typed reads of one body; knows which fields the endpoint allows so typos are refused, not ignored. */
class Fields {
  constructor(
    private readonly body: RequestBody,
    allowed: readonly string[],
  ) {
    for (const key of [...Object.keys(body.fields), ...Object.keys(body.files)]) {
      if (!allowed.includes(key)) throw badRequest(key, `Unknown parameter: '${key}'. Expected one of: ${allowed.join(', ')}.`, 'unknown_parameter');
    }
  }

  has(name: string): boolean {
    return this.body.fields[name] !== undefined || this.body.files[name] !== undefined;
  }

  string(name: string, opts: { required?: boolean; maxLength?: number } = {}): string | undefined {
    const v = this.body.fields[name];
    if (v === undefined || v === null) {
      if (opts.required) throw badRequest(name, `Missing required parameter: '${name}'.`, 'missing_required_parameter');
      return undefined;
    }
    if (typeof v !== 'string') throw badRequest(name, `Invalid type for '${name}': expected a string, got ${typeName(v)}.`, 'invalid_type');
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      throw badRequest(name, `'${name}' is too long: at most ${opts.maxLength} characters, got ${v.length}.`, 'string_above_max_length');
    }
    return v;
  }

  /** A number given as a JSON number or as a decimal string (multipart fields are always strings). */
  number(name: string, opts: { integer?: boolean; min: number; max: number }): number | undefined {
    const v = this.body.fields[name];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
    const kind = opts.integer ? 'an integer' : 'a number';
    if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
      throw badRequest(name, `Invalid type for '${name}': expected ${kind}, got ${JSON.stringify(v).slice(0, 40)}.`, 'invalid_type');
    }
    if (n < opts.min || n > opts.max) throw badRequest(name, `'${name}' must be ${kind} from ${opts.min} to ${opts.max}, got ${n}.`);
    return n;
  }

  object(name: string): Record<string, unknown> | undefined {
    const v = this.body.fields[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(name, `Invalid type for '${name}': expected an object, got ${typeName(v)}.`, 'invalid_type');
    return v as Record<string, unknown>;
  }

  file(name: string): Buffer | undefined {
    return this.body.files[name];
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}

export function allowedSizes(caps: GeneratorCapabilities): string[] {
  return [...new Set([...caps.sizes.map((s) => `${s.width}x${s.height}`), ...OPENAI_SIZES])];
}

function readPrompt(f: Fields, limits: Limits): string {
  const prompt = f.string('prompt', { required: true, maxLength: limits.maxPromptChars })!;
  if (prompt.trim() === '') throw badRequest('prompt', `'prompt' must not be empty.`);
  return prompt;
}

function readModel(f: Fields, caps: GeneratorCapabilities): void {
  const model = f.string('model');
  if (model !== undefined && model !== caps.model && !MODEL_ALIASES.test(model)) {
    throw badRequest('model', `Unknown model '${model.slice(0, 60)}'. This server runs '${caps.model}' (OpenAI's sora-2 names are accepted as aliases).`);
  }
}

function readSize(f: Fields, caps: GeneratorCapabilities): { size: string; width: number; height: number } {
  const sizes = allowedSizes(caps);
  const size = f.string('size') ?? sizes[0]!;
  if (!sizes.includes(size)) throw badRequest('size', `Invalid size '${size.slice(0, 40)}'. Expected one of: ${sizes.join(', ')}.`);
  const [width, height] = size.split('x').map(Number) as [number, number];
  return { size, width, height };
}

/** Seconds as a positive number (string or number); the frame count must fit the model. */
function readSeconds(f: Fields, caps: GeneratorCapabilities, fps: number, required: boolean): { seconds: string; frames: number } {
  const maxSeconds = caps.maxFrames / fps;
  if (!f.has('seconds')) {
    if (required) throw badRequest('seconds', `Missing required parameter: 'seconds'.`, 'missing_required_parameter');
    const s = Math.min(4, Math.floor(maxSeconds * 100) / 100);
    return { seconds: String(s), frames: Math.max(1, Math.round(s * fps)) };
  }
  const s = f.number('seconds', { min: 0, max: Number.MAX_SAFE_INTEGER })!;
  const frames = Math.round(s * fps);
  if (s <= 0 || frames < 1 || frames > caps.maxFrames) {
    throw badRequest('seconds', `'seconds' must be more than 0 and at most ${Math.floor(maxSeconds * 100) / 100} at ${fps} fps for this model, got ${s}.`);
  }
  return { seconds: String(s), frames };
}

function readTesseraOptions(f: Fields, caps: GeneratorCapabilities): Pick<JobParams, 'negativePrompt' | 'seed' | 'steps' | 'guidanceScale' | 'fps'> {
  return {
    negativePrompt: f.string('negative_prompt', { maxLength: 2000 }),
    seed: f.number('seed', { integer: true, min: 0, max: MAX_SEED }) ?? randomInt(0, MAX_SEED),
    steps: f.number('steps', { integer: true, min: 1, max: 200 }),
    guidanceScale: f.number('guidance', { min: 0, max: 30 }),
    fps: f.number('fps', { integer: true, min: 1, max: 60 }) ?? caps.defaultFps,
  };
}

/** `input_reference`: an uploaded file, or `{image_url: "data:..."}`. Its bytes must be PNG, JPEG or WebP. */
function readInputReference(f: Fields, limits: Limits): ImageUpload | undefined {
  let bytes = f.file('input_reference');
  if (!bytes) {
    const ref = f.object('input_reference');
    if (!ref) {
      if (f.has('input_reference')) throw badRequest('input_reference', `'input_reference' must be an uploaded image file or {image_url}.`, 'invalid_type');
      return undefined;
    }
    if (ref.file_id !== undefined) throw badRequest('input_reference[file_id]', 'File ids are not supported here: upload the image or pass it as a data: URL.', 'unsupported');
    const url = ref.image_url;
    if (typeof url !== 'string') throw badRequest('input_reference[image_url]', `Expected 'input_reference[image_url]' to be a string.`, 'invalid_type');
    bytes = decodeDataUrl(url, limits);
  }
  if (bytes.length === 0) throw badRequest('input_reference', 'The uploaded image is empty.');
  if (bytes.length > limits.maxUploadBytes) throw tooLarge(`The image is larger than ${limits.maxUploadBytes} bytes.`, 'input_reference');
  const type = sniffImageType(bytes);
  if (!type) throw badRequest('input_reference', 'Unsupported image: expected PNG, JPEG or WebP bytes (the upload is none of them).', 'invalid_image');
  return { bytes, type };
}

function decodeDataUrl(url: string, limits: Limits): Buffer {
  if (/^https?:/i.test(url)) {
    throw badRequest('input_reference[image_url]', 'Remote image URLs are not fetched (this server has no network access): upload the file or pass a data: URL.', 'unsupported');
  }
  const m = /^data:image\/(png|jpeg|jpg|webp);base64,([A-Za-z0-9+/=\s]*)$/i.exec(url.slice(0, 5 * limits.maxUploadBytes));
  if (!m) throw badRequest('input_reference[image_url]', `Expected a data URL 'data:image/png|jpeg|webp;base64,...'.`);
  return Buffer.from(m[2]!, 'base64');
}

const CREATE_FIELDS = ['prompt', 'model', 'seconds', 'size', 'input_reference', ...TESSERA_FIELDS];

export function parseCreate(body: RequestBody, caps: GeneratorCapabilities, limits: Limits): CreateRequest {
  const f = new Fields(body, CREATE_FIELDS);
  const prompt = readPrompt(f, limits);
  readModel(f, caps);
  const { size, width, height } = readSize(f, caps);
  const options = readTesseraOptions(f, caps);
  const { seconds, frames } = readSeconds(f, caps, options.fps, false);
  const image = readInputReference(f, limits);
  return { params: { kind: 'create', prompt, width, height, frames, ...options }, size, seconds, image };
}

/** A remix keeps the source's size, length and seed (the same noise) and changes the prompt. */
export function parseRemix(body: RequestBody, source: JobParams, limits: Limits, caps: GeneratorCapabilities): JobParams {
  const f = new Fields(body, ['prompt', ...TESSERA_FIELDS.filter((k) => k !== 'fps')]);
  const prompt = readPrompt(f, limits);
  const o = readTesseraOptions(f, caps);
  return {
    ...source,
    prompt,
    negativePrompt: o.negativePrompt ?? source.negativePrompt,
    seed: f.has('seed') ? o.seed : source.seed,
    steps: o.steps ?? source.steps,
    guidanceScale: o.guidanceScale ?? source.guidanceScale,
  };
}

/** The `video` reference of edits and extensions: `{id}` (JSON) or `video[id]` (multipart). */
export function readVideoReference(body: RequestBody): string {
  if (body.files.video) throw badRequest('video', 'Uploading a video is not supported: pass video[id] of a completed video.', 'unsupported');
  const ref = body.fields.video;
  if (ref === undefined) throw badRequest('video', `Missing required parameter: 'video[id]'.`, 'missing_required_parameter');
  const id = typeof ref === 'object' && ref !== null && !Array.isArray(ref) ? (ref as Record<string, unknown>).id : undefined;
  if (typeof id !== 'string') throw badRequest('video[id]', `Expected 'video[id]' to be the id of a completed video.`, 'invalid_type');
  return id;
}

/** An edit re-renders the source video under a new prompt (SDEdit), at its size and length. */
export function parseEdit(body: RequestBody, source: JobParams, sourceFrames: number, limits: Limits, caps: GeneratorCapabilities): JobParams {
  const f = new Fields(body, ['prompt', 'video', ...TESSERA_FIELDS.filter((k) => k !== 'fps')]);
  const prompt = readPrompt(f, limits);
  const o = readTesseraOptions(f, caps);
  return { kind: 'edit', prompt, width: source.width, height: source.height, frames: sourceFrames, ...o, fps: source.fps };
}

/** An extension continues the source video for `seconds` more; the result is the stitched whole. */
export function parseExtend(body: RequestBody, source: JobParams, limits: Limits, caps: GeneratorCapabilities): { params: JobParams; seconds: string } {
  const f = new Fields(body, ['prompt', 'video', 'seconds', ...TESSERA_FIELDS.filter((k) => k !== 'fps')]);
  const prompt = readPrompt(f, limits);
  const o = readTesseraOptions(f, caps);
  const { seconds, frames } = readSeconds(f, caps, source.fps, false);
  return { params: { kind: 'extend', prompt, width: source.width, height: source.height, frames, ...o, fps: source.fps }, seconds };
}
