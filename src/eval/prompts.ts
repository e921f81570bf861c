/**
 * Evaluation prompts: one JSON object per line of eval/prompts.jsonl,
 *
 *   {"id": "p007", "prompt": "...", "spec": {...SceneSpec}, "level": "short" | "dense", "objects": 1..3,
 *    "held_out": false, "tags": ["motion:bounce", ...]}
 *
 * `spec` is the scene the prompt denotes (with the world's defaults for what it leaves unsaid); the judge grades
 * generated clips against it and the renderer draws the reference clips the Frechet distance compares with.
 */
import { readFile } from 'node:fs/promises';
import { TesseraError, isTesseraError } from '../errors.js';
import { validateSpec, type SceneSpec } from '../world/spec.js';
import { hasHeldOutCombination } from './held-out.js';

export type PromptLevel = 'short' | 'dense';

export interface EvalPrompt {
  id: string;
  prompt: string;
  spec: SceneSpec;
  level: PromptLevel;
  objects: number;
  held_out: boolean;
  tags: string[];
}

/** Checks one parsed line; `where` (file:line) starts every message. */
export function validateEvalPrompt(v: unknown, where: string): EvalPrompt {
  const fail = (msg: string) => new TesseraError('corrupt_file', `${where}: ${msg}`, { param: where });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('expected a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string' || o.id === '') throw fail('"id" must be a non-empty string');
  if (typeof o.prompt !== 'string' || o.prompt.trim() === '') throw fail('"prompt" must be a non-empty string');
  if (o.level !== 'short' && o.level !== 'dense') throw fail(`"level" must be "short" or "dense", got ${JSON.stringify(o.level)}`);
  let spec: SceneSpec;
  try {
    spec = validateSpec(o.spec);
  } catch (e) {
    throw fail(`"spec" is not a valid scene: ${isTesseraError(e) ? e.message : String(e)}`);
  }
  if (o.objects !== spec.objects.length) throw fail(`"objects" is ${JSON.stringify(o.objects)} but the spec has ${spec.objects.length}`);
  if (typeof o.held_out !== 'boolean') throw fail('"held_out" must be true or false');
  if (o.held_out !== hasHeldOutCombination(spec)) {
    throw fail(`"held_out" is ${o.held_out} but the spec ${o.held_out ? 'has no' : 'has a'} held-out colour x shape x motion triple`);
  }
  if (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string')) throw fail('"tags" must be an array of strings');
  return { id: o.id, prompt: o.prompt, spec, level: o.level, objects: spec.objects.length, held_out: o.held_out, tags: o.tags as string[] };
}

/** Parses JSONL text of eval prompts; ids must be unique. */
export function parsePromptFile(text: string, source = 'prompts'): EvalPrompt[] {
  const prompts: EvalPrompt[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new TesseraError('corrupt_file', `${where}: not valid JSON (${(e as Error).message})`, { param: where });
    }
    const p = validateEvalPrompt(json, where);
    if (ids.has(p.id)) throw new TesseraError('corrupt_file', `${where}: duplicate id "${p.id}"`, { param: where });
    ids.add(p.id);
    prompts.push(p);
  });
  if (prompts.length === 0) throw new TesseraError('corrupt_file', `${source}: no prompts`, { param: source });
  return prompts;
}

export async function readPromptFile(path: string): Promise<EvalPrompt[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TesseraError(code === 'ENOENT' ? 'not_found' : 'io_error', `${path}: ${code === 'ENOENT' ? 'no such prompt file' : (e as Error).message}`, { param: path, cause: e });
  }
  return parsePromptFile(text, path);
}
