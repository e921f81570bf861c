/** Pixel-level comparisons of 8-bit clips. */

/** Peak signal-to-noise ratio in dB between two 8-bit buffers of the same length (Infinity when equal). */
export function psnr8(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`psnr8: buffers of ${a.length} and ${b.length} bytes`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

