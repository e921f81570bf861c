import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TesseraError } from '../../src/errors.js';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../src/formats/dtype.js';
import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
} from '../../src/formats/safetensors.js';

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** A file made by hand: header object, then raw data bytes. */
function handMade(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function assertCorrupt(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TesseraError, `expected TesseraError, got ${String(e)}`);
    assert.equal(e.code, 'corrupt_file');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('f16 conversion: exact values, subnormals, overflow, inf, nan, ties to even', () => {
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(-2), 0xc000);
  assert.equal(f32ToF16Bits(65504), 0x7bff); // largest finite half
  assert.equal(f32ToF16Bits(65520), 0x7c00); // halfway past it rounds to inf
  assert.equal(f32ToF16Bits(1e6), 0x7c00);
  assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
  assert.equal(f32ToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // exactly half of it: tie to even (zero)
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002); // 1.5 ulp: tie to even (2)
  assert.equal(f32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400); // rounds up from subnormal into the smallest normal
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie between 1 and 1+2^-10: even is 1
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie: even is 1+2^-9
  assert.equal(f32ToF16Bits(-0), 0x8000);
  assert.ok(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN))));
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(0x7bff), 65504);
  assert.equal(f16BitsToF32(0xfc00), -Infinity);
  // every finite half survives half -> float -> half
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
    assert.equal(f32ToF16Bits(f16BitsToF32(h)), h);
  }
});

test('bf16 conversion rounds to nearest even and keeps nan', () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie, even is 1
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie, even is 1+2^-6
  assert.equal(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -12), 0x3f81); // above the tie
  assert.equal(f32ToBf16Bits(-3.4028234663852886e38), 0xff80); // rounds to -inf
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.equal(bf16BitsToF32(0x4049), 3.140625);
});

test('round trip is bit exact: f32 any values, f16 and bf16 representable values', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-st-'));
  try {
    const f32 = new Float32Array([0, -0, 1.5, -3.25e-7, 3.4e38, Infinity, -Infinity, 1 / 3, 1e-45]);
    const halfBits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff, 0x7c00, 0x3555];
    const f16 = new Float32Array(halfBits.map(f16BitsToF32));
    const bf16 = new Float32Array([0x3f80, 0x4049, 0x0001, 0x7f7f, 0xc2f7, 0x7f80].map(bf16BitsToF32));
    for (const [dtype, data] of [['F32', f32], ['F16', f16], ['BF16', bf16]] as const) {
      const path = join(dir, `${dtype}.safetensors`);
      const tensors = new Map([
        ['values', { shape: [data.length], data }],
        ['empty', { shape: [0, 3], data: new Float32Array(0) }],
        ['grid', { shape: [2, 3], data: new Float32Array(6).map((_, i) => i) }],
      ]);
      await writeSafetensors(path, tensors, { dtype, metadata: { format: 'pt', note: dtype } });
      const back = await readSafetensors(path);
      assert.deepEqual([...back.tensors.keys()], ['values', 'empty', 'grid']);
      assert.deepEqual(back.metadata, { format: 'pt', note: dtype });
      const v = back.tensors.get('values')!;
      assert.equal(v.dtype, dtype);
      assert.deepEqual(v.shape, [data.length]);
      assert.deepEqual(bitsOf(v.data), bitsOf(data), `${dtype} bits`);
      assert.deepEqual(back.tensors.get('empty')!.shape, [0, 3]);
      assert.deepEqual([...back.tensors.get('grid')!.data], [0, 1, 2, 3, 4, 5]);
      // the data section is 8-byte aligned, the header is parseable alone
      const bytes = await readFile(path);
      assert.equal(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) % 8, 0);
      const header = await readSafetensorsHeader(path);
      assert.deepEqual(header.tensors.get('grid')!.shape, [2, 3]);
    }
    // the atomic writer leaves no temporary files behind
    assert.deepEqual((await readdir(dir)).sort(), ['BF16.safetensors', 'F16.safetensors', 'F32.safetensors']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads F64 and files whose data section is not aligned', () => {
  const data = new Uint8Array(16);
  new DataView(data.buffer).setFloat64(0, 0.5, true);
  new DataView(data.buffer).setFloat64(8, -1e300, true);
  const bytes = handMade({ x: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, data); // header length 53: unaligned
  const t = parseSafetensors(bytes, 'f64.safetensors').tensors.get('x')!;
  assert.equal(t.data[0], 0.5);
  assert.equal(t.data[1], -Infinity); // out of float32 range
});

test('serialized bytes equal what the file writer produces', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-st-'));
  try {
    const tensors = { a: { shape: [3], data: [1, 2, 3] }, b: { shape: [1, 1], data: new Float64Array([0.25]) } };
    await writeSafetensors(join(dir, 'x.safetensors'), tensors, { dtype: 'F16' });
    assert.deepEqual(new Uint8Array(await readFile(join(dir, 'x.safetensors'))), serializeSafetensors(tensors, { dtype: 'F16' }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('corrupt files give corrupt_file errors naming the file and the tensor', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const file = 'model.safetensors';

  assertCorrupt(() => parseSafetensors(new Uint8Array(5), file), /model\.safetensors/, /truncated/);
  const lying = handMade(ok, new Uint8Array(8));
  new DataView(lying.buffer).setBigUint64(0, 4096n, true);
  assertCorrupt(() => parseSafetensors(lying, file), /model\.safetensors/, /header length 4096/);
  assertCorrupt(() => parseSafetensors(handMade(null, new Uint8Array(8), '{"w": {"dtype": "F32",'), file), /not valid/);
  assertCorrupt(() => parseSafetensors(handMade([1, 2]), file), /JSON object/);
  // truncated data: the offsets run past the end
  assertCorrupt(() => parseSafetensors(handMade(ok, new Uint8Array(5)), file), /model\.safetensors/, /tensor 'w'/, /past/);
  assertCorrupt(
    () => parseSafetensors(handMade({ w: { dtype: 'I8', shape: [8], data_offsets: [0, 8] } }, new Uint8Array(8)), file),
    /tensor 'w'/, /unknown dtype "I8"/,
  );
  assertCorrupt(
    () => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), file),
    /tensor 'w'/, /shape \[3\] of F32 needs 12 bytes but data_offsets span 8/,
  );
  assertCorrupt(
    () => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, new Uint8Array(8)), file),
    /tensor 'w'/, /data_offsets/,
  );
  assertCorrupt(
    () => parseSafetensors(handMade({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)), file),
    /tensor 'w'/, /shape/,
  );
  const overlapping = {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  };
  assertCorrupt(() => parseSafetensors(handMade(overlapping, new Uint8Array(12)), file), /tensor 'b'.*overlap.*tensor 'a'/);
  assertCorrupt(
    () => parseSafetensors(handMade({ __metadata__: { epoch: 3 } }), file),
    /__metadata__\.epoch must be a string/,
  );
});

test('truncated and missing files on disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-st-'));
  try {
    const path = join(dir, 'cut.safetensors');
    const full = serializeSafetensors({ big: { shape: [64], data: new Float32Array(64) } });
    await writeFile(path, full.subarray(0, full.length - 10));
    await assert.rejects(readSafetensors(path), (e: TesseraError) => {
      assert.equal(e.code, 'corrupt_file');
      assert.match(e.message, /cut\.safetensors: tensor 'big'.*truncated/);
      return true;
    });
    await assert.rejects(readSafetensorsHeader(path), /tensor 'big'/);
    await assert.rejects(readSafetensors(join(dir, 'nope.safetensors')), (e: TesseraError) => e.code === 'not_found');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
