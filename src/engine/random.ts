/**
 * Counter-based PRNG (Philox-4x32-10). The stream is a pure function of (key, counter), so a generator's whole
 * state is two numbers, it serialises into a checkpoint as JSON, and `fork(label)` derives independent streams
 * (per sample, per layer) without consuming the parent. Same seed -> same bits, on every run and machine.
 */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

export interface RngState {
  key: [number, number];
  counter: number; // blocks of 4 words consumed so far
  index: number; // words consumed from the current block (0..4)
  spare: number | null; // second Box-Muller normal, kept for bit-exact resume
}

function mulhilo(a: number, b: number): [number, number] {
  // 32x32 -> 64-bit product split in hi and lo words, exact with BigInt-free arithmetic
  const aH = a >>> 16, aL = a & 0xffff, bH = b >>> 16, bL = b & 0xffff;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  const lo = ((mid & 0xffff) << 16) | (ll & 0xffff);
  const hi = hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16);
  return [hi >>> 0, lo >>> 0];
}

/** One Philox-4x32-10 block for counter (c0, c1, 0, 0) under key (k0, k1). */
function philoxBlock(c0: number, c1: number, k0: number, k1: number, out: Uint32Array): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = 0, x3 = 0;
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulhilo(M0, x0);
    const [hi1, lo1] = mulhilo(M1, x2);
    const n0 = (hi1 ^ x1 ^ k0) >>> 0;
    const n1 = lo1;
    const n2 = (hi0 ^ x3 ^ k1) >>> 0;
    const n3 = lo0;
    x0 = n0; x1 = n1; x2 = n2; x3 = n3;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

/** Mixes a string or number label into a 32-bit word (FNV-1a over its characters). */
function hashLabel(label: string | number): number {
  const s = String(label);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private key: [number, number];
  private counter = 0;
  private index = 4;
  private spare: number | null = null;
  private readonly block = new Uint32Array(4);

  constructor(seed: number | bigint = 0) {
    const big = BigInt.asUintN(64, BigInt(seed));
    this.key = [Number(big & 0xffffffffn), Number(big >> 32n)];
  }

  static fromState(s: RngState): Rng {
    const r = new Rng(0);
    r.key = [s.key[0] >>> 0, s.key[1] >>> 0];
    r.counter = s.counter;
    r.spare = s.spare;
    r.index = 4;
    if (s.index < 4) {
      r.counter = s.counter - 1;
      r.refill();
      r.index = s.index;
    }
    return r;
  }

  state(): RngState {
    return { key: [this.key[0], this.key[1]], counter: this.counter, index: this.index, spare: this.spare };
  }

  /** An independent generator derived from this one's key and a label; does not advance this one. */
  fork(label: string | number): Rng {
    const r = new Rng(0);
    const h = hashLabel(label);
    const out = new Uint32Array(4);
    philoxBlock(h, 0x7e55e8a, this.key[0], this.key[1], out);
    r.key = [out[0]!, out[1]!];
    return r;
  }

  private refill(): void {
    const c = this.counter;
    philoxBlock(c % 0x100000000, Math.floor(c / 0x100000000), this.key[0], this.key[1], this.block);
    this.counter = c + 1;
    this.index = 0;
  }

  /** Next raw 32-bit word. */
  nextUint32(): number {
    if (this.index >= 4) this.refill();
    return this.block[this.index++]!;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** An index drawn with probability proportional to its weight (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, w) => a + w, 0);
    let u = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    // rounding left u just above zero: the last index with weight
    let last = weights.length - 1;
    while (last > 0 && !(weights[last]! > 0)) last--;
    return last;
  }

  /** Standard normal (Box-Muller; the second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = (this.nextUint32() + 1) / 4294967297; // (0, 1]: log never sees 0
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Fills an array with N(0, std^2) or U[0,1) samples. */
  fill(arr: { length: number; [i: number]: number }, dist: 'normal' | 'uniform', std = 1): void {
    if (dist === 'normal') for (let i = 0; i < arr.length; i++) arr[i] = this.normal() * std;
    else for (let i = 0; i < arr.length; i++) arr[i] = this.uniform();
  }
}
