/**
 * The durable job store: one SQLite table (better-sqlite3, WAL) holding every video and the parameters it was
 * asked with. It is the source of truth; the queue only carries ids, so a restart rebuilds the queue from here.
 */
import Database from 'better-sqlite3';
import type { JobParams, JobRecord, VideoStatus } from './types.js';

interface Row {
  seq: number;
  id: string;
  model: string;
  status: VideoStatus;
  progress: number;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  expires_at: number | null;
  seconds: string;
  size: string;
  remixed_from: string | null;
  error_code: string | null;
  error_message: string | null;
  owner: string | null;
  params: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS videos (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,
  model         TEXT NOT NULL,
  status        TEXT NOT NULL,
  progress      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  started_at    INTEGER,
  completed_at  INTEGER,
  expires_at    INTEGER,
  seconds       TEXT NOT NULL,
  size          TEXT NOT NULL,
  remixed_from  TEXT,
  error_code    TEXT,
  error_message TEXT,
  owner         TEXT,
  params        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_status ON videos(status);
CREATE INDEX IF NOT EXISTS videos_expires ON videos(expires_at);
`;

export interface ListQuery {
  owner: string | null;
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

function fromRow(r: Row): JobRecord {
  return {
    id: r.id,
    model: r.model,
    status: r.status,
    progress: r.progress,
    createdAt: r.created_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    expiresAt: r.expires_at,
    seconds: r.seconds,
    size: r.size,
    remixedFromVideoId: r.remixed_from,
    error: r.error_code !== null ? { code: r.error_code, message: r.error_message ?? '' } : null,
    owner: r.owner,
    params: JSON.parse(r.params) as JobParams,
  };
}

export class JobStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a killed process (what `kill -9` tests); only a power cut can lose the
    // last commits. FULL would fsync on every progress update, on the event loop.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmts = {
      insert: db.prepare(`INSERT INTO videos (id, model, status, progress, created_at, seconds, size, remixed_from, owner, params)
        VALUES (@id, @model, 'queued', 0, @created_at, @seconds, @size, @remixed_from, @owner, @params)`),
      get: db.prepare<[string], Row>('SELECT * FROM videos WHERE id = ?'),
      seqOf: db.prepare<[string], { seq: number }>('SELECT seq FROM videos WHERE id = ?'),
      started: db.prepare(`UPDATE videos SET status = 'in_progress', started_at = ?, progress = 0 WHERE id = ? AND status = 'queued'`),
      progress: db.prepare(`UPDATE videos SET progress = ? WHERE id = ? AND status = 'in_progress' AND progress < ?`),
      completed: db.prepare(`UPDATE videos SET status = 'completed', progress = 100, completed_at = ?, expires_at = ?, seconds = ?
        WHERE id = ? AND status IN ('queued', 'in_progress')`),
      failed: db.prepare(`UPDATE videos SET status = 'failed', completed_at = ?, error_code = ?, error_message = ?
        WHERE id = ? AND status IN ('queued', 'in_progress')`),
      remove: db.prepare('DELETE FROM videos WHERE id = ?'),
      requeue: db.prepare(`UPDATE videos SET status = 'queued', progress = 0, started_at = NULL WHERE status = 'in_progress'`),
      byStatus: db.prepare<[string], Row>('SELECT * FROM videos WHERE status = ? ORDER BY seq'),
      expired: db.prepare<[number], { id: string }>('SELECT id FROM videos WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      countOpen: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM videos WHERE status IN ('queued', 'in_progress')`),
    };
  }

  insert(rec: Pick<JobRecord, 'id' | 'model' | 'createdAt' | 'seconds' | 'size' | 'remixedFromVideoId' | 'owner' | 'params'>): JobRecord {
    this.stmts.insert.run({
      id: rec.id,
      model: rec.model,
      created_at: rec.createdAt,
      seconds: rec.seconds,
      size: rec.size,
      remixed_from: rec.remixedFromVideoId,
      owner: rec.owner,
      params: JSON.stringify(rec.params),
    });
    return this.get(rec.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.stmts.get.get(id);
    return row ? fromRow(row) : undefined;
  }

  /** One page in creation order, `after` being the id of the last video of the previous page. */
  list(q: ListQuery): { data: JobRecord[]; hasMore: boolean } | undefined {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.owner !== null) {
      where.push('owner = ?');
      args.push(q.owner);
    }
    if (q.after !== undefined) {
      const cursor = this.stmts.seqOf.get(q.after);
      if (!cursor) return undefined;
      where.push(q.order === 'asc' ? 'seq > ?' : 'seq < ?');
      args.push(cursor.seq);
    }
    const sql = `SELECT * FROM videos ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY seq ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...args, q.limit + 1);
    return { data: rows.slice(0, q.limit).map(fromRow), hasMore: rows.length > q.limit };
  }

  /** Returns false when the job is gone or no longer queued (deleted meanwhile). */
  markStarted(id: string, now: number): boolean {
    return this.stmts.started.run(now, id).changes > 0;
  }

  /** Progress only moves forward, so late or reordered reports cannot pull a bar back. */
  setProgress(id: string, percent: number): void {
    const p = Math.max(0, Math.min(99, Math.floor(percent)));
    this.stmts.progress.run(p, id, p);
  }

  markCompleted(id: string, now: number, expiresAt: number | null, seconds: string): boolean {
    return this.stmts.completed.run(now, expiresAt, seconds, id).changes > 0;
  }

  markFailed(id: string, now: number, error: { code: string; message: string }): boolean {
    return this.stmts.failed.run(now, error.code, error.message, id).changes > 0;
  }

  delete(id: string): boolean {
    return this.stmts.remove.run(id).changes > 0;
  }

  /** After a crash: jobs that were rendering go back to the queue. Returns how many. */
  requeueInterrupted(): number {
    return this.stmts.requeue.run().changes;
  }

  withStatus(status: VideoStatus): JobRecord[] {
    return this.stmts.byStatus.all(status).map(fromRow);
  }

  expiredIds(now: number): string[] {
    return this.stmts.expired.all(now).map((r) => r.id);
  }

  countOpen(): number {
    return this.stmts.countOpen.get()!.n;
  }

  close(): void {
    this.db.close();
  }
}
