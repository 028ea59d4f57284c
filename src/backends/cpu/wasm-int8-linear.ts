/**
 * The fused int8 dynamic-quantization Linear in WebAssembly SIMD, assembled at run time (as
 * wasm-gemm.ts assembles the float32 GEMM): per-row activation quantization, the int8 GEMM against
 * a weight packed once at quantize time, and the int32 → float32 rescale + bias, in two wasm calls
 * with no JavaScript loop over elements. The arithmetic is Jacob et al. 2018 ("Quantization and
 * Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference", §2.2–2.3) as in
 * PyTorch's x86 dynamic quantization (fbgemm `quantized::linear_dynamic` with reduce_range=True):
 *
 *   activations, per row r (asymmetric, 7 bits: codes u ∈ [0, 127], integer zero point z):
 *     lo = min(0, minᵢ x[r, i]),  hi = max(0, maxᵢ x[r, i])                    (float32)
 *     s[r] = fp32(fp32(hi − lo) / 127)   (1 if that is 0)
 *     z[r] = min(127, roundHalfEven(fp32(−lo / s[r])))
 *     u[r, i] = clamp(roundHalfEven(fp32(x[r, i] / s[r])) + z[r], 0, 127)
 *   weights (once, per output channel, symmetric 8 bits): W_q ∈ [−127, 127], scale s_w[o]
 *   integer product:  acc[r, o] = Σᵢ (u[r, i] − z[r])·W_q[o, i] = Σᵢ u·W_q − z[r]·colsum[o]   (exact int32)
 *   rescale:          y[r, o] = fp32(acc[r, o]·(s[r]·s_w[o]) + b[o])            (float64, rounded once)
 *
 * Why 7 bits: the relaxed-SIMD dot product i16x8.relaxed_dot_i8x16_i7x16_s (16 byte products,
 * summed in adjacent pairs into 8 int16 lanes) is deterministic only when its second operand's bytes
 * lie in [0, 127] — on x86 it is pmaddubsw (unsigned × signed bytes, int16 pair sums that saturate);
 * elsewhere signed or unsigned widening multiplies, which agree for bytes in [0, 127]. With u ≤ 127 and |W_q| ≤ 127 a pair sum is at most 2·127·127 = 32258 < 2¹⁵, so
 * nothing saturates and every engine returns the exact sum. This is PyTorch's reason for
 * reduce_range on x86: torch/ao/quantization/observer.py (torch 1.13), MinMaxObserver: "For x86
 * quantized kernels, we need to ensure that the vpmaddubsw instruction does not overflow. We allow
 * for a reduce_range argument to observers that reduces the quantized range to (0,127) or
 * (-64, 63)"; and torch.ao.nn.quantized.dynamic.Linear.forward calls
 * torch.ops.quantized.linear_dynamic(x, packed_params, reduce_range=True), so fbgemm quantizes the
 * activations to quint8 in [0, 127] (docs: MinMaxObserver's reduce_range "Reduces the range of the
 * quantized data type by 1 bit", https://pytorch.org/docs/stable/generated/torch.ao.quantization.observer.MinMaxObserver.html).
 * The int16 pair sums are widened and added in pairs by i32x4.dot_i16x8_s with a vector of ones
 * (pmaddwd) and added to the int32 accumulator: 16 multiply-adds in three instructions. (The fused
 * i32x4.relaxed_dot_i8x16_i7x16_add_s would be one instruction with AVX-VNNI, but Node 20.20's V8
 * 11.3 miscompiles it once a tile has more than one row — lanes come back holding its internal
 * 0x0001 constant — and on CPUs without AVX-VNNI it lowers to the same three instructions.)
 *
 * Where the runtime has no relaxed SIMD the same packed layout runs on plain SIMD: the weights are
 * widened to int16 (i16x8.extend_{low,high}_i8x16_s), the 4 broadcast activation bytes too
 * (extend_low_i8x16_u), i32x4.dot_i16x8_s sums pairs into two accumulators per tile vector, and the
 * epilogue adds the pairs (two i8x16.shuffle + i32x4.add) — the same exact integers.
 *
 * Packed weight (packInt8Weight; NR = 8 output channels per panel, k in groups of 4, K padded to
 * KP = ⌈K/16⌉·16 with zeros, N padded to NP = ⌈N/8⌉·8 with zero channels):
 *   byte (o, k) at  (o div 8)·8·KP + (k div 4)·32 + (o mod 8)·4 + (k mod 4)
 * so the 32 bytes of one k-group of a panel are two v128 of 4 channels × 4 k's, and one
 * v128.load32_splat of 4 activation bytes meets them in relaxed_dot lanes = output channels.
 *
 * Exports (all addresses in bytes):
 *   quantize(x, m, k, kp, u, sx, zx) → i32   rows of x (f32, row stride k) → u (row stride kp,
 *       padding zeroed), sx (f32), zx (i32); returns the first row whose range is not finite, else −1
 *   gemm(u, wp, out, mp, np, kp, mode, zx, sx, colsum, sw, bias, mc)
 *       mode 0: out (int32, row stride np) = u·W_qᵀ (raw codes, no zero-point correction)
 *       mode 1: out (f32, row stride np) = the rescaled y above; sw, bias f32[np]
 *       loops: row blocks of mc rows → panels of NR channels → MR-row tiles (GotoBLAS order:
 *       a panel of W (8·KP bytes) stays in L1 while the block's activation rows stream from L2)
 */

import { F32, I32, MAX_PAGES, name, op, PAGE, section, uleb, V128, vec, wasmApi, type WasmMemory } from './wasm-asm.js';
import type { WasmArena } from './arena.js';
import type { PackedInt8Weight } from '../contract.js';
import { wasmSimdSupported } from './wasm-gemm.js';

export type { PackedInt8Weight };

/** Output channels per packed panel. */
export const INT8_NR = 8;
/** K is padded to a multiple of this (4 k's per dot group, 4 groups per unrolled step). */
export const INT8_KSTEP = 16;

const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm];
const s = {
  f32x4Min: () => simd(0xe8), f32x4Max: () => simd(0xe9), f32x4Nearest: () => simd(0x6a), f32x4Div: () => simd(0xe7),
  f32x4ExtractLane: (l: number) => simd(0x1f, l), f32x4Splat: () => simd(0x13),
  i32x4TruncSatF32x4S: () => simd(0xf8), i16x8NarrowI32x4S: () => simd(0x85), i8x16NarrowI16x8U: () => simd(0x66),
  i8x16MinU: () => simd(0x77), i8x16Splat: () => simd(0x0f), i32x4Splat: () => simd(0x11),
  i32x4Add: () => simd(0xae), i32x4Sub: () => simd(0xb1), i32x4Mul: () => simd(0xb5),
  i16x8ExtendLowI8x16S: () => simd(0x87), i16x8ExtendHighI8x16S: () => simd(0x88), i16x8ExtendLowI8x16U: () => simd(0x89),
  i32x4DotI16x8S: () => simd(0xba),
  /** relaxed SIMD: 8 int16 lanes, each the sum of 2 adjacent a·b (a signed, b in [0, 127]) */
  i16x8RelaxedDotI8x16I7x16S: () => simd(0x112),
  i16x8Splat: () => simd(0x10),
  f64x2ConvertLowI32x4S: () => simd(0xfe), f64x2PromoteLowF32x4: () => simd(0x5f), f32x4DemoteF64x2Zero: () => simd(0x5e),
  f64x2Splat: () => simd(0x14), f64x2Mul: () => simd(0xf2), f64x2Add: () => simd(0xf0),
  v128Load: (off: number) => simd(0x00, 4, ...uleb(off)), v128Store: (off: number) => simd(0x0b, 4, ...uleb(off)),
  v128Load64Zero: (off: number) => simd(0x5d, 3, ...uleb(off)), load32Splat: (off: number) => simd(0x09, 2, ...uleb(off)),
  shuffle: (lanes: readonly number[]) => simd(0x0d, ...lanes),
  v128Zero: () => simd(0x0c, ...new Array<number>(16).fill(0)),
};
const sc = {
  f32Load: (off = 0) => [0x2a, 2, ...uleb(off)], f32Store: (off = 0) => [0x38, 2, ...uleb(off)],
  i32Load: (off = 0) => [0x28, 2, ...uleb(off)], i32Store: (off = 0) => [0x36, 2, ...uleb(off)], i32Store8: () => [0x3a, 0, 0],
  f32Min: () => [0x96], f32Max: () => [0x97], f32Sub: () => [0x93], f32Div: () => [0x95], f32Neg: () => [0x8c], f32Nearest: () => [0x90],
  f32Ne: () => [0x5c], f32Eq: () => [0x5b], f32Const: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  i32TruncF32S: () => [0xa8], f64PromoteF32: () => [0xbb], i32LeS: () => [0x4c], i32GtS: () => [0x4a], i32LtS: () => [0x48],
  i32Shl: () => [0x74], ret: () => [0x0f],
};

/** Options of {@link buildInt8LinearModule}. */
export interface Int8LinearModuleOptions {
  /** Rows of the register tile. */
  mr: number;
  /** i32x4.relaxed_dot_i8x16_i7x16_add_s (true) or the plain-SIMD dot_i16x8_s emulation (false). */
  relaxed: boolean;
  /** Import a shared memory (the float32 arena's, in Node) instead of a private one (default false). */
  shared?: boolean;
}

/** The bytes of a module importing `env.mem` and exporting `quantize` and `gemm` (see the file header). */
export function buildInt8LinearModule({ mr, relaxed, shared = false }: Int8LinearModuleOptions): Uint8Array {
  if (!(Number.isInteger(mr) && mr >= 1 && mr <= 8)) throw new Error(`wasm int8 linear: bad tile rows ${mr} (1–8)`);
  const q = quantizeBody();
  const g = gemmBody(mr, relaxed);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([
      [0x60, ...vec(new Array<number[]>(7).fill([I32])), ...vec([[I32]])], // quantize: (i32×7) → i32
      [0x60, ...vec(new Array<number[]>(13).fill([I32])), ...vec([])], // gemm: (i32×13) → ()
    ])),
    // memory limits: flags 0x00 {min}, 0x03 {min, max, shared} (as the float32 GEMM's, wasm-gemm.ts)
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, ...(shared ? [0x03, ...uleb(1), ...uleb(MAX_PAGES)] : [0x00, ...uleb(1)])]])),
    ...section(3, vec([uleb(0), uleb(1)])),
    ...section(7, vec([[...name('quantize'), 0x00, ...uleb(0)], [...name('gemm'), 0x00, ...uleb(1)]])),
    ...section(10, vec([[...uleb(q.length), ...q], [...uleb(g.length), ...g]])),
  ];
  return new Uint8Array(bytes);
}

/** `quantize(x, m, k, kp, u, sx, zx) → i32`, the per-row 7-bit activation quantizer. */
function quantizeBody(): number[] {
  const X = 0, M = 1, K = 2, KP = 3, U = 4, SX = 5, ZX = 6; // params
  const R = 7, PX = 8, PU = 9, KK = 10, Z = 11, C = 12; // i32 locals
  const LO = 13, HI = 14, S = 15, F = 16; // f32 locals
  const VMIN = 17, VMAX = 18, SV = 19, ZV = 20, Q0 = 21, VT = 25; // v128 locals (Q0..Q0+3)
  const b: number[] = [];
  const emit = (...parts: number[][]): void => { for (const p of parts) b.push(...p); };
  // rounded quotient plus zero point of the vector at C + off: trunc_sat(nearest(v / s)) + z
  const code = (off: number): number[][] => [op.get(C), s.v128Load(off), op.get(SV), s.f32x4Div(), s.f32x4Nearest(), s.i32x4TruncSatF32x4S(), op.get(ZV), s.i32x4Add()];
  emit(op.i32(0), op.set(R));
  emit(op.block(), op.loop()); // rows
  {
    emit(op.get(R), op.get(M), op.i32GeS(), op.brIf(1));
    emit(op.get(X), op.get(R), op.get(K), op.i32Mul(), op.i32(2), sc.i32Shl(), op.i32Add(), op.set(PX));
    // lo = min(0, row), hi = max(0, row): vector part from zero, NaN-propagating (wasm min / max)
    emit(s.v128Zero(), op.tee(VMIN), op.set(VMAX), op.i32(0), op.set(KK));
    emit(op.block(), op.loop());
    emit(op.get(KK), op.i32(4), op.i32Add(), op.get(K), sc.i32GtS(), op.brIf(1));
    emit(op.get(PX), op.get(KK), op.i32(2), sc.i32Shl(), op.i32Add(), s.v128Load(0), op.set(VT));
    emit(op.get(VMIN), op.get(VT), s.f32x4Min(), op.set(VMIN), op.get(VMAX), op.get(VT), s.f32x4Max(), op.set(VMAX));
    emit(op.get(KK), op.i32(4), op.i32Add(), op.set(KK), op.br(0));
    emit(op.end(), op.end());
    emit(op.get(VMIN), s.f32x4ExtractLane(0), op.get(VMIN), s.f32x4ExtractLane(1), sc.f32Min(), op.get(VMIN), s.f32x4ExtractLane(2), op.get(VMIN), s.f32x4ExtractLane(3), sc.f32Min(), sc.f32Min(), op.set(LO));
    emit(op.get(VMAX), s.f32x4ExtractLane(0), op.get(VMAX), s.f32x4ExtractLane(1), sc.f32Max(), op.get(VMAX), s.f32x4ExtractLane(2), op.get(VMAX), s.f32x4ExtractLane(3), sc.f32Max(), sc.f32Max(), op.set(HI));
    emit(op.block(), op.loop()); // the k % 4 tail
    emit(op.get(KK), op.get(K), op.i32GeS(), op.brIf(1));
    emit(op.get(PX), op.get(KK), op.i32(2), sc.i32Shl(), op.i32Add(), sc.f32Load(), op.set(F));
    emit(op.get(LO), op.get(F), sc.f32Min(), op.set(LO), op.get(HI), op.get(F), sc.f32Max(), op.set(HI));
    emit(op.get(KK), op.i32(1), op.i32Add(), op.set(KK), op.br(0));
    emit(op.end(), op.end());
    // s = (hi − lo)/127; a NaN or infinite s (a non-finite value, or a range beyond float32) stops here
    emit(op.get(HI), op.get(LO), sc.f32Sub(), sc.f32Const(127), sc.f32Div(), op.tee(S), op.get(S), sc.f32Sub(), sc.f32Const(0), sc.f32Ne(), op.if());
    emit(op.get(R), sc.ret());
    emit(op.end());
    emit(sc.f32Const(1), op.get(S), op.get(S), sc.f32Const(0), sc.f32Eq(), op.select(), op.set(S));
    // z = min(127, nearest(−lo / s)) ≥ 0
    emit(op.get(LO), sc.f32Neg(), op.get(S), sc.f32Div(), sc.f32Nearest(), sc.f32Const(127), sc.f32Min(), sc.i32TruncF32S(), op.set(Z));
    emit(op.get(SX), op.get(R), op.i32(2), sc.i32Shl(), op.i32Add(), op.get(S), sc.f32Store());
    emit(op.get(ZX), op.get(R), op.i32(2), sc.i32Shl(), op.i32Add(), op.get(Z), sc.i32Store());
    // codes, 16 at a time: four i32x4 → two saturating i16x8 → one saturating u8x16 in [0, 255] → min 127
    emit(op.get(S), s.f32x4Splat(), op.set(SV), op.get(Z), s.i32x4Splat(), op.set(ZV));
    emit(op.get(U), op.get(R), op.get(KP), op.i32Mul(), op.i32Add(), op.set(PU), op.i32(0), op.set(KK));
    emit(op.block(), op.loop());
    {
      emit(op.get(KK), op.i32(16), op.i32Add(), op.get(K), sc.i32GtS(), op.brIf(1));
      emit(op.get(PX), op.get(KK), op.i32(2), sc.i32Shl(), op.i32Add(), op.set(C));
      for (let j = 0; j < 4; j++) emit(...code(16 * j), op.set(Q0 + j));
      emit(op.get(PU), op.get(KK), op.i32Add());
      emit(op.get(Q0), op.get(Q0 + 1), s.i16x8NarrowI32x4S(), op.get(Q0 + 2), op.get(Q0 + 3), s.i16x8NarrowI32x4S(), s.i8x16NarrowI16x8U());
      emit(op.i32(127), s.i8x16Splat(), s.i8x16MinU(), s.v128Store(0));
      emit(op.get(KK), op.i32(16), op.i32Add(), op.set(KK), op.br(0));
    }
    emit(op.end(), op.end());
    emit(op.block(), op.loop()); // the k % 16 tail, one at a time
    {
      emit(op.get(KK), op.get(K), op.i32GeS(), op.brIf(1));
      emit(op.get(PX), op.get(KK), op.i32(2), sc.i32Shl(), op.i32Add(), sc.f32Load(), op.get(S), sc.f32Div(), sc.f32Nearest(), sc.i32TruncF32S(), op.get(Z), op.i32Add(), op.set(C));
      emit(op.i32(0), op.get(C), op.get(C), op.i32(0), sc.i32LtS(), op.select(), op.set(C));
      emit(op.i32(127), op.get(C), op.get(C), op.i32(127), sc.i32GtS(), op.select(), op.set(C));
      emit(op.get(PU), op.get(KK), op.i32Add(), op.get(C), sc.i32Store8());
      emit(op.get(KK), op.i32(1), op.i32Add(), op.set(KK), op.br(0));
    }
    emit(op.end(), op.end());
    emit(op.block(), op.loop()); // zero the padding k ∈ [k, kp)
    {
      emit(op.get(KK), op.get(KP), op.i32GeS(), op.brIf(1));
      emit(op.get(PU), op.get(KK), op.i32Add(), op.i32(0), sc.i32Store8());
      emit(op.get(KK), op.i32(1), op.i32Add(), op.set(KK), op.br(0));
    }
    emit(op.end(), op.end());
    emit(op.get(R), op.i32(1), op.i32Add(), op.set(R), op.br(0));
  }
  emit(op.end(), op.end());
  emit(op.i32(-1));
  emit(op.end());
  return [...vec([[...uleb(6), I32], [...uleb(4), F32], [...uleb(4 + 4 + 1), V128]]), ...b];
}

/** `gemm(u, wp, out, mp, np, kp, mode, zx, sx, colsum, sw, bias, mc)`, see the file header. */
function gemmBody(mr: number, relaxed: boolean): number[] {
  const nv = INT8_NR / 4; // v128 per panel row of 4 channels: 2
  const U = 0, WP = 1, OUT = 2, MP = 3, NP = 4, KP = 5, MODE = 6, ZX = 7, SX = 8, CS = 9, SW = 10, BIAS = 11, MC = 12; // params
  const I0 = 13, IEND = 14, J = 15, I = 16, K = 17, PB = 18, ROW = 19; // i32 locals
  const PA = (x: number) => 20 + x;
  const nI32 = 7 + mr;
  const V0 = 13 + nI32;
  const parts = relaxed ? 1 : 2; // accumulators per tile vector (plain SIMD: dot pairs of the low / high 2 channels)
  const acc = (x: number, y: number, p = 0) => V0 + (x * nv + y) * parts + p;
  let nextV = V0 + mr * nv * parts;
  const W = Array.from({ length: nv }, () => nextV++); // weight vectors of the group
  const WH = Array.from({ length: nv }, () => nextV++); // plain SIMD: widened high halves
  const AV = nextV++; // broadcast activation bytes
  const T = nextV++, T2 = nextV++; // epilogue temporaries
  const SWL = Array.from({ length: nv }, () => nextV++), SWH = Array.from({ length: nv }, () => nextV++);
  const BL = Array.from({ length: nv }, () => nextV++), BH = Array.from({ length: nv }, () => nextV++);
  const SD = nextV++, ZV = nextV++, ONES = nextV++;
  const nV = nextV - V0;
  const b: number[] = [];
  const emit = (...parts_: number[][]): void => { for (const p of parts_) b.push(...p); };
  const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
  const ODD = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
  const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const JOIN = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

  emit(op.i32(1), s.i16x8Splat(), op.set(ONES));
  emit(op.i32(0), op.set(I0));
  emit(op.loop()); // row blocks
  {
    emit(op.get(I0), op.get(MC), op.i32Add(), op.tee(IEND), op.get(MP), op.get(IEND), op.get(MP), sc.i32LtS(), op.select(), op.set(IEND));
    emit(op.i32(0), op.set(J));
    emit(op.loop()); // panels
    {
      // epilogue constants of the panel (mode 1): s_w and bias as float64 pairs
      emit(op.get(MODE), op.if());
      for (let y = 0; y < nv; y++) {
        const at = (base: number, off: number): number[][] => [op.get(base), op.get(J), op.i32(2), sc.i32Shl(), op.i32Add(), s.v128Load64Zero(off), s.f64x2PromoteLowF32x4()];
        emit(...at(SW, 16 * y), op.set(SWL[y]!), ...at(SW, 16 * y + 8), op.set(SWH[y]!));
        emit(...at(BIAS, 16 * y), op.set(BL[y]!), ...at(BIAS, 16 * y + 8), op.set(BH[y]!));
      }
      emit(op.end());
      emit(op.get(I0), op.set(I));
      emit(op.loop()); // MR-row tiles
      {
        for (let x = 0; x < mr; x++) for (let y = 0; y < nv; y++) for (let p = 0; p < parts; p++) emit(s.v128Zero(), op.set(acc(x, y, p)));
        for (let x = 0; x < mr; x++) emit(op.get(U), op.get(I), op.i32(x), op.i32Add(), op.get(KP), op.i32Mul(), op.i32Add(), op.set(PA(x)));
        emit(op.get(WP), op.get(J), op.get(KP), op.i32Mul(), op.i32Add(), op.set(PB));
        emit(op.get(KP), op.i32(4), [0x76], op.set(K)); // kp/16 steps of 4 groups
        emit(op.loop());
        {
          for (let g = 0; g < 4; g++) {
            for (let y = 0; y < nv; y++) {
              emit(op.get(PB), s.v128Load(g * INT8_NR * 4 + 16 * y), op.set(W[y]!));
              if (!relaxed) emit(op.get(W[y]!), s.i16x8ExtendHighI8x16S(), op.set(WH[y]!), op.get(W[y]!), s.i16x8ExtendLowI8x16S(), op.set(W[y]!));
            }
            for (let x = 0; x < mr; x++) {
              emit(op.get(PA(x)), s.load32Splat(4 * g));
              if (!relaxed) emit(s.i16x8ExtendLowI8x16U());
              emit(op.set(AV));
              for (let y = 0; y < nv; y++) {
                // relaxed: i16 pair sums (pmaddubsw), widened and summed in pairs by a dot with ones (pmaddwd)
                if (relaxed) emit(op.get(acc(x, y)), op.get(W[y]!), op.get(AV), s.i16x8RelaxedDotI8x16I7x16S(), op.get(ONES), s.i32x4DotI16x8S(), s.i32x4Add(), op.set(acc(x, y)));
                else {
                  emit(op.get(acc(x, y, 0)), op.get(W[y]!), op.get(AV), s.i32x4DotI16x8S(), s.i32x4Add(), op.set(acc(x, y, 0)));
                  emit(op.get(acc(x, y, 1)), op.get(WH[y]!), op.get(AV), s.i32x4DotI16x8S(), s.i32x4Add(), op.set(acc(x, y, 1)));
                }
              }
            }
          }
          for (let x = 0; x < mr; x++) emit(op.get(PA(x)), op.i32(16), op.i32Add(), op.set(PA(x)));
          emit(op.get(PB), op.i32(16 * INT8_NR), op.i32Add(), op.set(PB));
          emit(op.get(K), op.i32(1), op.i32Sub(), op.tee(K), op.brIf(0));
        }
        emit(op.end());
        // plain SIMD: acc = even lanes + odd lanes of (low-half, high-half) pair sums → 4 channels
        if (!relaxed) {
          for (let x = 0; x < mr; x++) for (let y = 0; y < nv; y++) {
            emit(op.get(acc(x, y, 0)), op.get(acc(x, y, 1)), s.shuffle(EVEN), op.get(acc(x, y, 0)), op.get(acc(x, y, 1)), s.shuffle(ODD), s.i32x4Add(), op.set(acc(x, y, 0)));
          }
        }
        // store the tile: row I+x at out + ((I+x)·np + J)·4
        for (let x = 0; x < mr; x++) {
          emit(op.get(OUT), op.get(I), op.i32(x), op.i32Add(), op.get(NP), op.i32Mul(), op.get(J), op.i32Add(), op.i32(2), sc.i32Shl(), op.i32Add(), op.set(ROW));
          emit(op.get(MODE), op.if());
          {
            // y = fp32(f64(acc − z·colsum)·(s·s_w) + b)
            emit(op.get(ZX), op.get(I), op.i32(x), op.i32Add(), op.i32(2), sc.i32Shl(), op.i32Add(), sc.i32Load(), s.i32x4Splat(), op.set(ZV));
            emit(op.get(SX), op.get(I), op.i32(x), op.i32Add(), op.i32(2), sc.i32Shl(), op.i32Add(), sc.f32Load(), sc.f64PromoteF32(), s.f64x2Splat(), op.set(SD));
            for (let y = 0; y < nv; y++) {
              emit(op.get(acc(x, y)), op.get(ZV), op.get(CS), op.get(J), op.i32(2), sc.i32Shl(), op.i32Add(), s.v128Load(16 * y), s.i32x4Mul(), s.i32x4Sub(), op.set(T));
              emit(op.get(T), s.f64x2ConvertLowI32x4S(), op.get(SD), op.get(SWL[y]!), s.f64x2Mul(), s.f64x2Mul(), op.get(BL[y]!), s.f64x2Add(), s.f32x4DemoteF64x2Zero(), op.set(T2));
              emit(op.get(ROW), op.get(T2));
              emit(op.get(T), op.get(T), s.shuffle(HIGH), s.f64x2ConvertLowI32x4S(), op.get(SD), op.get(SWH[y]!), s.f64x2Mul(), s.f64x2Mul(), op.get(BH[y]!), s.f64x2Add(), s.f32x4DemoteF64x2Zero());
              emit(s.shuffle(JOIN), s.v128Store(16 * y));
            }
          }
          emit(op.else());
          for (let y = 0; y < nv; y++) emit(op.get(ROW), op.get(acc(x, y)), s.v128Store(16 * y));
          emit(op.end());
        }
        emit(op.get(I), op.i32(mr), op.i32Add(), op.tee(I), op.get(IEND), op.i32LtU(), op.brIf(0));
      }
      emit(op.end());
      emit(op.get(J), op.i32(INT8_NR), op.i32Add(), op.tee(J), op.get(NP), op.i32LtU(), op.brIf(0));
    }
    emit(op.end());
    emit(op.get(IEND), op.tee(I0), op.get(MP), op.i32LtU(), op.brIf(0));
  }
  emit(op.end());
  emit(op.end());
  return [...vec([[...uleb(nI32), I32], [...uleb(nV), V128]]), ...b];
}

/** Packs int8 weight codes q (n, k) row-major into the layout of the file header (once per layer). */
export function packInt8Weight(q: Int8Array, n: number, k: number): PackedInt8Weight {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(k) && k >= 0)) throw new Error(`packInt8Weight: n and k must be integers ≥ 0, got ${n}, ${k}`);
  if (q.length < n * k) throw new Error(`packInt8Weight: expected n·k = ${n * k} codes, got ${q.length}`);
  const np = Math.ceil(n / INT8_NR) * INT8_NR;
  const kp = Math.max(INT8_KSTEP, Math.ceil(k / INT8_KSTEP) * INT8_KSTEP);
  const data = new Int8Array(np * kp);
  const colsum = new Int32Array(np);
  for (let o = 0; o < n; o++) {
    const base = Math.floor(o / INT8_NR) * INT8_NR * kp + (o % INT8_NR) * 4;
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const v = q[o * k + i]!;
      sum += v;
      data[base + (i >> 2) * (INT8_NR * 4) + (i & 3)] = v;
    }
    colsum[o] = sum;
  }
  return { n, k, np, kp, data, colsum };
}

let relaxedOk: boolean | undefined;
/** True when the runtime validates i16x8.relaxed_dot_i8x16_i7x16_s (Node 20: after the flag wasm-gemm.ts sets). */
export function wasmRelaxedDotSupported(): boolean {
  if (relaxedOk === undefined) {
    const validates = (): boolean => {
      try {
        return wasmApi !== undefined && wasmApi.validate(buildInt8LinearModule({ mr: 1, relaxed: true }));
      } catch {
        return false;
      }
    };
    relaxedOk = validates();
    // Node 20: relaxed SIMD sits behind --experimental-wasm-relaxed-simd, which wasmSimdSupported(true) sets
    if (!relaxedOk && wasmSimdSupported(true)) relaxedOk = validates();
  }
  return relaxedOk;
}

let plainOk: boolean | undefined;
/** True when the runtime validates the plain-SIMD module. */
export function wasmInt8LinearSupported(): boolean {
  if (plainOk === undefined) {
    try {
      plainOk = wasmApi !== undefined && wasmApi.validate(buildInt8LinearModule({ mr: 1, relaxed: false }));
    } catch {
      plainOk = false;
    }
  }
  return plainOk;
}

type QuantizeFn = (x: number, m: number, k: number, kp: number, u: number, sx: number, zx: number) => number;
type GemmFn = (u: number, wp: number, out: number, mp: number, np: number, kp: number, mode: number, zx: number, sx: number, cs: number, sw: number, bias: number, mc: number) => void;

/** Rows per block of the GEMM's outer loop (the block's activation rows stay in L2). */
const MC_BYTES = 256 * 1024;

/**
 * The first wasm call of a quantized Linear: the rows of x (at byte xOff) → 7-bit codes u (row
 * stride kp), scales sx and zero points zx; then rows m…mp−1 (the last tile's padding) zeroed so
 * that the GEMM reads zeros there. Throws, naming the row, on a non-finite row.
 */
function quantizeRowsPadded(quantizeFn: QuantizeFn, buf: ArrayBufferLike, a: { x: Float32Array; m: number; k: number; kp: number; mp: number; xOff: number; uOff: number; sxOff: number; zxOff: number }, what: string): void {
  const { x, m, k, kp, mp, uOff, sxOff, zxOff } = a;
  const bad = quantizeFn(a.xOff, m, k, kp, uOff, sxOff, zxOff);
  if (bad >= 0) throw nonFiniteRowError(x, bad, k, what);
  if (mp > m) {
    new Int8Array(buf, uOff + m * kp, (mp - m) * kp).fill(0);
    new Float32Array(buf, sxOff + 4 * m, mp - m).fill(0);
    new Int32Array(buf, zxOff + 4 * m, mp - m).fill(0);
  }
}

/** Copies the first m rows of y (row stride np) into out (row stride n ≤ np). */
function copyRows<T extends Float32Array | Int32Array>(y: T, np: number, out: T, n: number, m: number): void {
  if (np === n) out.set(y.subarray(0, m * n));
  else for (let r = 0; r < m; r++) out.set(y.subarray(r * np, r * np + n), r * n);
}

/** One instantiated module with its own memory, grown to the largest call seen. */
export class WasmInt8LinearKernel {
  readonly mr: number;
  readonly relaxed: boolean;
  private readonly memory: WasmMemory;
  private readonly quantizeFn: QuantizeFn;
  private readonly gemmFn: GemmFn;

  /**
   * With an arena: the same module instantiated on the float32 arena's memory, where `linear`
   * reads x and writes y in place (tensor storages are arena blocks) and keeps each packed
   * weight resident in a block of its own — no copies per call. Null without an arena.
   */
  /** Calls of `linear` that ran in the arena (in place), for tests and diagnostics. */
  inArenaCalls = 0;
  private readonly inArena: { arena: WasmArena; quantizeFn: QuantizeFn; gemmFn: GemmFn; resident: WeakMap<PackedInt8Weight, Float32Array> } | null;

  constructor(opts: { relaxed: boolean; mr?: number; arena?: WasmArena | null }) {
    if (wasmApi === undefined) throw new Error('wasm int8 linear: this runtime has no WebAssembly');
    this.relaxed = opts.relaxed;
    this.mr = opts.mr ?? (opts.relaxed ? 3 : 2);
    if (this.relaxed && !wasmRelaxedDotSupported()) throw new Error('wasm int8 linear: relaxed: true needs relaxed SIMD (i16x8.relaxed_dot_i8x16_i7x16_s), which this runtime does not validate');
    this.memory = new wasmApi.Memory({ initial: 1 });
    const inst = new wasmApi.Instance(new wasmApi.Module(buildInt8LinearModule({ mr: this.mr, relaxed: this.relaxed })), { env: { mem: this.memory } });
    this.quantizeFn = inst.exports['quantize'] as QuantizeFn;
    this.gemmFn = inst.exports['gemm'] as GemmFn;
    const arena = opts.arena ?? null;
    if (arena === null) this.inArena = null;
    else {
      const ai = new wasmApi.Instance(new wasmApi.Module(buildInt8LinearModule({ mr: this.mr, relaxed: this.relaxed, shared: arena.shared })), { env: { mem: arena.memory } });
      this.inArena = { arena, quantizeFn: ai.exports['quantize'] as QuantizeFn, gemmFn: ai.exports['gemm'] as GemmFn, resident: new WeakMap() };
    }
  }

  /**
   * `linear` on the arena's memory (see inArena): the packed weight and its column sums stay in a
   * block of their own; x is read where it is when it is an arena block (else copied into the
   * scratch region), y written into `out` when it is an arena block with room for the padded
   * rows (else computed in scratch and copied). False when the arena has no room (the caller
   * then uses the private memory).
   */
  private linearInArena(x: Float32Array, m: number, w: PackedInt8Weight, sw: Float32Array, bias: Float32Array | null, what: string, out: Float32Array): boolean {
    const A = this.inArena!;
    const ar = A.arena;
    const { n, k, np, kp } = w;
    let res = A.resident.get(w);
    if (res === undefined) {
      const v = ar.alloc(Math.ceil((np * kp + 4 * np) / 4), false); // wp (np·kp bytes) | colsum (np int32)
      if (v === null) return false;
      new Int8Array(v.buffer, v.byteOffset, np * kp).set(w.data);
      new Int32Array(v.buffer, v.byteOffset + np * kp, np).set(w.colsum);
      A.resident.set(w, (res = v));
    }
    const mp = Math.ceil(m / this.mr) * this.mr;
    const a16 = (v: number): number => Math.ceil(v / 16) * 16;
    const xIn = ar.address(x) >= 0 && x.length >= m * k;
    const yIn = np === n && ar.address(out) >= 0 && ar.capacity(out) >= mp * np;
    // scratch: sw | bias | u | sx | zx | [x] | [y]   (offsets relative to its start, 16-aligned)
    const swR = 0, bR = swR + 4 * np, uR = a16(bR + 4 * np), sxR = uR + mp * kp, zxR = sxR + 4 * mp;
    const xR = a16(zxR + 4 * mp), yR = a16(xR + (xIn ? 0 : 4 * m * k)), end = yR + (yIn ? 0 : 4 * mp * np);
    let base: number;
    try {
      base = ar.scratch(end);
    } catch (e) {
      if (e instanceof RangeError) return false;
      throw e;
    }
    const buf = ar.memory.buffer;
    const f32 = new Float32Array(buf);
    const swOff = base + swR, bOff = base + bR, uOff = base + uR, sxOff = base + sxR, zxOff = base + zxR;
    f32.fill(0, swOff >> 2, (bOff >> 2) + np);
    f32.set(sw.subarray(0, n), swOff >> 2);
    if (bias) f32.set(bias.subarray(0, n), bOff >> 2);
    let xOff = x.byteOffset;
    if (!xIn) {
      xOff = base + xR;
      f32.set(x.subarray(0, m * k), xOff >> 2);
    }
    quantizeRowsPadded(A.quantizeFn, buf, { x, m, k, kp, mp, xOff, uOff, sxOff, zxOff }, what);
    const yOff = yIn ? out.byteOffset : base + yR;
    A.gemmFn(uOff, res.byteOffset, yOff, mp, np, kp, 1, zxOff, sxOff, res.byteOffset + np * kp, swOff, bOff, this.mc(kp));
    if (!yIn) copyRows(new Float32Array(buf, yOff, mp * np), np, out, n, m);
    return true;
  }

  private grow(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  private mc(kp: number): number {
    return Math.max(this.mr, Math.floor(MC_BYTES / kp / this.mr) * this.mr);
  }

  /**
   * y (m, n) float32 = the quantized Linear of the file header on x (m, k) float32, with the
   * layer's packed weight, per-channel scales sw (n) and bias (n) or null. Throws, naming the row,
   * when a row of x holds a non-finite value or spans more than float32's range.
   */
  linear(x: Float32Array, m: number, w: PackedInt8Weight, sw: Float32Array, bias: Float32Array | null, what = 'QuantizedLinear (input)', out: Float32Array = new Float32Array(m * w.n)): Float32Array {
    const { n, k, np, kp } = w;
    if (out.length < m * n) throw new Error(`int8 linear: out must hold m·n = ${m * n} values, got ${out.length}`);
    if (m === 0 || n === 0) return out;
    if (this.inArena !== null && this.linearInArena(x, m, w, sw, bias, what, out)) {
      this.inArenaCalls++;
      return out;
    }
    const mp = Math.ceil(m / this.mr) * this.mr;
    // memory: wp | colsum | sw | bias | x | u | sx | zx | y   (each 16-byte aligned)
    const a16 = (v: number): number => Math.ceil(v / 16) * 16;
    const wpOff = 0, csOff = wpOff + np * kp, swOff = csOff + 4 * np, bOff = swOff + 4 * np, xOff = bOff + 4 * np;
    const uOff = a16(xOff + 4 * m * k), sxOff = uOff + mp * kp, zxOff = sxOff + 4 * mp, yOff = zxOff + 4 * mp;
    this.grow(yOff + 4 * mp * np);
    const buf = this.memory.buffer;
    new Int8Array(buf, wpOff, np * kp).set(w.data);
    new Int32Array(buf, csOff, np).set(w.colsum);
    const f32 = new Float32Array(buf);
    f32.fill(0, swOff >> 2, xOff >> 2);
    f32.set(sw.subarray(0, n), swOff >> 2);
    if (bias) f32.set(bias.subarray(0, n), bOff >> 2);
    f32.set(x.subarray(0, m * k), xOff >> 2);
    quantizeRowsPadded(this.quantizeFn, buf, { x, m, k, kp, mp, xOff, uOff, sxOff, zxOff }, what);
    this.gemmFn(uOff, wpOff, yOff, mp, np, kp, 1, zxOff, sxOff, csOff, swOff, bOff, this.mc(kp));
    copyRows(new Float32Array(buf, yOff, mp * np), np, out, n, m);
    return out;
  }

  /** The wasm activation quantizer alone (the first half of linear()): codes (m, k), scales, zero points. */
  quantize(x: Float32Array, m: number, k: number, what = 'quantize'): { u: Uint8Array; scale: Float32Array; zeroPoint: Int32Array } {
    const kp = Math.max(INT8_KSTEP, Math.ceil(k / INT8_KSTEP) * INT8_KSTEP);
    const xOff = 0, uOff = Math.ceil((4 * m * k) / 16) * 16, sxOff = uOff + m * kp, zxOff = sxOff + 4 * m;
    this.grow(zxOff + 4 * m);
    const buf = this.memory.buffer;
    new Float32Array(buf).set(x.subarray(0, m * k), xOff >> 2);
    const bad = this.quantizeFn(xOff, m, k, kp, uOff, sxOff, zxOff);
    if (bad >= 0) throw nonFiniteRowError(x, bad, k, what);
    const u = new Uint8Array(m * k);
    for (let r = 0; r < m; r++) u.set(new Uint8Array(buf, uOff + r * kp, k), r * k);
    return { u, scale: new Float32Array(buf.slice(sxOff, sxOff + 4 * m)), zeroPoint: new Int32Array(buf.slice(zxOff, zxOff + 4 * m)) };
  }

  /**
   * The raw integer product C (m, n) int32 = Σₖ u[r, k]·W_q[o, k] for 7-bit codes u (m, k) in
   * [0, 127] (not checked here: the relaxed instruction is exact only in that range).
   */
  gemm(u: Int8Array | Uint8Array, m: number, w: PackedInt8Weight): Int32Array {
    const { n, k, np, kp } = w;
    const out = new Int32Array(m * n);
    if (m === 0 || n === 0) return out;
    const mp = Math.ceil(m / this.mr) * this.mr;
    const wpOff = 0, uOff = np * kp, cOff = uOff + mp * kp;
    this.grow(cOff + 4 * mp * np);
    const buf = this.memory.buffer;
    new Int8Array(buf, wpOff, np * kp).set(w.data);
    const heap = new Uint8Array(buf);
    const src = new Uint8Array(u.buffer, u.byteOffset, m * k);
    if (k === kp) heap.set(src, uOff);
    else for (let r = 0; r < m; r++) { heap.set(src.subarray(r * k, r * k + k), uOff + r * kp); heap.fill(0, uOff + r * kp + k, uOff + (r + 1) * kp); }
    heap.fill(0, uOff + m * kp, uOff + mp * kp);
    this.gemmFn(uOff, wpOff, cOff, mp, np, kp, 0, 0, 0, 0, 0, 0, this.mc(kp));
    copyRows(new Int32Array(buf, cOff, mp * np), np, out, n, m);
    return out;
  }
}

/** The error for a row whose range is not finite: names the row, column and value. */
export function nonFiniteRowError(x: Float32Array | Float64Array, row: number, k: number, what: string): Error {
  for (let i = 0; i < k; i++) {
    const v = x[row * k + i]!;
    if (!Number.isFinite(v)) return new Error(`${what}: row ${row} holds a non-finite value (${v}) at column ${i}; int8 quantization needs finite values`);
  }
  return new Error(`${what}: row ${row} spans more than float32's range (max − min overflows); int8 quantization needs a finite range`);
}

// ---- the same arithmetic in JavaScript (fallback and reference) ----------------------------------

/** 1.5·2⁵²: adding and subtracting it rounds a float64 |v| < 2⁵¹ to an integer, ties to even. */
const ROUND_MAGIC = 6755399441055744;

/**
 * The 7-bit per-row activation quantizer of the file header in JS: codes u (rows, cols) in
 * [0, 127], float32 scales and int32 zero points — bit-identical to the wasm `quantize`.
 */
export function quantizeActivations(x: Float32Array, rows: number, cols: number, what = 'quantizeActivations'): { u: Uint8Array; scale: Float32Array; zeroPoint: Int32Array } {
  if (x.length < rows * cols) throw new Error(`${what}: expected ${rows}·${cols} = ${rows * cols} values, got ${x.length}`);
  const u = new Uint8Array(rows * cols);
  const scale = new Float32Array(rows);
  const zeroPoint = new Int32Array(rows);
  const f = Math.fround;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let lo = 0, hi = 0;
    for (let i = 0; i < cols; i++) {
      const v = x[o + i]!;
      if (v < lo) lo = v;
      else if (v > hi) hi = v;
      else if (v !== v) { lo = NaN; break; }
    }
    let s = f(f(hi - lo) / 127);
    if (!Number.isFinite(s)) throw nonFiniteRowError(x, r, cols, what);
    if (s === 0) s = 1;
    const z = Math.min(127, (f(-lo / s) + ROUND_MAGIC) - ROUND_MAGIC);
    scale[r] = s;
    zeroPoint[r] = z;
    for (let i = 0; i < cols; i++) {
      const c = (f(x[o + i]! / s) + ROUND_MAGIC) - ROUND_MAGIC + z;
      u[o + i] = c < 0 ? 0 : c > 127 ? 127 : c;
    }
  }
  return { u, scale, zeroPoint };
}

/**
 * The quantized Linear in JS on a packed weight: y[r, o] = (Σₖ (u − z)·W_q)·(s·s_w[o]) + b[o] in
 * float64, stored into `out` (a Float32Array rounds once, as the wasm kernel; a Float64Array keeps
 * the float64 value). The fallback where wasm SIMD is missing, and for float64 inputs.
 */
export function int8LinearReference(x: Float32Array, m: number, w: PackedInt8Weight, sw: Float32Array, bias: Float32Array | Float64Array | null, out: Float32Array | Float64Array = new Float32Array(m * w.n), what?: string): Float32Array | Float64Array {
  const { n, k, kp, data, colsum } = w;
  const { u, scale, zeroPoint } = quantizeActivations(x, m, k, what);
  const col = new Int8Array(k);
  for (let o = 0; o < n; o++) {
    const base = Math.floor(o / INT8_NR) * INT8_NR * kp + (o % INT8_NR) * 4;
    for (let i = 0; i < k; i++) col[i] = data[base + (i >> 2) * (INT8_NR * 4) + (i & 3)]!;
    const so = sw[o]!, bo = bias ? bias[o]! : 0, cs = colsum[o]!;
    for (let r = 0; r < m; r++) {
      let acc = 0;
      const ur = r * k;
      for (let i = 0; i < k; i++) acc += u[ur + i]! * col[i]!;
      out[r * n + o] = (acc - zeroPoint[r]! * cs) * (scale[r]! * so) + bo;
    }
  }
  return out;
}
