import sharp from 'sharp';
const [prefix, out] = process.argv.slice(2);
const idx = [0,2,4,6,8,10,12,14,16];
const comps = idx.map((i, k) => ({ input: `${prefix}_${String(i).padStart(4,'0')}.png`, left: 128*k, top: 0 }));
await sharp({ create: { width: 128*idx.length, height: 128, channels: 3, background: '#000' } }).composite(comps).png().toFile(out);
