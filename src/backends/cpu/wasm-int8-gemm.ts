/**
 * An int8 GEMM in WebAssembly SIMD, assembled at run time (as wasm-gemm.ts assembles the float32
 * one): C = A·Bᵀ with A (M, K) and B (N, K) int8, row-major, and C (M, N) int32 — the integer
 * core of dynamic quantization (Jacob et al. 2018, "Quantization and Training of Neural Networks
 * for Efficient Integer-Arithmetic-Only Inference", §2.3: int8 × int8 products summed in int32).
 *
 * Both operands are K-contiguous (B is nn.Linear's weight layout, one output channel per row), so
 * the micro-kernel is a tile of dot products. Per 16 k's it loads 16 int8 of each of MR rows of A
 * and NR rows of B, widens them to int16 (i16x8.extend_{low,high}_i8x16_s) and multiplies pairs
 * with i32x4.dot_i16x8_s, which sums adjacent int16 products into four int32 lanes:
 *
 *   acc[x][y] += dot(lo(a_x), lo(b_y)) + dot(hi(a_x), hi(b_y))     (8 + 8 k's, 4 int32 lanes)
 *   C[i+x, j+y] = Σ lanes acc[x][y]                                  (at the end of K)
 *
 * Every step is exact integer arithmetic: |a·b| ≤ 127·128 fits int16 products' int32 pair sums,
 * and the int32 total cannot overflow while K·128² < 2³¹ (K ≤ 131071, checked by the caller), so
 * the result is bit-identical to the plain loop Σₖ a[i,k]·b[j,k] (`int8GemmReference`).
 *
 * gemm(a, b, c, mp, np, kp): mp, np multiples of MR, NR; kp a multiple of 16 (the caller pads
 * with zero rows / columns, which add nothing); a, b, c byte addresses; C row stride np·4 bytes.
 */

import { I32, name, op, PAGE, section, uleb, V128, vec, wasmApi, type WasmMemory } from './wasm-asm.js';

/** i16x8.extend_low_i8x16_s / extend_high, i32x4.dot_i16x8_s, i32x4.extract_lane (SIMD opcode table). */
const simd = {
  extendLowS: (): number[] => [0xfd, ...uleb(0x87)],
  extendHighS: (): number[] => [0xfd, ...uleb(0x88)],
  dotI16x8S: (): number[] => [0xfd, ...uleb(0xba)],
  i32x4ExtractLane: (lane: number): number[] => [0xfd, ...uleb(0x1b), lane],
};

/** The largest K whose int32 sums cannot overflow: K·128·128 < 2³¹ (−128·−128 is the largest product). */
export const INT8_GEMM_MAX_K = Math.floor((2 ** 31 - 1) / (128 * 128));

/** The bytes of a module importing `env.mem` and exporting `gemm(a, b, c, mp, np, kp)`. */
export function buildInt8GemmModule(mr: number, nr: number): Uint8Array {
  if (!(Number.isInteger(mr) && Number.isInteger(nr) && mr >= 1 && nr >= 1)) throw new Error(`wasm int8 gemm: bad tile ${mr}×${nr}`);
  const body = gemmBody(mr, nr);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array<number[]>(6).fill([I32])), ...vec([])]])), // (i32×6) → ()
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...name('gemm'), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ];
  return new Uint8Array(bytes);
}

function gemmBody(mr: number, nr: number): number[] {
  const A = 0, B = 1, C = 2, MP = 3, NP = 4, KP = 5; // params
  const I = 6, J = 7, K = 8, PC = 9; // i32 locals
  const PA = (x: number) => 10 + x; // pointer into row i+x of A
  const PB = (y: number) => 10 + mr + y; // pointer into row j+y of B
  const nI32 = 4 + mr + nr;
  const V0 = 6 + nI32;
  const acc = (x: number, y: number) => V0 + x * nr + y;
  const BL = (y: number) => V0 + mr * nr + 2 * y;
  const BH = (y: number) => V0 + mr * nr + 2 * y + 1;
  const AL = V0 + mr * nr + 2 * nr;
  const AH = AL + 1;
  const nV = mr * nr + 2 * nr + 2;
  const b: number[] = [];
  const emit = (...parts: number[][]): void => { for (const p of parts) b.push(...p); };
  emit(op.i32(0), op.set(I));
  emit(op.loop()); // I
  {
    emit(op.i32(0), op.set(J));
    emit(op.loop()); // J
    {
      for (let x = 0; x < mr; x++) for (let y = 0; y < nr; y++) emit(op.v128Zero(), op.set(acc(x, y)));
      // PA(x) = a + (i + x)·kp; PB(y) = b + (j + y)·kp
      for (let x = 0; x < mr; x++) emit(op.get(A), op.get(I), op.i32(x), op.i32Add(), op.get(KP), op.i32Mul(), op.i32Add(), op.set(PA(x)));
      for (let y = 0; y < nr; y++) emit(op.get(B), op.get(J), op.i32(y), op.i32Add(), op.get(KP), op.i32Mul(), op.i32Add(), op.set(PB(y)));
      emit(op.get(KP), op.i32(4), [0x76] /* i32.shr_u */, op.set(K)); // kp/16 steps
      emit(op.loop()); // K
      {
        for (let y = 0; y < nr; y++) {
          emit(op.get(PB(y)), op.v128Load(0), op.tee(BH(y)), simd.extendLowS(), op.set(BL(y)));
          emit(op.get(BH(y)), simd.extendHighS(), op.set(BH(y)));
        }
        for (let x = 0; x < mr; x++) {
          emit(op.get(PA(x)), op.v128Load(0), op.tee(AH), simd.extendLowS(), op.set(AL));
          emit(op.get(AH), simd.extendHighS(), op.set(AH));
          for (let y = 0; y < nr; y++) {
            emit(op.get(acc(x, y)), op.get(AL), op.get(BL(y)), simd.dotI16x8S(), op.i32x4Add());
            emit(op.get(AH), op.get(BH(y)), simd.dotI16x8S(), op.i32x4Add(), op.set(acc(x, y)));
          }
        }
        for (let x = 0; x < mr; x++) emit(op.get(PA(x)), op.i32(16), op.i32Add(), op.set(PA(x)));
        for (let y = 0; y < nr; y++) emit(op.get(PB(y)), op.i32(16), op.i32Add(), op.set(PB(y)));
        emit(op.get(K), op.i32(1), op.i32Sub(), op.tee(K), op.brIf(0));
      }
      emit(op.end());
      // C[i+x, j+y] = the four lanes' sum; pc = c + ((i+x)·np + j)·4
      for (let x = 0; x < mr; x++) {
        emit(op.get(C), op.get(I), op.i32(x), op.i32Add(), op.get(NP), op.i32Mul(), op.get(J), op.i32Add(), op.i32(4), op.i32Mul(), op.i32Add(), op.set(PC));
        for (let y = 0; y < nr; y++) {
          emit(op.get(PC), op.i32(4 * y), op.i32Add());
          emit(op.get(acc(x, y)), simd.i32x4ExtractLane(0), op.get(acc(x, y)), simd.i32x4ExtractLane(1), op.i32Add());
          emit(op.get(acc(x, y)), simd.i32x4ExtractLane(2), op.i32Add(), op.get(acc(x, y)), simd.i32x4ExtractLane(3), op.i32Add());
          emit(op.i32Store());
        }
      }
      emit(op.get(J), op.i32(nr), op.i32Add(), op.tee(J), op.get(NP), op.i32LtU(), op.brIf(0));
    }
    emit(op.end());
    emit(op.get(I), op.i32(mr), op.i32Add(), op.tee(I), op.get(MP), op.i32LtU(), op.brIf(0));
  }
  emit(op.end());
  emit(op.end());
  return [...vec([[...uleb(nI32), I32], [...uleb(nV), V128]]), ...b];
}

/**
 * The integer reference: C[i, j] = Σₖ a[i, k]·b[j, k] (plain JS; every partial sum is an integer
 * below 2³¹ in magnitude, so float64 arithmetic is exact). The plain-JS fallback of the kernel.
 */
export function int8GemmReference(a: Int8Array, b: Int8Array, m: number, n: number, k: number): Int32Array {
  const c = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let t = 0; t < k; t++) s += a[ai + t]! * b[bj + t]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

let supported: boolean | undefined;
/** True when the runtime validates the wasm SIMD int8 module. */
export function wasmInt8GemmSupported(): boolean {
  if (supported === undefined) {
    try {
      supported = wasmApi !== undefined && wasmApi.validate(buildInt8GemmModule(1, 1));
    } catch {
      supported = false;
    }
  }
  return supported;
}

type GemmFn = (a: number, b: number, c: number, mp: number, np: number, kp: number) => void;

/** One instantiated int8 kernel with its own memory, grown to the largest product seen. */
export class WasmInt8GemmKernel {
  readonly mr: number;
  readonly nr: number;
  private readonly memory: WasmMemory;
  private readonly fn: GemmFn;

  constructor(mr = 4, nr = 2) {
    if (wasmApi === undefined) throw new Error('wasm int8 gemm: this runtime has no WebAssembly');
    this.mr = mr;
    this.nr = nr;
    this.memory = new wasmApi.Memory({ initial: 1 });
    const inst = new wasmApi.Instance(new wasmApi.Module(buildInt8GemmModule(mr, nr)), { env: { mem: this.memory } });
    this.fn = inst.exports['gemm'] as GemmFn;
  }

  /** C (M, N) int32 = A (M, K) int8 · B (N, K) int8 ᵀ, both row-major. */
  gemm(a: Int8Array, b: Int8Array, m: number, n: number, k: number): Int32Array {
    const mp = Math.ceil(m / this.mr) * this.mr;
    const np = Math.ceil(n / this.nr) * this.nr;
    const kp = Math.ceil(k / 16) * 16;
    const out = new Int32Array(m * n);
    if (m === 0 || n === 0) return out;
    if (k === 0) return out;
    const aBytes = mp * kp;
    const bBytes = np * kp;
    const aOff = 0;
    const bOff = aBytes; // multiples of 16: kp is
    const cOff = bOff + bBytes;
    const need = cOff + mp * np * 4;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / PAGE));
    const heap = new Int8Array(this.memory.buffer);
    copyPadded(heap, aOff, a, m, k, mp, kp);
    copyPadded(heap, bOff, b, n, k, np, kp);
    this.fn(aOff, bOff, cOff, mp, np, kp);
    const c = new Int32Array(this.memory.buffer, cOff, mp * np);
    if (np === n) out.set(c.subarray(0, m * n));
    else for (let i = 0; i < m; i++) out.set(c.subarray(i * np, i * np + n), i * n);
    return out;
  }
}

/** Copies a rows×cols int8 matrix into a zero-padded rowsP×colsP one at heap[off]. */
function copyPadded(heap: Int8Array, off: number, src: Int8Array, rows: number, cols: number, rowsP: number, colsP: number): void {
  if (cols === colsP) heap.set(src.subarray(0, rows * cols), off);
  else {
    for (let r = 0; r < rows; r++) {
      heap.set(src.subarray(r * cols, r * cols + cols), off + r * colsP);
      heap.fill(0, off + r * colsP + cols, off + (r + 1) * colsP);
    }
  }
  heap.fill(0, off + rows * colsP, off + rowsP * colsP);
}
