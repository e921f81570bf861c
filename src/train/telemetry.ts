/**
 * Training telemetry: what a run leaves behind for people to watch.
 *
 *   metrics.jsonl    one JSON object per logged step, appended and flushed as it happens (`MetricsLog`)
 *   loss.png         the loss curve: raw values faint, an EMA-smoothed line bold, axes with ticks (`writeLossCurve`)
 *   samples/*.png    rows = sample clips, columns = frames spread over time, each row labelled (`writeSampleGrid`)
 *   samples/*.gif    the same clips side by side, playing (`writeSampleAnimation`, .gif or .webp)
 *
 * Charts are drawn as SVG and rasterised by sharp; grids are assembled as raw RGB and encoded through src/media.
 * Sample grids are worth more than the loss early in a run: a falling loss with blobs for objects is common.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { TesseraError, invalidArgument } from '../errors.js';
import { writeFileAtomically } from '../atomic.js';
import type { VideoClip } from '../media/types.js';
import { writeVideo } from '../media/write.js';

// ---------------------------------------------------------------------------------------------------------------
// Metrics as JSONL

export type MetricValue = number | string | boolean | null;
export interface MetricRecord {
  step: number;
  /** Seconds since the Unix epoch when the record was written. */
  time: number;
  [name: string]: MetricValue;
}

export interface MetricsLogOptions {
  /** fsync after every record (survives a power cut, costs a disk flush per step); default false: written to the OS at once. */
  fsync?: boolean;
}

/** Appends one JSON line per log call; every line is handed to the OS before `log` returns. */
export class MetricsLog {
  readonly path: string;
  private fd: number | null;
  private readonly fsync: boolean;

  constructor(path: string, { fsync = false }: MetricsLogOptions = {}) {
    this.path = path;
    this.fsync = fsync;
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'a');
    } catch (e) {
      throw new TesseraError('io_error', `cannot open metrics log ${path}: ${(e as Error).message}`, { param: path, cause: e });
    }
  }

  log(step: number, metrics: Record<string, MetricValue>): MetricRecord {
    if (this.fd === null) throw new TesseraError('internal', `metrics log ${this.path} is closed`);
    if (!Number.isInteger(step) || step < 0) throw invalidArgument('step', `expected a non-negative integer, got ${step}`);
    // NaN and Infinity are not JSON; keep them visible as strings rather than silently as null
    const clean = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? String(v) : v]));
    const record: MetricRecord = { step, time: Date.now() / 1000, ...clean };
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    if (this.fsync) fsyncSync(this.fd);
    return record;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Reads a metrics file back; a torn last line (a crash mid-write) is skipped, any other bad line is an error. */
export function readMetrics(path: string): MetricRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TesseraError('not_found', `${path}: cannot read metrics (${(e as Error).message})`, { param: path, cause: e });
  }
  const lines = text.split('\n');
  const records: MetricRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line) as MetricRecord);
    } catch {
      if (i === lines.length - 1) return;
      throw new TesseraError('corrupt_file', `${path}:${i + 1}: not a JSON object`, { param: path });
    }
  });
  return records;
}

// ---------------------------------------------------------------------------------------------------------------
// Loss curve

export interface Series {
  name: string;
  points: { step: number; value: number }[];
}

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
  /** EMA weight of the smoothed line, 0..1 (0 = no smoothing). Default 0.9, lower for short series. */
  smoothing?: number;
  /** Log-scale y; default: when all values are positive and span more than a factor of 20. */
  logY?: boolean;
}

/** Debiased exponential moving average (as TensorBoard smooths scalars): early points are not pulled toward 0. */
export function smoothEma(values: readonly number[], weight: number): number[] {
  let avg = 0;
  let norm = 0;
  return values.map((v) => {
    avg = weight * avg + (1 - weight) * v;
    norm = weight * norm + (1 - weight);
    return avg / norm;
  });
}

/** About `count` round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf'];

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0);
  if (a >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** At most `max` points: longer series are averaged in equal buckets so the SVG stays small. */
function decimate(points: Series['points'], max: number): Series['points'] {
  if (points.length <= max) return points;
  const out: Series['points'] = [];
  const per = points.length / max;
  for (let b = 0; b < max; b++) {
    const chunk = points.slice(Math.floor(b * per), Math.floor((b + 1) * per));
    out.push({ step: chunk[chunk.length - 1]!.step, value: chunk.reduce((s, p) => s + p.value, 0) / chunk.length });
  }
  return out;
}

/** A line chart of one or more series as SVG text. */
export function lossChartSvg(series: readonly Series[], opts: ChartOptions = {}): string {
  const { width = 800, height = 450, title = 'loss' } = opts;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value));
  if (all.length === 0) throw invalidArgument('series', 'expected at least one finite point to plot');
  const values = all.map((p) => p.value);
  const minV = Math.min(...values);
  const maxV = Math.max(...values);
  const logY = opts.logY ?? (minV > 0 && maxV / minV > 20);
  if (logY && minV <= 0) throw invalidArgument('logY', 'a log scale needs every value above 0');
  const fy = logY ? Math.log10 : (v: number) => v;
  const steps = all.map((p) => p.step);
  const x0 = Math.min(...steps);
  const x1 = Math.max(x0 + 1, Math.max(...steps));
  let y0 = fy(minV);
  let y1 = fy(maxV);
  if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;

  const m = { left: 64, right: 20, top: 36, bottom: 44 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (s: number) => m.left + ((s - x0) / (x1 - x0)) * pw;
  const sy = (v: number) => m.top + (1 - (fy(v) - y0) / (y1 - y0)) * ph;
  const path = (pts: Series['points']) =>
    pts.filter((p) => Number.isFinite(p.value)).map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join('');

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  // grid and ticks
  const yTicks = logY
    ? niceTicks(Math.ceil(y0), Math.floor(y1), Math.max(1, Math.min(6, Math.floor(y1) - Math.ceil(y0)))).map((e) => 10 ** e)
    : niceTicks(y0, y1);
  for (const v of yTicks) {
    const y = sy(v);
    if (y < m.top - 0.5 || y > m.top + ph + 0.5) continue;
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatTick(v)}</text>`);
  }
  for (const s of niceTicks(x0, x1, 6)) {
    const x = sx(s);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${formatTick(s)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle">step</text>`);
  if (logY) parts.push(`<text x="14" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + ph / 2})">log scale</text>`);

  series.forEach((s, k) => {
    const colour = PALETTE[k % PALETTE.length]!;
    const pts = decimate([...s.points].sort((a, b) => a.step - b.step), 2000);
    const weight = opts.smoothing ?? (pts.length > 50 ? 0.9 : 0.6);
    const smooth = smoothEma(pts.map((p) => p.value), weight).map((value, i) => ({ step: pts[i]!.step, value }));
    parts.push(`<path d="${path(pts)}" fill="none" stroke="${colour}" stroke-opacity="0.25" stroke-width="1"/>`);
    parts.push(`<path d="${path(smooth)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    if (series.length > 1 || s.name !== title) {
      const ly = m.top + 16 + 16 * k;
      parts.push(`<line x1="${m.left + pw - 120}" x2="${m.left + pw - 100}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"/>`);
      parts.push(`<text x="${m.left + pw - 94}" y="${ly}">${escapeXml(s.name)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Series named `keys` from metrics records (records without a finite value for a key are skipped). */
export function seriesFromMetrics(records: readonly MetricRecord[], keys: readonly string[]): Series[] {
  return keys.map((name) => ({
    name,
    points: records.flatMap((r) => (typeof r[name] === 'number' && Number.isFinite(r[name]) ? [{ step: r.step, value: r[name] as number }] : [])),
  }));
}

/** Rasterises the chart of `series` to a PNG file (atomically). */
export async function writeLossCurve(path: string, series: readonly Series[], opts: ChartOptions = {}): Promise<void> {
  const png = await sharp(Buffer.from(lossChartSvg(series, opts))).png().toBuffer();
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomically(path, png);
}

// ---------------------------------------------------------------------------------------------------------------
// Sample grids

export interface LabelledClip {
  clip: VideoClip;
  label: string;
}

export interface GridOptions {
  /** Frames shown per row in the PNG grid, spread evenly over each clip; default 8 (fewer if clips are shorter). */
  columns?: number;
  /** Integer upscaling of each frame (nearest neighbour); default makes cells about 96 pixels tall. */
  scale?: number;
}

const LABEL_WIDTH = 180;
const LABEL_HEIGHT = 18;
const GAP = 2;
const BACKGROUND = 24;

interface TextItem {
  x: number;
  y: number;
  text: string;
  anchor?: 'start' | 'middle';
}

/** Text drawn on a dark strip, as raw RGB (sharp renders the SVG). */
async function renderText(width: number, height: number, items: readonly TextItem[], fontSize = 12): Promise<Uint8Array> {
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}">`,
    `<rect width="${width}" height="${height}" fill="rgb(${BACKGROUND},${BACKGROUND},${BACKGROUND})"/>`,
    ...items.map((t) => `<text x="${t.x}" y="${t.y}" fill="#eeeeee" text-anchor="${t.anchor ?? 'start'}">${escapeXml(t.text)}</text>`),
    '</svg>',
  ].join('');
  const { data } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Copies a w x h RGB image into a canvas of width canvasW at (x, y). */
function blit(canvas: Uint8Array, canvasW: number, src: Uint8Array, w: number, h: number, x: number, y: number): void {
  for (let r = 0; r < h; r++) canvas.set(src.subarray(r * w * 3, (r + 1) * w * 3), ((y + r) * canvasW + x) * 3);
}

/** Frame f of a clip scaled to cellW x cellH by nearest neighbour (clips of other sizes fit the same cell). */
function scaledFrame(clip: VideoClip, f: number, cellW: number, cellH: number): Uint8Array {
  const out = new Uint8Array(cellW * cellH * 3);
  const base = f * clip.width * clip.height * 3;
  for (let y = 0; y < cellH; y++) {
    const sy = Math.min(clip.height - 1, Math.floor((y * clip.height) / cellH));
    for (let x = 0; x < cellW; x++) {
      const sx = Math.min(clip.width - 1, Math.floor((x * clip.width) / cellW));
      const s = base + (sy * clip.width + sx) * 3;
      const d = (y * cellW + x) * 3;
      out[d] = clip.data[s]!;
      out[d + 1] = clip.data[s + 1]!;
      out[d + 2] = clip.data[s + 2]!;
    }
  }
  return out;
}

function cellSize(samples: readonly LabelledClip[], scale?: number): { cellW: number; cellH: number } {
  if (samples.length === 0) throw invalidArgument('samples', 'expected at least one clip');
  const h = Math.max(...samples.map((s) => s.clip.height));
  const w = Math.max(...samples.map((s) => s.clip.width));
  const k = scale ?? Math.max(1, Math.min(8, Math.round(96 / h)));
  if (!Number.isInteger(k) || k < 1) throw invalidArgument('scale', `expected a positive integer, got ${scale}`);
  return { cellW: w * k, cellH: h * k };
}

/** The frame index shown in column c of n for a clip of `frames` frames: first and last always included. */
function sampledFrame(c: number, n: number, frames: number): number {
  return n === 1 ? 0 : Math.round((c * (frames - 1)) / (n - 1));
}

/**
 * A PNG of clips over time: one row per clip (its label on the left), `columns` frames spread from its first to
 * its last frame. Returns the image size.
 */
export async function writeSampleGrid(path: string, samples: readonly LabelledClip[], opts: GridOptions = {}): Promise<{ width: number; height: number }> {
  const { cellW, cellH } = cellSize(samples, opts.scale);
  const columns = opts.columns ?? Math.min(8, Math.max(...samples.map((s) => s.clip.frames)));
  if (!Number.isInteger(columns) || columns < 1) throw invalidArgument('columns', `expected a positive integer, got ${columns}`);
  const width = LABEL_WIDTH + columns * (cellW + GAP) + GAP;
  const height = samples.length * (cellH + GAP) + GAP;
  const canvas = new Uint8Array(width * height * 3).fill(BACKGROUND);
  const lineHeight = 14;
  const maxLines = Math.max(1, Math.floor(cellH / lineHeight));
  const labels = await renderText(LABEL_WIDTH, height, samples.flatMap((s, r) => {
    const lines = wrap(s.label, 26, maxLines);
    const top = GAP + r * (cellH + GAP) + (cellH - lines.length * lineHeight) / 2 + 11;
    return lines.map((text, i) => ({ x: 6, y: top + i * lineHeight, text }));
  }));
  blit(canvas, width, labels, LABEL_WIDTH, height, 0, 0);
  samples.forEach(({ clip }, r) => {
    for (let c = 0; c < columns; c++) {
      const frame = scaledFrame(clip, sampledFrame(c, columns, clip.frames), cellW, cellH);
      blit(canvas, width, frame, cellW, cellH, LABEL_WIDTH + GAP + c * (cellW + GAP), GAP + r * (cellH + GAP));
    }
  });
  const png = await sharp(Buffer.from(canvas.buffer, canvas.byteOffset, canvas.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer();
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomically(path, png);
  return { width, height };
}

/**
 * The clips side by side, playing, each under its label; written as GIF or WebP by the extension of `path`.
 * Shorter clips hold their last frame; the frame rate is the first clip's.
 */
export async function writeSampleAnimation(path: string, samples: readonly LabelledClip[], opts: Pick<GridOptions, 'scale'> = {}): Promise<{ width: number; height: number; frames: number }> {
  if (!/\.(gif|webp)$/i.test(path)) throw invalidArgument('path', `expected a .gif or .webp file, got ${path}`);
  const { cellW, cellH } = cellSize(samples, opts.scale);
  // 4:2:0 encoders and GIF palettes are happiest with even sizes
  const width = (samples.length * (cellW + GAP) + GAP + 1) & ~1;
  const height = (LABEL_HEIGHT + cellH + 2 * GAP + 1) & ~1;
  const frames = Math.max(...samples.map((s) => s.clip.frames));
  const header = await renderText(width, LABEL_HEIGHT, samples.map((s, i) => ({
    x: GAP + i * (cellW + GAP) + cellW / 2, y: 13, text: truncate(s.label, Math.max(4, Math.floor(cellW / 7))), anchor: 'middle' as const,
  })), 11);
  const data = new Uint8Array(frames * width * height * 3).fill(BACKGROUND);
  for (let f = 0; f < frames; f++) {
    const frame = data.subarray(f * width * height * 3, (f + 1) * width * height * 3);
    blit(frame, width, header, width, LABEL_HEIGHT, 0, 0);
    samples.forEach(({ clip }, i) => {
      const cell = scaledFrame(clip, Math.min(f, clip.frames - 1), cellW, cellH);
      blit(frame, width, cell, cellW, cellH, GAP + i * (cellW + GAP), LABEL_HEIGHT + GAP);
    });
  }
  await mkdir(dirname(path), { recursive: true });
  await writeVideo(path, { frames, width, height, fps: samples[0]!.clip.fps, data });
  return { width, height, frames };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Words packed into lines of at most `width` characters; the last allowed line is truncated. */
function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines.map((l) => truncate(l, width));
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = truncate(`${kept[maxLines - 1]} ${lines[maxLines]}`, width);
  return kept.map((l) => truncate(l, width));
}

// ---------------------------------------------------------------------------------------------------------------
// One object for a training run

export interface TelemetryOptions {
  /** Metric names drawn on the loss chart; default ['loss']. */
  chartKeys?: string[];
  title?: string;
}

/**
 * A run's telemetry folder: `metrics.jsonl`, `loss.png`, `samples/step-NNNNNN.{png,gif}`. Training calls
 * `log` every step it wants recorded, `writeChart` and `writeSamples` every N steps.
 */
export class Telemetry {
  readonly dir: string;
  readonly metrics: MetricsLog;
  private readonly records: MetricRecord[] = [];
  private readonly chartKeys: string[];
  private readonly title: string;

  constructor(dir: string, opts: TelemetryOptions = {}) {
    this.dir = dir;
    this.metrics = new MetricsLog(join(dir, 'metrics.jsonl'));
    this.chartKeys = opts.chartKeys ?? ['loss'];
    this.title = opts.title ?? 'training loss';
  }

  log(step: number, metrics: Record<string, MetricValue>): void {
    this.records.push(this.metrics.log(step, metrics));
  }

  /** Redraws loss.png from everything logged by this process (nothing is drawn before the first value). */
  async writeChart(): Promise<string | null> {
    const series = seriesFromMetrics(this.records, this.chartKeys).filter((s) => s.points.length > 0);
    if (series.length === 0) return null;
    const path = join(this.dir, 'loss.png');
    await writeLossCurve(path, series, { title: this.title });
    return path;
  }

  /** Writes samples/step-NNNNNN.png (frames over time) and .gif (playing); returns both paths. */
  async writeSamples(step: number, samples: readonly LabelledClip[]): Promise<{ grid: string; animation: string }> {
    const base = join(this.dir, 'samples', `step-${String(step).padStart(6, '0')}`);
    await writeSampleGrid(`${base}.png`, samples);
    await writeSampleAnimation(`${base}.gif`, samples);
    return { grid: `${base}.png`, animation: `${base}.gif` };
  }

  close(): void {
    this.metrics.close();
  }
}
