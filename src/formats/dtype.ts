/**
 * Storage dtypes of tensors in files and their conversion to and from float32.
 * In memory every tensor is float32 (see DESIGN.md); half precision exists only on disk.
 */

export type StorageDType = 'F32' | 'F16' | 'BF16' | 'F64';

export const BYTES_PER_ELEMENT: Readonly<Record<StorageDType, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export function isStorageDType(s: unknown): s is StorageDType {
  return typeof s === 'string' && Object.hasOwn(BYTES_PER_ELEMENT, s);
}

// One shared scratch word to reinterpret float32 bits.
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float32 -> IEEE binary16 bits, round to nearest even; overflow gives inf, NaN stays NaN (quiet). */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;

  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): shift the full significand, implicit 1 included, into 10 bits.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    const significand = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = significand & ((1 << shift) - 1);
    let h = significand >>> shift;
    if (rest > half || (rest === half && (h & 1) !== 0)) h++; // a carry into bit 10 correctly makes it normal
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++; // a carry may reach 0x7c00 = inf, as it should
  return sign | h;
}

let f16Table: Float32Array | null = null;

/** All 65536 half values as float32, built once on first use. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) table[h] = mant !== 0 ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  f16Table = table;
  return table;
}

export function f16BitsToF32(bits: number): number {
  return halfTable()[bits & 0xffff]!;
}

/** float32 -> bfloat16 bits (the top half of the float32), round to nearest even; NaN stays NaN. */
export function f32ToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  const lsb = (x >>> 16) & 1;
  return Math.floor((x + 0x7fff + lsb) / 65536) & 0xffff; // plain arithmetic: x + 0x8000 can pass 2^32
}

export function bf16BitsToF32(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0]!;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes little-endian stored elements into a fresh Float32Array.
 * `bytes` may start at any offset of any buffer (safetensors headers do not promise alignment).
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: StorageDType): Float32Array {
  const n = bytes.byteLength / BYTES_PER_ELEMENT[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      if (HOST_LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'F16': {
      const table = halfTable();
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, true)]!;
      break;
    }
    case 'BF16': {
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) outBits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
  }
  return out;
}

/** Encodes float values as little-endian `dtype` elements. */
export function encodeFromFloat(data: ArrayLike<number>, dtype: StorageDType): Uint8Array {
  const n = data.length;
  const out = new Uint8Array(n * BYTES_PER_ELEMENT[dtype]);
  const view = new DataView(out.buffer);
  switch (dtype) {
    case 'F32':
      if (HOST_LITTLE_ENDIAN && data instanceof Float32Array) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else for (let i = 0; i < n; i++) view.setFloat32(4 * i, data[i]!, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) view.setFloat64(8 * i, data[i]!, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, f32ToF16Bits(data[i]!), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, f32ToBf16Bits(data[i]!), true);
      break;
  }
  return out;
}
