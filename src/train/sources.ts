/**
 * Clip sources for training. The world source keeps one deterministic world stream per bucket, so a batch is
 * always one size and the whole position is a list of per-bucket cursors that a checkpoint stores.
 */
import { Rng } from '../engine/index.js';
import { WorldDataset, videoFolderClips, type FolderSample, type HeldOutCombo, type WorldCursor } from '../data/index.js';
import type { CaptionLevel, SceneMix, SceneSpec } from '../world/index.js';
import { TesseraError, invalidArgument } from '../errors.js';
import type { Bucket, ClipSource } from './tasks.js';

export interface WorldSourceOptions {
  buckets: Bucket[];
  seed: number;
  heldOut?: HeldOutCombo[];
  captionLevels?: Partial<Record<CaptionLevel, number>>;
  maxObjects?: number;
  mix?: SceneMix;
}

const bucketKey = (b: Bucket) => `${b.width}x${b.height}x${b.frames}`;

export class WorldClipSource implements ClipSource {
  private readonly streams = new Map<string, WorldDataset>();

  constructor(opts: WorldSourceOptions) {
    for (const [i, b] of opts.buckets.entries()) {
      const key = bucketKey(b);
      if (this.streams.has(key)) throw invalidArgument(`buckets[${i}]`, `duplicate bucket ${key}`);
      this.streams.set(key, new WorldDataset({
        buckets: [{ width: b.width, height: b.height, frames: b.frames }],
        seed: new Rng(opts.seed).fork(key).nextUint32(),
        heldOut: opts.heldOut,
        captionLevels: opts.captionLevels,
        maxObjects: opts.maxObjects,
        mix: opts.mix,
      }));
    }
  }

  async nextBatch(bucket: Bucket, size: number) {
    const stream = this.streams.get(bucketKey(bucket));
    if (!stream) throw invalidArgument('bucket', `no stream for bucket ${bucketKey(bucket)}`);
    const clips = [];
    const captions = [];
    const specs: SceneSpec[] = [];
    for (let i = 0; i < size; i++) {
      const s = stream.next();
      clips.push(s.clip);
      captions.push(s.caption);
      specs.push(s.spec);
    }
    return { clips, captions, specs };
  }

  cursor(): Record<string, WorldCursor> {
    return Object.fromEntries([...this.streams].map(([k, s]) => [k, s.cursor()]));
  }

  seek(cursor: unknown): void {
    const c = cursor as Record<string, WorldCursor>;
    for (const [k, s] of this.streams) {
      if (!c[k]) throw invalidArgument('cursor', `checkpoint has no position for bucket ${k}`);
      s.seek(c[k]);
    }
  }
}

/**
 * A user's folder of captioned videos (captions.jsonl), cut into clips per bucket and cycled through in order.
 * The position is the number of clips taken per bucket; resuming replays the folder up to it.
 */
export class FolderClipSource implements ClipSource {
  private readonly taken = new Map<string, number>();
  private readonly iterators = new Map<string, AsyncGenerator<FolderSample>>();
  /** seek() is synchronous in the ClipSource contract; the replay finishes before the next batch is drawn. */
  private pendingSeek: Promise<void> | null = null;

  constructor(private readonly dir: string, private readonly buckets: Bucket[]) {
    for (const b of buckets) this.taken.set(bucketKey(b), 0);
  }

  private async nextSample(bucket: Bucket): Promise<FolderSample> {
    const key = bucketKey(bucket);
    for (let attempt = 0; attempt < 2; attempt++) {
      let it = this.iterators.get(key);
      if (!it) {
        it = videoFolderClips({ dir: this.dir, bucket: { width: bucket.width, height: bucket.height, frames: bucket.frames } });
        this.iterators.set(key, it);
      }
      const r = await it.next();
      if (!r.done) return r.value;
      this.iterators.delete(key); // end of the folder: start over
    }
    throw new TesseraError('invalid_argument', `${this.dir}: no clip of ${key} could be cut from the folder`, { param: 'data.folder' });
  }

  async nextBatch(bucket: Bucket, size: number) {
    if (this.pendingSeek) {
      await this.pendingSeek;
      this.pendingSeek = null;
    }
    const clips = [];
    const captions = [];
    for (let i = 0; i < size; i++) {
      const s = await this.nextSample(bucket);
      clips.push(s.clip);
      captions.push(s.caption);
    }
    const key = bucketKey(bucket);
    this.taken.set(key, (this.taken.get(key) ?? 0) + size);
    return { clips, captions };
  }

  cursor(): Record<string, number> {
    return Object.fromEntries(this.taken);
  }

  /** Replays each bucket's stream up to the stored position (the folder is read again, in the same order). */
  async restore(cursor: unknown): Promise<void> {
    const c = cursor as Record<string, number>;
    this.iterators.clear();
    for (const b of this.buckets) {
      const key = bucketKey(b);
      const n = c[key] ?? 0;
      for (let i = 0; i < n; i++) await this.nextSample(b);
      this.taken.set(key, n);
    }
  }

  seek(cursor: unknown): void {
    this.pendingSeek = this.restore(cursor);
  }

}
