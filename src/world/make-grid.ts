/**
 * Renders the README's picture of the world: rows of random scenes (four frames each) with their dense captions.
 * Usage: npx tsx src/world/make-grid.ts [docs/world-grid.png]
 */
import { renameSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { captionSpec } from './caption.js';
import { renderScene } from './render.js';
import { randomSpec } from './spec.js';

const out = process.argv[2] ?? 'docs/world-grid.png';
const seeds = [3, 7, 14, 21, 29, 42, 51, 64];
const side = 128, shown = 4, frames = 16;
const width = shown * side, height = seeds.length * side;
const grid = Buffer.alloc(width * height * 3);
const lines = ['# The simulated world', '', `![world grid](world-grid.png)`, '', 'Rows top to bottom (frames 0, 5, 10, 15 of 16 at 8 fps, 128x128), with the dense caption of each:', ''];
seeds.forEach((seed, row) => {
  const spec = randomSpec(seed, { width: side, height: side, frames });
  const clip = renderScene(spec);
  for (let k = 0; k < shown; k++) {
    const f = Math.round((k * (frames - 1)) / (shown - 1));
    for (let y = 0; y < side; y++) {
      const src = (f * side * side + y * side) * 3;
      Buffer.from(clip.data.buffer, clip.data.byteOffset + src, side * 3).copy(grid, ((row * side + y) * width + k * side) * 3);
    }
  }
  lines.push(`${row + 1}. (seed ${seed}) ${captionSpec(spec, 'dense', seed)}`);
});
const png = await sharp(grid, { raw: { width, height, channels: 3 } }).png().toBuffer();
writeFileSync(`${out}.tmp`, png);
renameSync(`${out}.tmp`, out);
const md = out.replace(/\.png$/, '.md');
writeFileSync(`${md}.tmp`, `${lines.join('\n')}\n`);
renameSync(`${md}.tmp`, md);
console.log(`wrote ${out} and ${md}`);
