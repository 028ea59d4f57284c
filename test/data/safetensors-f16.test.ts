import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { f32BitsToF16Bits, parseSafetensors, serializeSafetensors } from '../../src/data/safetensors-format.js';

// torch 1.13 `.half()` bits for edge values (ties, subnormals, overflow, ±∞): test/fixtures/f16/gen_half.py
const fx = JSON.parse(readFileSync(new URL('../fixtures/f16/half.json', import.meta.url), 'utf8')) as { f32bits: number[]; f16bits: number[] };

describe('float32 → float16 (safetensors F16 writer)', () => {
  it('rounds exactly as torch .half() (nearest-even, subnormals, overflow to ∞)', () => {
    expect(fx.f32bits.map((b) => f32BitsToF16Bits(b))).toEqual(fx.f16bits);
  });
  it('NaN stays NaN', () => {
    const h = f32BitsToF16Bits(0x7fc00000);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
  });
  it('every half value survives f16 → f32 → f16', () => {
    const { tensors } = parseSafetensors(serializeSafetensors({ x: { dtype: 'float32', shape: [3], data: new Float32Array([1.5, -0.1, 7e4]) } }, undefined, { float32As: 'F16' }));
    const back = tensors.x!.data as Float32Array;
    expect([...back]).toEqual([1.5, Math.fround(-0.0999755859375), Infinity]);
    // 65536 distinct halves, minus NaNs: decode each and re-encode
    const bits = new Uint8Array(2 * 65536);
    for (let i = 0; i < 65536; i++) { bits[2 * i] = i & 0xff; bits[2 * i + 1] = i >> 8; }
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [65536], data_offsets: [0, bits.length] } });
    const hb = new TextEncoder().encode(header.padEnd(Math.ceil(header.length / 8) * 8, ' '));
    const file = new Uint8Array(8 + hb.length + bits.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(hb.length), true);
    file.set(hb, 8); file.set(bits, 8 + hb.length);
    const f = parseSafetensors(file).tensors.h!.data as Float32Array;
    const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (!isNaN) expect(f32BitsToF16Bits(u[i]!)).toBe(i);
    }
  });
  it('rejects an unknown float32As', () => {
    expect(() => serializeSafetensors({}, undefined, { float32As: 'F8' as never })).toThrow(/float32As must be 'F32' or 'F16', got/);
  });
});
