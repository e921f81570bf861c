/**
 * What the Videos API does, apart from HTTP: create jobs, read and list them, cancel and delete them, and keep
 * the store in step with what workers report. The store is written first and the queue second, so a crash
 * between the two leaves a queued row that recovery re-enqueues, never a job the store does not know.
 */
import { copyFile } from 'node:fs/promises';
import { OutputFiles, VARIANTS, isVideoId, newVideoId, type Variant } from './files.js';
import { badRequest, conflict, notFound, rateLimited } from './http-errors.js';
import { decodeImage } from '../media/index.js';
import { parseCreate, parseEdit, parseExtend, parseRemix, readVideoReference, type Limits, type RequestBody } from './params.js';
import type { JobError, JobEvents, JobQueue } from './queue.js';
import type { RenderResult } from './render.js';
import type { JobStore } from './store.js';
import type { GeneratorCapabilities, JobParams, JobRecord, VideoObject } from './types.js';

export interface ServiceOptions {
  store: JobStore;
  files: OutputFiles;
  queue: JobQueue;
  capabilities: GeneratorCapabilities;
  limits: Limits;
  /** Seconds a finished video's files are kept; 0 keeps them forever. */
  ttlSeconds: number;
  /** Jobs waiting or rendering at once before creation answers 429. */
  maxOpenJobs: number;
  now?: () => number;
}

export function toVideoObject(r: JobRecord): VideoObject {
  return {
    id: r.id,
    object: 'video',
    model: r.model,
    status: r.status,
    progress: r.progress,
    created_at: r.createdAt,
    completed_at: r.completedAt,
    expires_at: r.expiresAt,
    prompt: r.params.prompt,
    seconds: r.seconds,
    size: r.size,
    remixed_from_video_id: r.remixedFromVideoId,
    error: r.error,
  };
}

export class VideoService implements JobEvents {
  private readonly store: JobStore;
  private readonly files: OutputFiles;
  private readonly queue: JobQueue;
  readonly capabilities: GeneratorCapabilities;
  readonly limits: Limits;
  private readonly nowMs: () => number;

  constructor(private readonly opts: ServiceOptions) {
    this.store = opts.store;
    this.files = opts.files;
    this.queue = opts.queue;
    this.capabilities = opts.capabilities;
    this.limits = opts.limits;
    this.nowMs = opts.now ?? Date.now;
  }

  private now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  // ---- API -----------------------------------------------------------------------------------------------

  async create(body: RequestBody, owner: string | null): Promise<JobRecord> {
    const req = parseCreate(body, this.capabilities, this.limits);
    const id = newVideoId();
    if (req.image) {
      // Decoding to a few pixels proves the whole file is readable now, rather than failing the job later.
      await decodeImage(req.image.bytes, { width: 8, height: 8 }, 'input_reference').catch(() => {
        throw badRequest('input_reference', 'The image is damaged and cannot be decoded.', 'invalid_image');
      });
      const name = `input.${req.image.type}`;
      await this.files.writeFile(id, name, req.image.bytes);
      req.params.inputReference = name;
    }
    return this.submit(id, req.params, { seconds: req.seconds, size: req.size, remixedFrom: null, owner });
  }

  get(id: string, owner: string | null, param = 'video_id'): JobRecord {
    if (!isVideoId(id)) throw badRequest(param, `Invalid video id '${id.slice(0, 80)}': expected 'video_' followed by 32 hex digits.`, 'invalid_id');
    const rec = this.store.get(id);
    if (!rec || (owner !== null && rec.owner !== owner)) throw notFound(`No video found with id '${id}'.`, param);
    return rec;
  }

  list(q: { after?: string; limit: number; order: 'asc' | 'desc' }, owner: string | null) {
    if (q.after !== undefined && !isVideoId(q.after)) throw badRequest('after', `Invalid cursor '${q.after.slice(0, 80)}': expected a video id.`, 'invalid_id');
    const page = this.store.list({ ...q, owner });
    if (!page) throw notFound(`No video found with id '${q.after}' (the 'after' cursor).`, 'after');
    const data = page.data.map(toVideoObject);
    return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  }

  /** Deletes a video in any state; a queued or rendering one is cancelled first. */
  async delete(id: string, owner: string | null): Promise<{ id: string; object: 'video.deleted'; deleted: true }> {
    const rec = this.get(id, owner);
    this.store.delete(id);
    if (rec.status === 'queued' || rec.status === 'in_progress') await this.queue.cancel(id);
    await this.files.remove(id);
    return { id, object: 'video.deleted', deleted: true };
  }

  /** The file of a finished video's variant; 409 while it is still rendering. */
  contentPath(id: string, variant: string | undefined, owner: string | null): { path: string; type: string } {
    const v = (variant ?? 'video') as Variant;
    if (!Object.prototype.hasOwnProperty.call(VARIANTS, v)) {
      throw badRequest('variant', `Invalid variant '${String(variant).slice(0, 40)}'. Expected one of: ${Object.keys(VARIANTS).join(', ')}.`);
    }
    const rec = this.get(id, owner);
    if (rec.status === 'failed') throw conflict(`Video '${id}' failed; it has no content.`, 'video_failed');
    if (rec.status !== 'completed') throw conflict(`Video '${id}' is not ready yet (status ${rec.status}, ${rec.progress}%).`);
    return { path: this.files.path(id, VARIANTS[v].file), type: VARIANTS[v].type };
  }

  async remix(sourceId: string, body: RequestBody, owner: string | null): Promise<JobRecord> {
    const source = this.completedSource(sourceId, owner, 'video_id');
    const params = parseRemix(body, source.params, this.limits, this.capabilities);
    const id = newVideoId();
    if (params.inputReference !== undefined) {
      await this.files.ensureDir(id);
      await copyFile(this.files.path(sourceId, params.inputReference), this.files.path(id, params.inputReference));
    }
    return this.submit(id, params, { seconds: source.seconds, size: source.size, remixedFrom: sourceId, owner });
  }

  async edit(body: RequestBody, owner: string | null): Promise<JobRecord> {
    const source = this.completedSource(readVideoReference(body), owner, 'video[id]');
    const frames = Math.round(Number(source.seconds) * source.params.fps);
    const params = { ...parseEdit(body, source.params, frames, this.limits, this.capabilities), sourceVideoId: source.id };
    return this.submit(newVideoId(), params, { seconds: source.seconds, size: source.size, remixedFrom: null, owner });
  }

  async extend(body: RequestBody, owner: string | null): Promise<JobRecord> {
    const source = this.completedSource(readVideoReference(body), owner, 'video[id]');
    const { params, seconds } = parseExtend(body, source.params, this.limits, this.capabilities);
    const total = String(Math.round((Number(source.seconds) + Number(seconds)) * 100) / 100);
    return this.submit(newVideoId(), { ...params, sourceVideoId: source.id }, { seconds: total, size: source.size, remixedFrom: null, owner });
  }

  health() {
    return { status: 'ok', model: this.capabilities.model, open_jobs: this.store.countOpen() };
  }

  // ---- lifecycle -----------------------------------------------------------------------------------------

  /** After a restart: jobs that were rendering go back to the queue, and every queued job is enqueued again. */
  async recover(): Promise<{ requeued: number; enqueued: number }> {
    const requeued = this.store.requeueInterrupted();
    const queued = this.store.withStatus('queued');
    for (const rec of queued) await this.queue.enqueue(rec.id, rec.params);
    return { requeued, enqueued: queued.length };
  }

  /** Deletes videos whose files expired. Returns their ids. */
  async sweepExpired(): Promise<string[]> {
    const ids = this.store.expiredIds(this.now());
    for (const id of ids) {
      this.store.delete(id);
      await this.files.remove(id);
    }
    return ids;
  }

  // ---- worker events (JobEvents) -------------------------------------------------------------------------

  started(id: string): boolean {
    return this.store.markStarted(id, this.now()) || this.store.get(id)?.status === 'in_progress';
  }

  progress(id: string, percent: number): void {
    this.store.setProgress(id, percent);
  }

  completed(id: string, result: RenderResult): void {
    const now = this.now();
    const expiresAt = this.opts.ttlSeconds > 0 ? now + this.opts.ttlSeconds : null;
    // A job deleted while it rendered has no row left: its files are removed instead.
    if (!this.store.markCompleted(id, now, expiresAt, result.seconds) && !this.store.get(id)) void this.files.remove(id).catch(() => undefined);
  }

  failed(id: string, error: JobError): void {
    if (!this.store.markFailed(id, this.now(), error) && !this.store.get(id)) void this.files.remove(id).catch(() => undefined);
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  private completedSource(id: string, owner: string | null, param: string): JobRecord {
    const rec = this.get(id, owner, param);
    if (rec.status !== 'completed') {
      throw conflict(`Video '${id}' must be completed before it can be remixed, edited or extended (status ${rec.status}).`, 'video_not_ready');
    }
    return rec;
  }

  private async submit(
    id: string,
    params: JobParams,
    meta: { seconds: string; size: string; remixedFrom: string | null; owner: string | null },
  ): Promise<JobRecord> {
    if (this.store.countOpen() >= this.opts.maxOpenJobs) {
      await this.files.remove(id);
      throw rateLimited(`Too many videos are waiting (${this.opts.maxOpenJobs}); try again when some have finished.`, 5);
    }
    const rec = this.store.insert({
      id,
      model: this.capabilities.model,
      createdAt: this.now(),
      seconds: meta.seconds,
      size: meta.size,
      remixedFromVideoId: meta.remixedFrom,
      owner: meta.owner,
      params,
    });
    await this.queue.enqueue(id, params);
    return rec;
  }
}
