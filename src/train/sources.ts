/**
 * Clip sources for training. The world source keeps one deterministic world stream per bucket, so a batch is
 * always one size and the whole position is a list of per-bucket cursors that a checkpoint stores.
 */
import { Rng } from '../engine/index.js';
import { WorldDataset, type HeldOutCombo, type WorldCursor } from '../data/index.js';
import type { CaptionLevel } from '../world/index.js';
import { invalidArgument } from '../errors.js';
import type { Bucket, ClipSource } from './tasks.js';

export interface WorldSourceOptions {
  buckets: Bucket[];
  seed: number;
  heldOut?: HeldOutCombo[];
  captionLevels?: Partial<Record<CaptionLevel, number>>;
  maxObjects?: number;
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
      }));
    }
  }

  async nextBatch(bucket: Bucket, size: number) {
    const stream = this.streams.get(bucketKey(bucket));
    if (!stream) throw invalidArgument('bucket', `no stream for bucket ${bucketKey(bucket)}`);
    const clips = [];
    const captions = [];
    for (let i = 0; i < size; i++) {
      const s = stream.next();
      clips.push(s.clip);
      captions.push(s.caption);
    }
    return { clips, captions };
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
