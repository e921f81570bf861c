/** The people-readable view of an EvalReport: one table of scores by group, then the distances. */
import { JUDGED_ATTRIBUTES, type EvalReport, type GroupSummary, type ObjectsFound, type VaeEvalReport, type VaeSummary } from './run.js';

const percent = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(1)}`);

function row(name: string, g: GroupSummary | null | undefined): string[] | null {
  if (!g) return null;
  return [name, String(g.samples), ...JUDGED_ATTRIBUTES.map((a) => percent(g.attributes[a])), percent(g.accuracy), percent(g.permanence), percent(g.physics)];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function formatReport(report: EvalReport): string {
  const s = report.scores;
  const rows = [
    ['group', 'clips', ...JUDGED_ATTRIBUTES, 'accuracy', 'permanence', 'physics'],
    row('all', s.all),
    row('seen', s.seen),
    row('held-out', s.heldOut),
    row('short prompts', s.short),
    row('dense prompts', s.dense),
    ...Object.entries(s.byObjects).map(([n, g]) => row(`${n} object${n === '1' ? '' : 's'}`, g)),
    row('judge ceiling (rendered)', report.reference?.all),
    row('  ceiling, held-out', report.reference?.heldOut),
    row('VAE ceiling (reconstructed)', report.vae?.judged.all),
    row('  VAE ceiling, held-out', report.vae?.judged.heldOut),
  ].filter((r): r is string[] => r !== null);
  const out = [
    `${report.prompts} prompts x ${report.seeds.length} seeds (${report.seeds.join(', ')}) = ${report.samples} clips; scores in %`,
    '',
    table(rows),
    '',
  ];
  out.push(...objectsFoundLines(report.objectsFound), '');
  const d = report.distance;
  if (d) {
    const fmt = (name: string, x: typeof d.all) =>
      x ? `${name.padEnd(9)} ${x.distance.toFixed(3).padStart(10)}   (means ${x.meanTerm.toFixed(3)}, covariances ${x.covarianceTerm.toFixed(3)}; ${x.clips} clips)` : null;
    out.push('Frechet distance to rendered clips (world classifier features; not comparable with published FVD):');
    out.push(...[fmt('all', d.all), fmt('seen', d.seen), fmt('held-out', d.heldOut)].filter((l): l is string => l !== null));
    out.push('');
  }
  if (report.vae) out.push(psnrLine(report.vae), '');
  const t = report.timings;
  out.push(`time: ${t.totalSeconds.toFixed(1)} s (generate ${t.generateSeconds.toFixed(1)}, judge ${t.judgeSeconds.toFixed(1)}, distance ${t.distanceSeconds.toFixed(1)}, vae ${t.vaeSeconds.toFixed(1)})`);
  for (const note of report.notes) out.push(`note: ${note}`);
  return `${out.join('\n')}\n`;
}

/** One line per number of objects asked for: how many clips showed each number the judge found. */
function objectsFoundLines(found: ObjectsFound): string[] {
  const plural = (n: string) => `${n} object${n === '1' ? '' : 's'}`;
  const lines = Object.entries(found).map(([asked, byFound]) => {
    const cells = Object.entries(byFound).sort(([a], [b]) => Number(a) - Number(b)).map(([n, clips]) => `${n} in ${clips}`);
    return `  ${plural(asked)} asked: ${cells.join(', ')}`;
  });
  return ['Objects the judge found (clips):', ...lines];
}

function psnrLine(v: VaeSummary): string {
  const held = v.heldOutPsnr === null ? '' : `, held-out scenes ${v.heldOutPsnr.toFixed(2)}`;
  return `VAE reconstruction of ${v.clips} rendered clips: ${v.psnr.toFixed(2)} dB PSNR (first frame ${v.firstFramePsnr.toFixed(2)}, last frame ${v.lastFramePsnr.toFixed(2)}${held})`;
}

/** `tessera eval --vae-only`: the PSNR line, then the judge on the reconstructions (the VAE's ceiling). */
export function formatVaeReport(report: VaeEvalReport): string {
  const { size, vae: v, timings: t } = report;
  const rows = [
    ['group', 'clips', ...JUDGED_ATTRIBUTES, 'accuracy', 'permanence', 'physics'],
    row('VAE ceiling (reconstructed)', v.judged.all),
    row('  VAE ceiling, held-out', v.judged.heldOut),
  ].filter((r): r is string[] => r !== null);
  return [
    `${report.prompts} prompts rendered at ${size.width}x${size.height}, ${size.frames} frames (seed ${report.seed}); scores in %`,
    '',
    psnrLine(v),
    '',
    table(rows),
    '',
    `time: ${t.totalSeconds.toFixed(1)} s (render ${t.renderSeconds.toFixed(1)}, vae ${t.vaeSeconds.toFixed(1)})`,
    '',
  ].join('\n');
}
