/**
 * Tests of the byte-level safetensors reader/writer (src/data/safetensors-format.ts).
 * Format: https://github.com/huggingface/safetensors, README section "Format".
 *
 * Golden files are made by test/fixtures/safetensors/gen.py (numpy + struct, written by
 * hand to the reference layout); see that script for what each file exercises.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import {
  MAX_HEADER_SIZE,
  parseSafetensors,
  readSafetensorsFile,
  reverseBytesInGroups,
  SafetensorsError,
  serializeSafetensors,
  writeSafetensorsFile,
  type RawTensor,
  type SafetensorsErrorCode,
} from '../../src/data/safetensors-format.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/safetensors/', import.meta.url));

type ExpectedValue = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';
interface ExpectedTensor {
  dtype: RawTensor['dtype'];
  shape: number[];
  values: ExpectedValue[];
  f32_bits?: number[];
}
interface ExpectedFile {
  metadata: Record<string, string>;
  tensors: Record<string, ExpectedTensor>;
}
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'golden.expected.json'), 'utf8')) as Record<
  string,
  ExpectedFile
>;

function decodeExpected(v: ExpectedValue): number {
  switch (v) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case '-0':
      return -0;
    default:
      return v;
  }
}

/** The raw bytes of a typed array (for bit-exact comparisons, NaN payloads included). */
function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Builds a file from a header object (or raw header text) and a data section. */
function buildFile(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function headerText(file: Uint8Array): string {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(file.subarray(8, 8 + n));
}

function expectError(fn: () => unknown, code: SafetensorsErrorCode, message?: RegExp): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    const err = e as SafetensorsError;
    expect(err.code, err.message).toBe(code);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected a SafetensorsError ${code}, but nothing was thrown`);
}

/** Parses; returns 'ok' or rethrows anything that is not a SafetensorsError. */
function parseOrSafetensorsError(bytes: Uint8Array): 'ok' | 'error' {
  try {
    parseSafetensors(bytes);
    return 'ok';
  } catch (e) {
    if (e instanceof SafetensorsError) return 'error';
    throw e;
  }
}

const f32 = (values: number[], shape = [values.length]): RawTensor => ({
  dtype: 'float32',
  shape,
  data: new Float32Array(values),
});

describe('golden files (written by gen.py without the safetensors package)', () => {
  for (const file of ['golden.safetensors', 'golden-widening.safetensors']) {
    it(`${file}: parses to the expected dtypes, shapes and values`, () => {
      const expected = EXPECTED[file];
      const { tensors, metadata } = parseSafetensors(readFileSync(join(FIXTURES, file)));
      expect(metadata).toEqual(expected.metadata);
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
      for (const [name, exp] of Object.entries(expected.tensors)) {
        const t = tensors[name];
        expect(t.dtype, name).toBe(exp.dtype);
        expect(t.shape, name).toEqual(exp.shape);
        expect(Array.from(t.data), name).toEqual(exp.values.map(decodeExpected));
        if (exp.f32_bits) {
          expect(t.data, name).toBeInstanceOf(Float32Array);
          expect(Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)), name).toEqual(
            exp.f32_bits,
          );
        }
      }
    });
  }

  it('golden.safetensors: serializing the parsed tensors reproduces the file byte for byte', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'golden.safetensors')));
    const { tensors, metadata } = parseSafetensors(bytes);
    const again = serializeSafetensors(tensors, metadata);
    expect(again.length).toBe(bytes.length);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it('golden-widening.safetensors really has an unpadded header and unaligned offsets', () => {
    const bytes = readFileSync(join(FIXTURES, 'golden-widening.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).not.toBe(0);
    expect(JSON.parse(headerText(bytes)).b_f16.data_offsets[0] % 2).toBe(1);
  });
});

describe('serializeSafetensors: the reference layout', () => {
  it('writes exactly the bytes of the reference for a one-tensor file', () => {
    const bytes = serializeSafetensors({ a: f32([1]) });
    const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'; // 54 bytes
    const expected = new Uint8Array(8 + 56 + 4);
    expected[0] = 56;
    expected.set(new TextEncoder().encode(json + '  '), 8);
    expected.set([0x00, 0x00, 0x80, 0x3f], 64); // 1.0f little-endian
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('writes "{}" padded to 8 bytes for no tensors, and omits empty metadata', () => {
    const expected = [8, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{}      ')];
    expect(Array.from(serializeSafetensors({}))).toEqual(expected);
    expect(Array.from(serializeSafetensors({}, {}))).toEqual(expected);
  });

  it('orders tensors by descending dtype (F64, F32, I32, BOOL), then by name', () => {
    const bytes = serializeSafetensors({
      b_bool: { dtype: 'bool', shape: [1], data: new Uint8Array([1]) },
      a_bool: { dtype: 'bool', shape: [1], data: new Uint8Array([0]) },
      z_int: { dtype: 'int32', shape: [1], data: new Int32Array([5]) },
      y_f32: f32([2]),
      x_f64: { dtype: 'float64', shape: [1], data: new Float64Array([3]) },
      B_f32: f32([4]),
    });
    const header = JSON.parse(headerText(bytes)) as Record<string, { data_offsets: number[] }>;
    const order = Object.keys(header).sort((p, q) => header[p].data_offsets[0] - header[q].data_offsets[0]);
    expect(order).toEqual(['x_f64', 'B_f32', 'y_f32', 'z_int', 'a_bool', 'b_bool']);
    // JSON key order follows the data order too.
    expect(headerText(bytes).indexOf('"x_f64"')).toBeLessThan(headerText(bytes).indexOf('"B_f32"'));
  });

  it('sorts names byte-wise on UTF-8 (U+E000 before U+10000, unlike UTF-16 order)', () => {
    const high = '\u{10000}'; // UTF-8 F0 90 80 80; UTF-16 D800 DC00
    const pua = '\uE000'; // UTF-8 EE 80 80; UTF-16 E000
    const text = headerText(serializeSafetensors({ [high]: f32([1]), [pua]: f32([2]), z: f32([3]) }));
    expect(text.indexOf('"z"')).toBeLessThan(text.indexOf(pua));
    expect(text.indexOf(pua)).toBeLessThan(text.indexOf(high));
  });

  it('puts __metadata__ first with keys sorted, and escapes strings as serde_json does', () => {
    const text = headerText(serializeSafetensors({ t: f32([]) }, { b: 'x"y\\z\n\u0001é', a: '1' }));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"1","b":"x\\"y\\\\z\\n\\u0001é"},"t":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}',
    );
  });

  it('writes a scalar (shape []) as one element, and accepts subarray views', () => {
    const backing = new Float32Array([9, 7.5, 9]);
    const bytes = serializeSafetensors({ s: { dtype: 'float32', shape: [], data: backing.subarray(1, 2) } });
    const { tensors } = parseSafetensors(bytes);
    expect(tensors.s.shape).toEqual([]);
    expect(Array.from(tensors.s.data)).toEqual([7.5]);
  });
});

describe('parseSafetensors: reading', () => {
  it('reads F32/I32 at odd offsets and from a Uint8Array view at an odd byteOffset', () => {
    const data = new Uint8Array(1 + 8 + 4);
    data[0] = 7; // a: U8
    new DataView(data.buffer).setFloat32(1, 1.5, true);
    new DataView(data.buffer).setFloat32(5, -3, true);
    new DataView(data.buffer).setInt32(9, -123456, true);
    const file = buildFile(
      {
        a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
        b: { dtype: 'F32', shape: [2], data_offsets: [1, 9] },
        c: { dtype: 'I32', shape: [], data_offsets: [9, 13] },
      },
      data,
      false,
    );
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const { tensors } = parseSafetensors(shifted.subarray(3));
    expect(Array.from(tensors.a.data)).toEqual([7]);
    expect(Array.from(tensors.b.data)).toEqual([1.5, -3]);
    expect(tensors.c).toEqual({ dtype: 'int32', shape: [], data: new Int32Array([-123456]) });
  });

  it('returns copies that never alias the input bytes', () => {
    const file = serializeSafetensors({ w: f32([1, 2]) });
    const { tensors } = parseSafetensors(file);
    file.fill(0, file.length - 8);
    expect(Array.from(tensors.w.data)).toEqual([1, 2]);
  });

  it('accepts tensors listed in any order in the header (sorted by offsets, as the reference does)', () => {
    const data = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
    const file = buildFile({
      second: { dtype: 'I32', shape: [1], data_offsets: [4, 8] },
      first: { dtype: 'I32', shape: [1], data_offsets: [0, 4] },
    }, data);
    const { tensors } = parseSafetensors(file);
    expect(tensors.first.data[0]).toBe(1);
    expect(tensors.second.data[0]).toBe(2);
  });

  it('keeps names such as __proto__ and constructor as ordinary own keys', () => {
    // Object.fromEntries defines "__proto__" as an own property (no prototype change).
    const bytes = serializeSafetensors(
      Object.fromEntries([
        ['__proto__', f32([1])],
        ['constructor', f32([2])],
      ]),
      Object.fromEntries([['__proto__', 'meta']]),
    );
    const { tensors, metadata } = parseSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(Array.from(Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data)).toEqual([1]);
    expect(Object.getPrototypeOf(tensors)).toBe(null); // null prototype: a name is only ever a key
    expect(Object.getPrototypeOf(metadata)).toBe(null);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')!.value).toBe('meta');
  });

  it('I64/U64/U32 values outside int32 raise VALUE_OUT_OF_RANGE naming the tensor and element', () => {
    const i64 = new BigInt64Array([5n, 2147483648n]);
    expectError(
      () => parseSafetensors(buildFile({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, bytesOf(i64))),
      'VALUE_OUT_OF_RANGE',
      /"big" \(I64\): element 1 = 2147483648 does not fit in int32/,
    );
    const neg = new BigInt64Array([-2147483649n]);
    expectError(
      () => parseSafetensors(buildFile({ n: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, bytesOf(neg))),
      'VALUE_OUT_OF_RANGE',
      /element 0 = -2147483649/,
    );
    const u64 = new BigUint64Array([2n ** 63n]);
    expectError(
      () => parseSafetensors(buildFile({ u: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } }, bytesOf(u64))),
      'VALUE_OUT_OF_RANGE',
      /"u" \(U64\): element 0 = 9223372036854775808/,
    );
    const u32 = new Uint32Array([1, 2147483648]);
    expectError(
      () => parseSafetensors(buildFile({ w: { dtype: 'U32', shape: [2], data_offsets: [0, 8] } }, bytesOf(u32))),
      'VALUE_OUT_OF_RANGE',
      /"w" \(U32\): element 1 = 2147483648/,
    );
  });

  it('I64 values at the int32 limits convert exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 20 }), (values) => {
        const data = new BigInt64Array(values.map((v) => BigInt(v)));
        const file = buildFile({ x: { dtype: 'I64', shape: [values.length], data_offsets: [0, 8 * values.length] } }, bytesOf(data));
        expect(Array.from(parseSafetensors(file).tensors.x.data)).toEqual(values);
      }),
    );
  });

  it('F16 → float32 agrees with an independent decode for all 65536 bit patterns', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const file = buildFile({ h: { dtype: 'F16', shape: [65536], data_offsets: [0, 131072] } }, bytesOf(all));
    const out = parseSafetensors(file).tensors.h.data as Float32Array;
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const mant = h & 0x3ff;
      const value =
        exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
      if (Number.isNaN(value)) {
        expect(Number.isNaN(out[h])).toBe(true);
      } else if (!Object.is(out[h], value)) {
        throw new Error(`F16 0x${h.toString(16)}: got ${out[h]}, expected ${value}`);
      }
    }
  });

  it('BOOL bytes other than 0/1 raise VALUE_OUT_OF_RANGE', () => {
    expectError(
      () => parseSafetensors(buildFile({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([1, 0, 2]))),
      'VALUE_OUT_OF_RANGE',
      /"m" \(BOOL\): element 2 is the byte 2/,
    );
  });
});

describe('parseSafetensors: validation (SafetensorsError codes)', () => {
  const okTensor = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
  const four = new Uint8Array(4);

  it('file shorter than 8 bytes', () => {
    for (let n = 0; n < 8; n++) expectError(() => parseSafetensors(new Uint8Array(n)), 'HEADER_TOO_SMALL', new RegExp(`${n} bytes`));
  });

  it('header length larger than the file', () => {
    const file = buildFile({ x: okTensor }, four);
    new DataView(file.buffer).setUint32(0, file.length, true);
    expectError(() => parseSafetensors(file), 'INVALID_HEADER_LENGTH', /runs past the end of the file/);
  });

  it('header length over the 100 MB limit, including lengths ≥ 2^32', () => {
    const file = new Uint8Array(16);
    new DataView(file.buffer).setUint32(0, MAX_HEADER_SIZE + 1, true);
    expectError(() => parseSafetensors(file), 'HEADER_TOO_LARGE', /100000001/);
    new DataView(file.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectError(() => parseSafetensors(file), 'HEADER_TOO_LARGE', /18446744073709551615/);
    new DataView(file.buffer).setBigUint64(0, 2n ** 32n, true);
    expectError(() => parseSafetensors(file), 'HEADER_TOO_LARGE');
  });

  it('header that is not UTF-8', () => {
    const file = buildFile('{"a":1}');
    file[10] = 0xff;
    expectError(() => parseSafetensors(file), 'INVALID_HEADER_UTF8');
  });

  it('header that is not JSON, has a BOM, leading whitespace, or duplicate keys', () => {
    expectError(() => parseSafetensors(buildFile('{"a":')), 'INVALID_HEADER_JSON', /not valid JSON/);
    expectError(() => parseSafetensors(buildFile('\uFEFF{}')), 'INVALID_HEADER_JSON');
    expectError(() => parseSafetensors(buildFile(' {}', undefined, false)), 'INVALID_HEADER_JSON', /must begin with "\{"/);
    const dup = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expectError(() => parseSafetensors(buildFile(dup, four)), 'INVALID_HEADER_JSON', /key "x" twice/);
    const nestedDup = '{"x":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expectError(() => parseSafetensors(buildFile(nestedDup, four)), 'INVALID_HEADER_JSON', /key "dtype" twice/);
    // The same key in different objects, and escaped quotes in strings, are fine.
    const fine = '{"__metadata__":{"dtype":"a\\"b","x":"\\\\"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(parseSafetensors(buildFile(fine, four)).metadata).toEqual({ dtype: 'a"b', x: '\\' });
  });

  it('header that is JSON but not an object', () => {
    for (const h of ['[]', '1', '"s"', 'null']) {
      expectError(() => parseSafetensors(buildFile(h)), 'INVALID_HEADER_STRUCTURE', /must be a JSON object/);
    }
  });

  it('tensor entry that is not an object, lacks a field or has an unknown one', () => {
    expectError(() => parseSafetensors(buildFile({ t: [1] })), 'INVALID_HEADER_STRUCTURE', /"t" must be an object/);
    expectError(
      () => parseSafetensors(buildFile({ t: { dtype: 'F32', shape: [1] } }, four)),
      'INVALID_HEADER_STRUCTURE',
      /"t" has no "data_offsets" field/,
    );
    expectError(
      () => parseSafetensors(buildFile({ t: { ...okTensor, offsets: [0, 4] } }, four)),
      'INVALID_HEADER_STRUCTURE',
      /unknown field "offsets"/,
    );
  });

  it('unknown or unsupported dtype', () => {
    expectError(() => parseSafetensors(buildFile({ t: { ...okTensor, dtype: 'F128' } }, four)), 'UNSUPPORTED_DTYPE', /"t" has unknown dtype the string "F128"/);
    expectError(() => parseSafetensors(buildFile({ t: { ...okTensor, dtype: 'F8_E4M3' } }, four)), 'UNSUPPORTED_DTYPE', /unsupported dtype/);
    expectError(() => parseSafetensors(buildFile({ t: { ...okTensor, dtype: 4 } }, four)), 'UNSUPPORTED_DTYPE');
    expectError(() => parseSafetensors(buildFile({ t: { ...okTensor, dtype: 'f32' } }, four)), 'UNSUPPORTED_DTYPE');
  });

  it('shape that is not a list of non-negative integers, or overflows', () => {
    for (const shape of [1, [-1], [1.5], ['1'], null, [[1]]]) {
      expectError(() => parseSafetensors(buildFile({ t: { ...okTensor, shape } }, four)), 'INVALID_SHAPE', /"t": shape must be/);
    }
    const huge = { t: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] } };
    expectError(() => parseSafetensors(buildFile(huge, four)), 'INVALID_SHAPE', /overflows/);
    const zeroAfterOverflow = { t: { dtype: 'F32', shape: [2 ** 40, 2 ** 40, 0], data_offsets: [0, 0] } };
    expectError(() => parseSafetensors(buildFile(zeroAfterOverflow)), 'INVALID_SHAPE', /overflows/);
  });

  it('data_offsets that are not [begin, end] integers with begin ≤ end', () => {
    for (const data_offsets of [[0], [0, 4, 8], [-4, 0], [0, 4.5], ['0', '4'], [4, 0], null, { 0: 0, 1: 4 }]) {
      expectError(() => parseSafetensors(buildFile({ t: { ...okTensor, data_offsets } }, four)), 'INVALID_OFFSETS', /"t": data_offsets must be/);
    }
  });

  it('overlapping offsets, holes, and a first tensor not at 0', () => {
    const eight = new Uint8Array(8);
    expectError(
      () => parseSafetensors(buildFile({ a: okTensor, b: { ...okTensor, data_offsets: [2, 6] } }, new Uint8Array(6))),
      'INVALID_OFFSETS',
      /"b" has data_offsets \[2, 6\], which overlaps/,
    );
    expectError(
      () => parseSafetensors(buildFile({ a: okTensor, b: { ...okTensor, data_offsets: [6, 10] } }, new Uint8Array(10))),
      'INVALID_OFFSETS',
      /"b" has data_offsets \[6, 10\], which leaves a hole/,
    );
    expectError(() => parseSafetensors(buildFile({ a: { ...okTensor, data_offsets: [4, 8] } }, eight)), 'INVALID_OFFSETS', /hole/);
  });

  it('trailing bytes after the last tensor, or a data section that is too short', () => {
    expectError(() => parseSafetensors(buildFile({ a: okTensor }, new Uint8Array(5))), 'INCOMPLETE_BUFFER', /trailing 1 bytes belong to no tensor/);
    expectError(() => parseSafetensors(buildFile({}, new Uint8Array(1))), 'INCOMPLETE_BUFFER');
    expectError(() => parseSafetensors(buildFile({ a: okTensor }, new Uint8Array(3))), 'INCOMPLETE_BUFFER', /truncated/);
  });

  it('byte size different from product(shape) × itemsize', () => {
    expectError(
      () => parseSafetensors(buildFile({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 4] } }, four)),
      'SIZE_MISMATCH',
      /"a" \(F64, shape \[1\]\) needs 8 bytes, but data_offsets \[0, 4\] span 4/,
    );
    expectError(
      () => parseSafetensors(buildFile({ a: { dtype: 'F32', shape: [2, 0], data_offsets: [0, 4] } }, four)),
      'SIZE_MISMATCH',
    );
  });

  it('__metadata__ that is not a string → string map', () => {
    expectError(() => parseSafetensors(buildFile({ __metadata__: { a: 1 } })), 'INVALID_METADATA', /__metadata__\["a"\] must be a string, got number 1/);
    expectError(() => parseSafetensors(buildFile({ __metadata__: ['a'] })), 'INVALID_METADATA');
    expectError(() => parseSafetensors(buildFile({ __metadata__: null })), 'INVALID_METADATA');
    expectError(() => parseSafetensors(buildFile({ __metadata__: { a: { b: 'c' } } })), 'INVALID_METADATA');
  });

  it('rejects a non-Uint8Array argument', () => {
    expectError(() => parseSafetensors('abc' as unknown as Uint8Array), 'INVALID_ARGUMENT', /must be a Uint8Array, got the string/);
  });

  it('accepts empty tensors and an empty file body', () => {
    const { tensors, metadata } = parseSafetensors(buildFile({ e: { dtype: 'I8', shape: [3, 0], data_offsets: [0, 0] } }));
    expect(tensors.e).toEqual({ dtype: 'int32', shape: [3, 0], data: new Int32Array(0) });
    expect(metadata).toEqual({});
  });
});

describe('serializeSafetensors: argument validation', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['non-object tensors', () => serializeSafetensors(null as never), /tensors must be an object/],
    ['bad dtype', () => serializeSafetensors({ t: { ...f32([1]), dtype: 'float16' as never } }), /tensors\["t"\]\.dtype must be one of/],
    ['wrong typed array', () => serializeSafetensors({ t: { dtype: 'float32', shape: [1], data: new Float64Array(1) } }), /\.data must be a Float32Array for dtype float32, got Float64Array/],
    ['plain array data', () => serializeSafetensors({ t: { dtype: 'int32', shape: [1], data: [1] as never } }), /must be a Int32Array/],
    ['length ≠ product(shape)', () => serializeSafetensors({ t: f32([1, 2, 3], [2, 2]) }), /has 3 elements, expected 4 \(product of shape \[2, 2\]\)/],
    ['negative shape', () => serializeSafetensors({ t: f32([], [-1]) }), /shape must be an array of non-negative integers/],
    ['bool not 0/1', () => serializeSafetensors({ m: { dtype: 'bool', shape: [2], data: new Uint8Array([1, 3]) } }), /data\[1\] is 3; bool data must hold 0 or 1/],
    ['name __metadata__', () => serializeSafetensors({ __metadata__: f32([1]) }), /cannot be named "__metadata__"/],
    ['lone surrogate in name', () => serializeSafetensors({ ['a\uD800']: f32([1]) }), /unpaired surrogate/],
    ['non-string metadata', () => serializeSafetensors({}, { a: 1 as never }), /metadata\["a"\] must be a string, got number 1/],
    ['non-object metadata', () => serializeSafetensors({}, 'x' as never), /metadata must be an object/],
    ['lone surrogate in metadata', () => serializeSafetensors({}, { a: '\uDC00' }), /unpaired surrogate/],
  ];
  for (const [what, fn, message] of cases) {
    it(what, () => {
      expectError(fn, 'INVALID_ARGUMENT', message);
    });
  }
});

describe('round trip (property tests)', () => {
  const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  /** Any 32-bit pattern: covers NaN payloads, ±0, ±inf, subnormals. */
  const f32Bits = (n: number) => fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: n, maxLength: n });
  const special32 = fc.constantFrom(NaN, 0, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38);
  const tensorArb: fc.Arbitrary<RawTensor> = shapeArb.chain((shape) => {
    const n = size(shape);
    return fc.oneof(
      f32Bits(n).map((bits): RawTensor => ({ dtype: 'float32', shape, data: new Float32Array(new Uint32Array(bits).buffer) })),
      fc
        .array(fc.oneof(fc.float(), special32), { minLength: n, maxLength: n })
        .map((v): RawTensor => ({ dtype: 'float32', shape, data: new Float32Array(v) })),
      fc
        .array(fc.oneof(fc.double(), fc.constantFrom(NaN, -0, Infinity, -Infinity, 5e-324)), { minLength: n, maxLength: n })
        .map((v): RawTensor => ({ dtype: 'float64', shape, data: new Float64Array(v) })),
      fc
        .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n })
        .map((v): RawTensor => ({ dtype: 'int32', shape, data: new Int32Array(v) })),
      fc
        .array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n })
        .map((v): RawTensor => ({ dtype: 'bool', shape, data: new Uint8Array(v) })),
    );
  });
  const nameArb = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => s !== '__metadata__');
  const tensorsArb = fc.dictionary(nameArb, tensorArb, { maxKeys: 6 });
  const metadataArb = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 16 }), {
    maxKeys: 4,
  });

  it('parse(serialize(x)) = x bit for bit, and serialize is a fixed point', () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const bytes = serializeSafetensors(tensors, metadata);
        expect(bytes.length % 8).toBe(Object.values(tensors).reduce((s, t) => s + t.data.byteLength, 0) % 8);
        const parsed = parseSafetensors(bytes);
        expect(parsed.metadata).toEqual(metadata);
        expect(Object.keys(parsed.tensors).sort()).toEqual(Object.keys(tensors).sort());
        for (const name of Object.keys(tensors)) {
          const a = tensors[name];
          const b = parsed.tensors[name];
          expect(b.dtype).toBe(a.dtype);
          expect(b.shape).toEqual(a.shape);
          expect(b.data.constructor).toBe(a.data.constructor);
          expect(Buffer.from(bytesOf(b.data)).equals(Buffer.from(bytesOf(a.data)))).toBe(true);
        }
        const again = serializeSafetensors(parsed.tensors, parsed.metadata);
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the header is valid JSON padded with spaces to a multiple of 8, offsets contiguous', () => {
    fc.assert(
      fc.property(tensorsArb, (tensors) => {
        const bytes = serializeSafetensors(tensors);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const raw = new TextDecoder().decode(bytes.subarray(8, 8 + n));
        expect(raw.trimEnd().endsWith('}')).toBe(true);
        expect(/^ *$/.test(raw.slice(raw.trimEnd().length))).toBe(true);
        const header = JSON.parse(raw) as Record<string, { data_offsets: [number, number] }>;
        // sorted by offset (a JS object lists integer-like names such as "0" first, whatever
        // their order in the JSON text): the spans tile the data with no holes or overlaps
        const spans = Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, e]) => e.data_offsets).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        let end = 0;
        for (const [b, e] of spans) {
          expect(b).toBe(end);
          end = e;
        }
        expect(end).toBe(bytes.length - 8 - n);
      }),
      { numRuns: 200 },
    );
  });
});

describe('fuzz: malformed input only ever raises SafetensorsError', () => {
  const valid = new Uint8Array(readFileSync(join(FIXTURES, 'golden.safetensors')));

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(parseOrSafetensorsError(bytes)).toBe('error');
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a plausible header length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 220 }), (body, n) => {
        const file = new Uint8Array(8 + body.length);
        new DataView(file.buffer).setUint32(0, n, true);
        file.set(body, 8);
        parseOrSafetensorsError(file);
      }),
      { numRuns: 2000 },
    );
  });

  it('random JSON values as the header', () => {
    fc.assert(
      fc.property(fc.json(), fc.uint8Array({ maxLength: 64 }), (json, data) => {
        parseOrSafetensorsError(buildFile(json, data));
      }),
      { numRuns: 1000 },
    );
  });

  it('header-shaped objects with random dtypes, shapes and offsets', () => {
    const entry = fc.record({
      dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'BOOL', 'U8', 'F8_E4M3', 'x'), fc.integer()),
      shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 3 }), fc.constant(null)),
      data_offsets: fc.array(fc.integer({ min: -1, max: 40 }), { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), entry, { maxKeys: 4 }), fc.uint8Array({ maxLength: 40 }), (header, data) => {
        parseOrSafetensorsError(buildFile(header, data));
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a valid file', () => {
    for (let n = 0; n < valid.length; n++) {
      expect(parseOrSafetensorsError(valid.subarray(0, n)), `prefix of ${n} bytes`).toBe('error');
    }
    expect(parseOrSafetensorsError(valid)).toBe('ok');
  });

  it('every single-byte corruption of the header length and header (several values each)', () => {
    const n = Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));
    let errors = 0;
    for (let i = 0; i < 8 + n; i++) {
      for (const v of [0x00, 0x01, 0x20, 0x22, 0x30, 0x7b, 0x7d, 0x80, 0xff, valid[i] ^ 0x01]) {
        if (v === valid[i]) continue;
        const copy = valid.slice();
        copy[i] = v;
        if (parseOrSafetensorsError(copy) === 'error') errors++;
      }
    }
    expect(errors).toBeGreaterThan(8 * n); // most corruptions are caught, none crash
  });

  it('random single-byte corruptions anywhere', () => {
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, v) => {
        const copy = valid.slice();
        copy[i] = v;
        parseOrSafetensorsError(copy);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('files and helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'safetensors-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writeSafetensorsFile then readSafetensorsFile round-trips', () => {
    const path = join(dir, 'a.safetensors');
    const tensors = { w: f32([1, 2, 3, 4], [2, 2]), ids: { dtype: 'int32' as const, shape: [2], data: new Int32Array([3, -4]) } };
    writeSafetensorsFile(path, tensors, { format: 'pt' });
    expect(new Uint8Array(readFileSync(path))).toEqual(serializeSafetensors(tensors, { format: 'pt' }));
    const back = readSafetensorsFile(path);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors).toEqual(tensors);
  });

  it('I/O failures are SafetensorsError IO naming the path', () => {
    const missing = join(dir, 'missing.safetensors');
    expectError(() => readSafetensorsFile(missing), 'IO', /readSafetensorsFile: cannot read ".*missing\.safetensors": ENOENT/);
    expectError(() => writeSafetensorsFile(join(dir, 'no', 'such', 'dir.st'), {}), 'IO', /writeSafetensorsFile: cannot write/);
  });

  it('reverseBytesInGroups swaps endianness in place and validates its group size', () => {
    const b = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    reverseBytesInGroups(b, 4);
    expect(Array.from(b)).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    reverseBytesInGroups(b, 8);
    expect(Array.from(b)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
    expectError(() => reverseBytesInGroups(b, 3), 'INVALID_ARGUMENT', /groupSize/);
    // A float32 byte-swapped twice is itself; once, it is what a big-endian host would see.
    const f = new Float32Array([1]);
    const bytes = bytesOf(f).slice();
    reverseBytesInGroups(bytes, 4);
    expect(Array.from(bytes)).toEqual([0x3f, 0x80, 0, 0]);
  });

  it('SafetensorsError is an Error with name and code', () => {
    const e = new SafetensorsError('IO', 'x');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SafetensorsError');
    expect(e.code).toBe('IO');
  });
});
