/**
 * Clip sources for training. The world source keeps one deterministic world stream per bucket, so a batch is
 * always one size and the whole position is a list of per-bucket cursors that a checkpoint stores.
 */
import { Rng, type RngState } from '../engine/index.js';
import { WorldDataset, readCaptions, videoFolderClips, type FolderPlace, type FolderSample, type HeldOutCombo, type WorldCursor } from '../data/index.js';
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

export interface FolderSourceOptions {
  /** Seeds the order of videos in each epoch and the draws from the shuffle buffer. */
  seed: number;
  /**
   * Clips held at once, of which each sample is drawn at random (1: the folder's order, as captions.jsonl lists
   * it). Above 1 the videos are also visited in a new random order every epoch.
   */
  shuffleBuffer: number;
}

/** One bucket's place in the folder: the epoch, its clip iterator and the clips held for shuffling. */
interface FolderStream {
  epoch: number;
  clips: AsyncGenerator<FolderSample> | null;
  /** Where the iterator goes on from: the next video of the epoch's order and the clips of it already read. */
  next: FolderPlace;
  /** Clips this epoch has yielded so far (an epoch that yields none means the folder has no clip of this size). */
  yielded: number;
  buffer: FolderSample[];
  draws: Rng;
}

/** What a checkpoint keeps of one bucket's stream: enough to rebuild it without reading the clips already taken. */
interface FolderBucketCursor {
  taken: number;
  epoch: number;
  next: FolderPlace;
  yielded: number;
  /** The clips held for shuffling, by their place in the epoch: read again on resume. */
  buffer: FolderPlace[];
  draws: RngState;
}

/**
 * A user's folder of captioned videos (captions.jsonl), cut into clips per bucket. Clips from one video are
 * consecutive, so a batch taken in the folder's order would often be one video; by default every epoch visits the
 * videos in a new order and each sample is drawn at random from a buffer of clips (the tf.data scheme), which
 * drains before the next epoch begins: every clip is seen once an epoch. The position is, per bucket, the epoch,
 * where its iterator stands and the places of the clips held; resuming reads only those clips again. (A cursor
 * from before, a bare count of clips taken, is replayed from the start.)
 */
export class FolderClipSource implements ClipSource {
  private readonly taken = new Map<string, number>();
  private readonly streams = new Map<string, FolderStream>();
  /** seek() is synchronous in the ClipSource contract; the restore finishes before the next batch is drawn. */
  private pendingSeek: Promise<void> | null = null;

  constructor(private readonly dir: string, private readonly buckets: Bucket[], private readonly opts: FolderSourceOptions = { seed: 0, shuffleBuffer: 1 }) {
    if (!(Number.isInteger(opts.shuffleBuffer) && opts.shuffleBuffer >= 1)) {
      throw invalidArgument('shuffleBuffer', `expected a positive integer, got ${opts.shuffleBuffer}`);
    }
    for (const b of buckets) this.taken.set(bucketKey(b), 0);
  }

  private stream(key: string): FolderStream {
    let s = this.streams.get(key);
    if (!s) {
      s = { epoch: 0, clips: null, next: { video: 0, clip: 0 }, yielded: 0, buffer: [], draws: new Rng(this.opts.seed).fork(`folder/${key}`) };
      this.streams.set(key, s);
    }
    return s;
  }

  /** The videos of an epoch: the file's order without shuffling, else a permutation seeded by the epoch. */
  private videoOrder(key: string, epoch: number): number[] {
    const order = readCaptions(this.dir).map((_, i) => i);
    if (this.opts.shuffleBuffer === 1) return order;
    const rng = new Rng(this.opts.seed).fork(`folder/${key}/epoch-${epoch}`);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  }

  private clipsOf(bucket: Bucket, epoch: number, from?: FolderPlace, videos?: number): AsyncGenerator<FolderSample> {
    const key = bucketKey(bucket);
    const order = this.videoOrder(key, epoch).slice(0, videos);
    return videoFolderClips({ dir: this.dir, bucket: { width: bucket.width, height: bucket.height, frames: bucket.frames }, order, from });
  }

  private async nextSample(bucket: Bucket): Promise<FolderSample> {
    const key = bucketKey(bucket);
    const s = this.stream(key);
    for (;;) {
      s.clips ??= this.clipsOf(bucket, s.epoch, s.next);
      while (s.buffer.length < this.opts.shuffleBuffer) {
        const r = await s.clips.next();
        if (r.done) break;
        s.buffer.push(r.value);
        s.next = { video: r.value.place.video, clip: r.value.place.clip + 1 };
        s.yielded++;
      }
      if (s.buffer.length > 0) {
        const j = this.opts.shuffleBuffer === 1 ? 0 : s.draws.int(s.buffer.length);
        const [sample] = s.buffer.splice(j, 1);
        return sample!;
      }
      // the epoch is drained: the next one starts over the folder
      if (s.yielded === 0) {
        throw new TesseraError('invalid_argument', `${this.dir}: no clip of ${key} could be cut from the folder`, { param: 'data.folder' });
      }
      Object.assign(s, { clips: null, epoch: s.epoch + 1, next: { video: 0, clip: 0 }, yielded: 0 });
    }
  }

  async nextBatch(bucket: Bucket, size: number) {
    if (this.pendingSeek) {
      await this.pendingSeek;
      this.pendingSeek = null;
    }
    const clips = [];
    const captions = [];
    const keys = [];
    const key = bucketKey(bucket);
    for (let i = 0; i < size; i++) {
      const s = await this.nextSample(bucket);
      clips.push(s.clip);
      captions.push(s.caption);
      keys.push(`${key}:${s.file}@${s.start}`);
    }
    this.taken.set(key, (this.taken.get(key) ?? 0) + size);
    return { clips, captions, keys };
  }

  cursor(): Record<string, FolderBucketCursor> {
    return Object.fromEntries(this.buckets.map((b) => {
      const key = bucketKey(b);
      const s = this.stream(key);
      const c: FolderBucketCursor = {
        taken: this.taken.get(key) ?? 0, epoch: s.epoch, next: s.next, yielded: s.yielded, buffer: s.buffer.map((x) => x.place), draws: s.draws.state(),
      };
      return [key, c];
    }));
  }

  /** Rebuilds each bucket's stream from its cursor: the held clips are read again, the iterator goes on from its place. */
  async restore(cursor: unknown): Promise<void> {
    const c = cursor as Record<string, FolderBucketCursor | number>;
    this.streams.clear();
    for (const b of this.buckets) {
      const key = bucketKey(b);
      const saved = c[key] ?? 0;
      if (typeof saved === 'number') {
        // a cursor from before places were kept: replay the clips taken
        for (let i = 0; i < saved; i++) await this.nextSample(b);
        this.taken.set(key, saved);
        continue;
      }
      // each video with a held clip is read once (and only those videos)
      const held = new Map<string, FolderSample>();
      const wanted = new Set(saved.buffer.map((p) => `${p.video}/${p.clip}`));
      for (const video of new Set(saved.buffer.map((p) => p.video))) {
        for await (const sample of this.clipsOf(b, saved.epoch, { video, clip: 0 }, video + 1)) {
          const id = `${sample.place.video}/${sample.place.clip}`;
          if (wanted.has(id)) held.set(id, sample);
        }
      }
      const buffer = saved.buffer.map((p) => {
        const sample = held.get(`${p.video}/${p.clip}`);
        if (!sample) throw new TesseraError('corrupt_file', `${this.dir}: the checkpoint holds clip ${p.clip} of video ${p.video} of epoch ${saved.epoch}, which the folder no longer has`, { param: 'data.folder' });
        return sample;
      });
      this.streams.set(key, { epoch: saved.epoch, clips: null, next: saved.next, yielded: saved.yielded, buffer, draws: Rng.fromState(saved.draws) });
      this.taken.set(key, saved.taken);
    }
  }

  seek(cursor: unknown): void {
    this.pendingSeek = this.restore(cursor);
  }
}
