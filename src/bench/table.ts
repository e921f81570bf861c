/**
 * The benchmark report for people: one group of aligned columns per suite, then the targets and whether each is
 * met. Suites that were not run are left out.
 */
import type { BenchReport, BenchTarget } from './index.js';
import { ditParameterCount } from './engine.js';
import type { Timing } from './timing.js';

type Row = string[];

/** Left-aligned first column, right-aligned others, two spaces apart, indented under a heading (and a note). */
function columns(heading: Row, rows: Row[], note?: string): string {
  const all = [heading, ...rows];
  const widths = heading.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: Row, indent: string): string =>
    indent + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(heading, ''), ...(note ? [`  ${note}`] : []), ...rows.map((r) => line(r, '  '))].join('\n') + '\n';
}

const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const timingCells = (t: Timing, digits = 1): string[] => [fixed(t.wall, digits), fixed(t.cpu, digits)];
const millions = (n: number): string => `${(n / 1e6).toFixed(1)}M params`;

function machineSection(r: BenchReport): string {
  const m = r.machine;
  const load = `load average ${m.load_average.start} at start, ${m.load_average.end} at end`;
  return [
    `Tessera benchmark, ${m.date}${r.settings.quick ? ' (quick)' : ''}`,
    `  ${m.cpu}, ${m.cores} cores; ${m.kernels.name} kernels (${m.kernels.isa}) on ${m.threads} threads; node ${m.node} ${m.platform}`,
    `  ${load}: medians after warm-up; CPU time (all threads) beside wall time, as wall time suffers most on a busy machine`,
  ].join('\n') + '\n';
}

function gemmSection(r: BenchReport): string | null {
  if (!r.peak_gflops || !r.gemm) return null;
  const threads = Object.keys(r.peak_gflops).map(Number).sort((a, b) => a - b);
  const label = (t: number): string => `${t} thread${t === 1 ? '' : 's'}`;
  const rows: Row[] = [['FMA peak', ...threads.map((t) => fixed(r.peak_gflops![String(t)]!, 1))]];
  const shapes = [...new Map(r.gemm.map((g) => [`${g.m}x${g.n}x${g.k}`, g])).values()];
  for (const s of shapes) {
    rows.push([
      `sgemm ${s.m}x${s.n}x${s.k}`,
      ...threads.map((t) => {
        const g = r.gemm!.find((e) => e.m === s.m && e.n === s.n && e.k === s.k && e.threads === t);
        const peak = r.peak_gflops![String(t)];
        return g ? `${fixed(g.gflops, 1)}${peak ? ` (${Math.round((100 * g.gflops) / peak)}%)` : ''}` : '-';
      }),
    ]);
  }
  return columns(['Matrix multiply, GFLOP/s (share of peak), m x n x k', ...threads.map(label)], rows);
}

function engineSection(r: BenchReport): string | null {
  const rows: Row[] = [];
  if (r.attention_ms) {
    rows.push(['attention forward (4x6x256x64)', ...timingCells(r.attention_ms.fwd, 2)]);
    rows.push(['attention forward + backward', ...timingCells(r.attention_ms.fwd_bwd, 2)]);
  }
  if (r.block_forward_ms) rows.push(['transformer block forward (4x256x384)', ...timingCells(r.block_forward_ms, 2)]);
  if (r.block_train_ms) rows.push(['transformer block forward + backward', ...timingCells(r.block_train_ms, 2)]);
  if (r.dit_train_step_ms) rows.push([`DiT training step (${millions(ditParameterCount())}, AdamW)`, ...timingCells(r.dit_train_step_ms)]);
  return rows.length ? columns(['Engine, ms', 'wall', 'cpu'], rows) : null;
}

function modelsSection(r: BenchReport): string | null {
  if (!r.vae_encode_decode_ms || !r.dit_forward_ms || !r.model_shapes) return null;
  const { vae, dit } = r.model_shapes;
  return columns(['Models, ms', 'wall', 'cpu'], [
    [`VAE encode + decode, chunked (${vae.clip.join('x')} -> ${vae.latent.join('x')}, ${millions(vae.parameters)})`, ...timingCells(r.vae_encode_decode_ms)],
    [`DiT forward (${dit.tokens} tokens + ${dit.text_tokens} text tokens, ${millions(dit.parameters)})`, ...timingCells(r.dit_forward_ms)],
  ]);
}

function pipelineSection(r: BenchReport): string | null {
  if (!r.generate_s || !r.generate_model) return null;
  const g = r.generate_model;
  const model = g.source === 'bundled' ? `bundled model ${g.dir}` : `random model of the '${g.preset}' preset`;
  const params = `DiT ${millions(g.parameters.transformer)}, VAE ${millions(g.parameters.vae)}`;
  const rows = Object.entries(r.generate_s).map(([size, t]): Row => {
    const { total: _total, ...stages } = t.stages_ms;
    const parts = Object.entries(stages).filter(([, ms]) => ms > 0).map(([name, ms]) => `${name} ${ms}`);
    return [size, ...timingCells(t, 2), parts.join(', ')];
  });
  const note = `${g.frames} frames, ${g.steps} steps, guidance ${g.guidance_scale}, to MP4; ${model} (${params}), loaded in ${g.load_s} s`;
  return columns(['Generation, s', 'wall', 'cpu', 'stages, ms'], rows, note);
}

function formatMeasured(t: BenchTarget): string {
  return t.unit === 'of FMA peak' ? `${Math.round(t.measured * 100)}%` : `${t.measured} ${t.unit}`;
}

function formatCpu(t: BenchTarget): string {
  return t.measured_cpu === undefined ? '' : `${t.measured_cpu} ${t.unit}`;
}

function formatBound(t: BenchTarget): string {
  return t.unit === 'of FMA peak' ? `${t.comparison} ${Math.round(t.target * 100)}% of FMA peak` : `${t.comparison} ${t.target} ${t.unit}`;
}

function targetsSection(r: BenchReport): string | null {
  if (r.targets.length === 0) return null;
  const met = r.targets.filter((t) => t.met).length;
  const rows = r.targets.map((t): Row => [t.name, formatBound(t), formatMeasured(t), t.met ? 'met' : 'MISSED', formatCpu(t)]);
  return columns([`Targets (wall time): ${met} of ${r.targets.length} met`, 'target', 'measured', '', 'cpu time'], rows);
}

export function formatBenchTable(report: BenchReport): string {
  const sections = [machineSection(report), gemmSection(report), engineSection(report), modelsSection(report), pipelineSection(report), targetsSection(report)];
  const skipped = Object.entries(report.skipped ?? {}).map(([suite, why]) => `skipped ${suite}: ${why}\n`);
  return [...sections.filter((s): s is string => s !== null), ...skipped].join('\n');
}
