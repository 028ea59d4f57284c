/**
 * A WebAssembly SIMD GEMM kernel (f32x4 for float32, f64x2 for float64), assembled at run time
 * from this file.
 *
 * No binary is shipped: `buildGemmModule` writes the bytes of a tiny wasm module by hand (the
 * encoding is the WebAssembly core spec's binary format, §5, plus the fixed-width SIMD
 * proposal's opcodes), and `WasmGemmKernel` instantiates it on first use. Where the runtime
 * lacks wasm SIMD the module fails to validate and the caller keeps the plain-JS kernel.
 *
 * The module exports two functions. `pack` copies a block of A or B (already copied into the
 * module's memory, any strides) into the zero-padded micro-panels below. `macro` is the
 * *macro-kernel* of the GotoBLAS/BLIS scheme
 * (Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", ACM TOMS 2008;
 * Van Zee & van de Geijn, "BLIS", ACM TOMS 2015):
 *
 *   macro(mc, nc, kc, ap, bp, c, ldc, accum)
 *     for jr in 0..nc step NR:              (a column panel of packed B, kc×NR, stays in L1)
 *       for ir in 0..mc step MR:            (a row panel of packed A, MR×kc)
 *         C[ir:ir+MR, jr:jr+NR] (accum ? += : =) Ã[ir-panel] · B̃[jr-panel]   ← the micro-kernel
 *
 * mc and nc are multiples of MR and NR (the caller pads), kc ≥ 1; ap, bp, c are byte addresses
 * in the module's memory, ldc is C's row stride in bytes. Packed layouts (es = 4 or 8 bytes):
 *
 *   Ã: panel p holds rows p·MR … p·MR+MR−1;  element (r, k) at ap + es·(p·MR·kc + k·MR + r)
 *   B̃: panel q holds cols q·NR … q·NR+NR−1;  element (k, c) at bp + es·(q·NR·kc + k·NR + c)
 *
 * The micro-kernel keeps an MR×NR tile of C in MR·NR/L v128 registers (L = 4 or 2 lanes); per
 * k it loads NR/L vectors of B̃, broadcasts MR scalars of Ã (v128.load32_splat / load64_splat)
 * and does MR·NR/L multiply-adds (mul + add; for float32 the fused f32x4.relaxed_madd where the
 * runtime has relaxed SIMD: Node ≥ 22, or Node 20 where wasmSimdSupported sets
 * --experimental-wasm-relaxed-simd; TENSORGRAD_FMA=0 forces mul + add, see fmaEnabled). Accumulation is
 * in the element type; float64 never fuses, so its sums are rounded exactly as the naive loop's.
 * float32 starts every tile from zero and, with accum, adds C to the finished tile: C gets one
 * block sum per KC slab instead of continuing a float32 running sum over all of K (its error
 * grows like √K: 2.2e-6 → 3.1e-7 max rel error at K = 4096).
 */

import { F32, F64, I32, MAX_PAGES, name, op, PAGE, section, uleb, V128, vec, wasmApi, type WasmMemory } from './wasm-asm.js';
import { arenaLimitBytes, WasmArena } from './arena.js';
import { adamBody, BINARY_F32, binaryBody, dropoutBody, geluBackwardBody, geluBody, layerNormBackwardBody, layerNormForwardBody, softmaxBackwardBody, softmaxForwardBody } from './wasm-elementwise.js';

export type GemmDType = 'float32' | 'float64';

export interface GemmModuleOptions {
  /** float32: f32x4 lanes; float64: f64x2 lanes. */
  dtype: GemmDType;
  /** Rows of the register tile (any ≥ 1). */
  mr: number;
  /** Columns of the register tile (a multiple of the lane count: 4 for float32, 2 for float64). */
  nr: number;
  /** float32 only: use f32x4.relaxed_madd (relaxed SIMD) instead of mul + add. */
  relaxed: boolean;
  /** Import a shared memory (for worker threads) instead of a private one. */
  shared: boolean;
}

/** The bytes of a module importing `env.mem` and exporting `macro` and `pack` (see the file header). */
export function buildGemmModule({ dtype, mr, nr, relaxed, shared }: GemmModuleOptions): Uint8Array {
  const es = dtype === 'float32' ? 4 : 8; // bytes per element
  const lanes = 16 / es;
  if (!(mr >= 1 && nr >= lanes && nr % lanes === 0)) throw new Error(`wasm gemm: bad ${dtype} tile ${mr}×${nr}`);
  if (relaxed && dtype !== 'float32') throw new Error('wasm gemm: relaxed madd is float32 only');
  const macro = macroBody(es, mr, nr, relaxed);
  const pack = packBody(es);
  // float32 modules also carry the GELU kernels (wasm-elementwise.ts), so that helper threads
  // on the shared memory can run them too
  const ew = dtype === 'float32' ? [geluBody(), geluBackwardBody(), adamBody(), ...BINARY_F32.map(binaryBody), dropoutBody(), layerNormForwardBody(), layerNormBackwardBody(),
    softmaxForwardBody(), softmaxBackwardBody()] : [];
  // memory limits: flags 0x00 {min}, 0x03 {min, max, shared}
  const limits = shared ? [0x03, ...uleb(1), ...uleb(MAX_PAGES)] : [0x00, ...uleb(1)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec([
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // type 0: (i32×8) → ()  macro
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // type 1: (i32×7) → ()  pack
      [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])], // type 2: (src, dst, n) → ()  gelu
      [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])], // type 3: (a, b, dst, n) → ()  geluBackward
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [F32], [F32], [F32], [F32], [F32], [F32], [F32], [F32]]), ...vec([])], // type 4: adam
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [F32]]), ...vec([])], // type 5: dropout
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [F64], [I32], [I32]]), ...vec([])], // type 6: layerNormForward
      [0x60, ...vec(new Array<number[]>(12).fill([I32])), ...vec([])], // type 7: layerNormBackward
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [F64], [I32], [I32], [I32]]), ...vec([])], // type 8: softmaxForward
      [0x60, ...vec([[I32], [I32], [I32], [I32], [F64], [I32], [I32], [I32]]), ...vec([])], // type 9: softmaxBackward
    ])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, ...limits]])), // import memory
    // funcs: macro (type 0), pack (1), gelu (2), geluBackward (3), adam (4), add/sub/mul/div (3), dropout (5),
    // layerNormForward (6), layerNormBackward (7), softmaxForward (8), softmaxBackward (9)
    ...section(3, vec([uleb(0), uleb(1), ...(ew.length > 0 ? [uleb(2), uleb(3), uleb(4), ...BINARY_F32.map(() => uleb(3)), uleb(5), uleb(6), uleb(7), uleb(8), uleb(9)] : [])])),
    ...section(7, vec([
      [...name('macro'), 0x00, ...uleb(0)], [...name('pack'), 0x00, ...uleb(1)],
      ...(ew.length > 0 ? [[...name('gelu'), 0x00, ...uleb(2)], [...name('geluBackward'), 0x00, ...uleb(3)], [...name('adam'), 0x00, ...uleb(4)],
        ...BINARY_F32.map((nm, j) => [...name(nm), 0x00, ...uleb(5 + j)]), [...name('dropout'), 0x00, ...uleb(5 + BINARY_F32.length)],
        [...name('layerNormForward'), 0x00, ...uleb(6 + BINARY_F32.length)], [...name('layerNormBackward'), 0x00, ...uleb(7 + BINARY_F32.length)],
        [...name('softmaxForward'), 0x00, ...uleb(8 + BINARY_F32.length)], [...name('softmaxBackward'), 0x00, ...uleb(9 + BINARY_F32.length)]] : []),
    ])), // exports
    ...section(10, vec([[...uleb(macro.length), ...macro], [...uleb(pack.length), ...pack], ...ew.map((b) => [...uleb(b.length), ...b])])),
  ];
  return new Uint8Array(bytes);
}

/** Locals declaration + instructions of `macro(mc, nc, kc, ap, bp, c, ldc)`. */
function macroBody(es: number, mr: number, nr: number, relaxed: boolean): number[] {
  const lanes = 16 / es;
  const dtype = es === 4 ? 'float32' : 'float64';
  const nv = nr / lanes; // vectors per tile row
  const splat = dtype === 'float32' ? op.load32Splat : op.load64Splat;
  const mul = dtype === 'float32' ? op.f32x4Mul : op.f64x2Mul;
  const add = dtype === 'float32' ? op.f32x4Add : op.f64x2Add;
  // params
  const MC = 0, NC = 1, KC = 2, AP = 3, BP = 4, C = 5, LDC = 6, ACCUM = 7;
  // i32 locals
  const IR = 8, JR = 9, K = 10, PA = 11, PB = 12, PC = 13, ROW = 14; // ROW: base of the current C row
  const nI32Locals = 7;
  // v128 locals: accumulators acc[x][y], then B vectors b[y], then the broadcast a
  const V0 = 8 + nI32Locals;
  const acc = (x: number, y: number): number => V0 + x * nv + y;
  const bv = (y: number): number => V0 + mr * nv + y;
  const AV = V0 + mr * nv + nv;
  const nV128Locals = mr * nv + nv + 1;

  const body: number[] = [];
  const emit = (...parts: number[][]): void => { for (const p of parts) body.push(...p); };

  emit(op.i32(0), op.set(JR));
  emit(op.loop()); // J
  {
    emit(op.i32(0), op.set(IR));
    emit(op.loop()); // I
    {
      // pa = ap + ir·kc·es; pb = bp + jr·kc·es; pc = c + ir·ldc + jr·es
      emit(op.get(AP), op.get(IR), op.get(KC), op.i32Mul(), op.i32(es), op.i32Mul(), op.i32Add(), op.set(PA));
      emit(op.get(BP), op.get(JR), op.get(KC), op.i32Mul(), op.i32(es), op.i32Mul(), op.i32Add(), op.set(PB));
      emit(op.get(C), op.get(IR), op.get(LDC), op.i32Mul(), op.i32Add(), op.get(JR), op.i32(es), op.i32Mul(), op.i32Add(), op.set(PC));
      // float64: load the C tile (accum ≠ 0), else start from zero — one running sum over all of
      // K, in the naive loop's order. float32: always start from zero and add this K block's
      // partial product to C when storing (below): a sum of ⌈K/KC⌉ block sums instead of one
      // running float32 sum of K terms, whose rounding error grows like √K (issue #11 item 9).
      if (dtype === 'float64') {
        emit(op.get(ACCUM), op.if());
        emit(op.get(PC), op.set(ROW));
        for (let x = 0; x < mr; x++) {
          if (x > 0) emit(op.get(ROW), op.get(LDC), op.i32Add(), op.set(ROW));
          for (let y = 0; y < nv; y++) emit(op.get(ROW), op.v128Load(16 * y), op.set(acc(x, y)));
        }
        emit(op.else());
      }
      for (let x = 0; x < mr; x++) for (let y = 0; y < nv; y++) emit(op.v128Zero(), op.set(acc(x, y)));
      if (dtype === 'float64') emit(op.end());
      // k loop
      emit(op.get(KC), op.set(K));
      emit(op.loop()); // Kloop
      {
        for (let y = 0; y < nv; y++) emit(op.get(PB), op.v128Load(16 * y), op.set(bv(y)));
        for (let x = 0; x < mr; x++) {
          emit(op.get(PA), splat(es * x), op.set(AV));
          for (let y = 0; y < nv; y++) {
            if (relaxed) emit(op.get(AV), op.get(bv(y)), op.get(acc(x, y)), op.f32x4RelaxedMadd(), op.set(acc(x, y)));
            else emit(op.get(acc(x, y)), op.get(AV), op.get(bv(y)), mul(), add(), op.set(acc(x, y)));
          }
        }
        emit(op.get(PA), op.i32(es * mr), op.i32Add(), op.set(PA));
        emit(op.get(PB), op.i32(es * nr), op.i32Add(), op.set(PB));
        emit(op.get(K), op.i32(1), op.i32Sub(), op.tee(K), op.brIf(0));
      }
      emit(op.end());
      // store the C tile (float32 with accum ≠ 0: C += the block's partial product)
      if (dtype === 'float32') {
        emit(op.get(ACCUM), op.if());
        emit(op.get(PC), op.set(ROW));
        for (let x = 0; x < mr; x++) {
          if (x > 0) emit(op.get(ROW), op.get(LDC), op.i32Add(), op.set(ROW));
          for (let y = 0; y < nv; y++) emit(op.get(ROW), op.v128Load(16 * y), op.get(acc(x, y)), add(), op.set(acc(x, y)));
        }
        emit(op.end());
      }
      emit(op.get(PC), op.set(ROW));
      for (let x = 0; x < mr; x++) {
        if (x > 0) emit(op.get(ROW), op.get(LDC), op.i32Add(), op.set(ROW));
        for (let y = 0; y < nv; y++) emit(op.get(ROW), op.get(acc(x, y)), op.v128Store(16 * y));
      }
      emit(op.get(IR), op.i32(mr), op.i32Add(), op.tee(IR), op.get(MC), op.i32LtU(), op.brIf(0));
    }
    emit(op.end());
    emit(op.get(JR), op.i32(nr), op.i32Add(), op.tee(JR), op.get(NC), op.i32LtU(), op.brIf(0));
  }
  emit(op.end());
  emit(op.end()); // function end
  return [...vec([[...uleb(nI32Locals), I32], [...uleb(nV128Locals), V128]]), ...body];
}

/**
 * `pack(dst, src, sw, sk, width, kc, w)`: packs a width×kc block (element (r, k) at byte
 * address src + r·sw + k·sk; strides may be negative) into ⌈width/w⌉ panels of w rows:
 *
 *   for each panel p, for k in 0..kc, for r in 0..w:
 *     *dst++ = r < width − p·w ? src[(p·w + r)·sw + k·sk] : 0
 *
 * Ã is packed with (sw, sk) = (row stride, col stride), w = MR; B̃ with (col stride, row
 * stride), w = NR. Elements are copied as bits (i32/i64 load/store). width, kc ≥ 1.
 */
function packBody(es: number): number[] {
  const DST = 0, SRC = 1, SW = 2, SK = 3, WIDTH = 4, KC = 5, W = 6;
  const PW = 7, NV = 8, KK = 9, ADDR = 10, R = 11, ROWBASE = 12, G = 13;
  const V = [14, 15, 16, 17], T = [18, 19, 20, 21];
  const load = es === 4 ? op.i32Load : op.i64Load;
  const store = es === 4 ? op.i32Store : op.i64Store;
  const zero = es === 4 ? op.i32(0) : op.i64(0);
  const b: number[] = [];
  const emit = (...parts: number[][]): void => { for (const p of parts) b.push(...p); };
  emit(op.i32(0), op.set(PW));
  emit(op.loop()); // panels
  {
    // nv = min(w, width − pw): rows of this panel that exist
    emit(op.get(W), op.get(WIDTH), op.get(PW), op.i32Sub(), op.tee(NV), op.get(NV), op.get(W), op.i32GtS(), op.select(), op.set(NV));
    emit(op.get(SRC), op.get(PW), op.get(SW), op.i32Mul(), op.i32Add(), op.set(ROWBASE));
    emit(op.i32(0), op.set(KK));
    if (es === 4) {
      // Fast paths for full float32 panels (w a multiple of 4): the common layouts of Linear's
      // forward and backward products.
      emit(op.get(NV), op.get(W), op.i32Eq(), op.get(W), op.i32(3), op.i32And(), op.i32Eqz(), op.i32And(), op.if());
      {
        emit(op.get(SW), op.i32(4), op.i32Eq(), op.if());
        {
          // the panel's w elements of one k are adjacent: copy them 16 bytes at a time
          emit(op.get(ROWBASE), op.set(ADDR));
          emit(op.block(), op.loop());
          emit(op.get(KK), op.get(KC), op.i32GeS(), op.brIf(1));
          emit(op.i32(0), op.set(R));
          emit(op.loop());
          emit(op.get(DST), op.get(R), op.i32Add(), op.get(ADDR), op.get(R), op.i32Add(), op.v128Load(0), op.v128Store(0));
          emit(op.get(R), op.i32(16), op.i32Add(), op.tee(R), op.get(W), op.i32(4), op.i32Mul(), op.i32LtS(), op.brIf(0));
          emit(op.end());
          emit(op.get(DST), op.get(W), op.i32(4), op.i32Mul(), op.i32Add(), op.set(DST));
          emit(op.get(ADDR), op.get(SK), op.i32Add(), op.set(ADDR));
          emit(op.get(KK), op.i32(1), op.i32Add(), op.set(KK), op.br(0));
          emit(op.end(), op.end());
        }
        emit(op.else());
        {
          emit(op.get(SK), op.i32(4), op.i32Eq(), op.if());
          {
            // each row's k's are adjacent: load 4 k's of 4 rows, transpose the 4×4 block in
            // registers (i8x16.shuffle), store 4 k's of the 4 rows
            const A = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
            const B = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
            const LO = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
            const HI = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
            emit(op.block(), op.loop());
            emit(op.get(KK), op.i32(4), op.i32Add(), op.get(KC), op.i32GtS(), op.brIf(1));
            emit(op.i32(0), op.set(G));
            emit(op.loop()); // row groups of 4
            emit(op.get(ROWBASE), op.get(G), op.get(SW), op.i32Mul(), op.i32Add(), op.get(KK), op.i32(4), op.i32Mul(), op.i32Add(), op.set(ADDR));
            for (let r = 0; r < 4; r++) {
              emit(op.get(ADDR), op.v128Load(0), op.set(V[r]!));
              if (r < 3) emit(op.get(ADDR), op.get(SW), op.i32Add(), op.set(ADDR));
            }
            emit(op.get(V[0]!), op.get(V[1]!), op.shuffle(A), op.set(T[0]!));
            emit(op.get(V[2]!), op.get(V[3]!), op.shuffle(A), op.set(T[1]!));
            emit(op.get(V[0]!), op.get(V[1]!), op.shuffle(B), op.set(T[2]!));
            emit(op.get(V[2]!), op.get(V[3]!), op.shuffle(B), op.set(T[3]!));
            const outs: [number, number, number[]][] = [[0, 1, LO], [0, 1, HI], [2, 3, LO], [2, 3, HI]];
            outs.forEach(([x, y, mask], j) => {
              // element (row G + r, k + j) → dst + ((k + j)·w + G + r)·4
              emit(op.get(DST), op.get(W), op.i32(4 * j), op.i32Mul(), op.i32Add(), op.get(G), op.i32(4), op.i32Mul(), op.i32Add());
              emit(op.get(T[x]!), op.get(T[y]!), op.shuffle(mask), op.v128Store(0));
            });
            emit(op.get(G), op.i32(4), op.i32Add(), op.tee(G), op.get(W), op.i32LtS(), op.brIf(0));
            emit(op.end());
            emit(op.get(DST), op.get(W), op.i32(16), op.i32Mul(), op.i32Add(), op.set(DST));
            emit(op.get(KK), op.i32(4), op.i32Add(), op.set(KK), op.br(0));
            emit(op.end(), op.end());
          }
          emit(op.end());
        }
        emit(op.end());
      }
      emit(op.end());
    }
    // the general case (and the k's left over by the fast paths)
    emit(op.block(), op.loop()); // k
    {
      emit(op.get(KK), op.get(KC), op.i32GeS(), op.brIf(1));
      emit(op.get(ROWBASE), op.get(KK), op.get(SK), op.i32Mul(), op.i32Add(), op.set(ADDR));
      emit(op.i32(0), op.set(R));
      emit(op.loop()); // copy the nv ≥ 1 existing rows
      {
        emit(op.get(DST), op.get(R), op.i32(es), op.i32Mul(), op.i32Add(), op.get(ADDR), load(), store());
        emit(op.get(ADDR), op.get(SW), op.i32Add(), op.set(ADDR));
        emit(op.get(R), op.i32(1), op.i32Add(), op.tee(R), op.get(NV), op.i32LtS(), op.brIf(0));
      }
      emit(op.end());
      emit(op.block(), op.loop()); // zero the padding rows nv…w−1
      {
        emit(op.get(R), op.get(W), op.i32GeS(), op.brIf(1));
        emit(op.get(DST), op.get(R), op.i32(es), op.i32Mul(), op.i32Add(), zero, store());
        emit(op.get(R), op.i32(1), op.i32Add(), op.set(R), op.br(0));
      }
      emit(op.end(), op.end());
      emit(op.get(DST), op.get(W), op.i32(es), op.i32Mul(), op.i32Add(), op.set(DST));
      emit(op.get(KK), op.i32(1), op.i32Add(), op.set(KK), op.br(0));
    }
    emit(op.end(), op.end());
    emit(op.get(PW), op.get(W), op.i32Add(), op.tee(PW), op.get(WIDTH), op.i32LtS(), op.brIf(0));
  }
  emit(op.end());
  emit(op.end()); // function end
  return [...vec([[...uleb(7), I32], [...uleb(8), V128]]), ...b];
}

// ---- run-time instance ---------------------------------------------------------------------------

/** `macro(mc, nc, kc, ap, bp, c, ldc, accum)`, see the file header. */
export type MacroFn = (mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, accum: number) => void;
export type PackFn = (dst: number, src: number, sw: number, sk: number, width: number, kc: number, w: number) => void;

const supportCache = new Map<string, boolean>();

type ProcessLike = { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };
const proc = (globalThis as { process?: ProcessLike }).process;

/**
 * True when the runtime validates wasm SIMD modules (and, for `relaxed`, relaxed SIMD ones).
 * Node 20 has relaxed SIMD behind `--experimental-wasm-relaxed-simd`: when a relaxed module
 * does not validate, the flag is set through `v8.setFlagsFromString` (reached with
 * `process.getBuiltinModule`, so no static Node import) and validation is tried once more. V8
 * flags are per process, so helper threads started afterwards (threads.ts) get it too; the
 * compiled module is handed to them as is.
 */
export function wasmSimdSupported(relaxed = false): boolean {
  const key = String(relaxed);
  const cached = supportCache.get(key);
  if (cached !== undefined) return cached;
  const validates = (): boolean => {
    try {
      return wasmApi !== undefined && wasmApi.validate(buildGemmModule({ dtype: 'float32', mr: 1, nr: 4, relaxed, shared: false }));
    } catch {
      return false;
    }
  };
  let ok = validates();
  if (!ok && relaxed && wasmSimdSupported(false)) {
    try {
      const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
      if (typeof v8?.setFlagsFromString === 'function') {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
        ok = validates();
      }
    } catch {
      ok = false;
    }
  }
  supportCache.set(key, ok);
  return ok;
}

/**
 * Whether new float32 GEMM kernels use the fused multiply-add `f32x4.relaxed_madd`: when the
 * runtime has relaxed SIMD (`wasmSimdSupported(true)`) and the environment variable
 * `TENSORGRAD_FMA` is not `0` (`TENSORGRAD_FMA=0` forces the plain mul + add kernel).
 *
 * The two kernels are not bit-identical: FMA rounds a·b + c once, mul + add twice (FMA's
 * results are at least as accurate). Each is deterministic and independent of the thread
 * count (every C element is computed by one thread with the same instructions), so seeded
 * runs reproduce bit for bit on the same path. On x86-64 without FMA3 the engine lowers
 * relaxed_madd to mul + add, giving the plain kernel's bits.
 */
export function fmaEnabled(): boolean {
  if (proc?.env?.['TENSORGRAD_FMA'] === '0') return false;
  return wasmSimdSupported(true);
}

/**
 * One instantiated kernel with its own memory, which grows to the largest product seen.
 * For float32, relaxed SIMD's fused multiply-add is used when `fmaEnabled()` (unless
 * `relaxed` is given).
 */
export class WasmGemmKernel {
  readonly dtype: GemmDType;
  readonly mr: number;
  readonly nr: number;
  readonly relaxed: boolean;
  readonly memory: WasmMemory;
  /** The compiled module (helper threads instantiate it on the same, shared, memory). */
  readonly module: object;
  /** True when the memory is a shared one (SharedArrayBuffer-backed). */
  readonly shared: boolean;
  readonly macroFn: MacroFn;
  readonly packFn: PackFn;
  /** Every export of the instance (float32: also `gelu`, `geluBackward`). */
  readonly exports: Record<string, unknown>;
  private view: Float32Array | Float64Array;
  /**
   * float32 kernels with `arena: true`: the allocator of tensor storages in this memory
   * (arena.ts); `heap` then takes its scratch region from it. Null otherwise.
   */
  readonly arena: WasmArena | null;
  /** The byte address where the region returned by the last `heap` call starts (0 without an arena). */
  base = 0;

  constructor(opts: { dtype: GemmDType; mr: number; nr: number; relaxed?: boolean; shared?: boolean; arena?: boolean }) {
    this.dtype = opts.dtype;
    this.mr = opts.mr;
    this.nr = opts.nr;
    this.relaxed = opts.relaxed ?? (opts.dtype === 'float32' && fmaEnabled());
    if (this.relaxed && !wasmSimdSupported(true)) throw new Error('wasm gemm: relaxed: true needs relaxed SIMD, which this runtime does not validate');
    this.shared = opts.shared ?? false;
    if (wasmApi === undefined) throw new Error('wasm gemm: this runtime has no WebAssembly');
    const bytes = buildGemmModule({ dtype: this.dtype, mr: this.mr, nr: this.nr, relaxed: this.relaxed, shared: this.shared });
    // a shared memory needs a maximum: the whole 32-bit space (address space is only reserved)
    // a non-shared memory holding an arena is reserved whole up front: growing it would detach
    // the arena's live views (arena.ts)
    const arena = opts.arena === true && this.dtype === 'float32';
    const limit = arenaLimitBytes(this.shared);
    this.memory = this.shared ? new wasmApi.Memory({ initial: 1, maximum: MAX_PAGES, shared: true })
      : new wasmApi.Memory({ initial: arena ? Math.ceil(limit / PAGE) : 1 });
    this.arena = arena ? new WasmArena(this.memory, this.shared, limit) : null;
    this.module = new wasmApi.Module(bytes);
    const inst = new wasmApi.Instance(this.module, { env: { mem: this.memory } });
    this.macroFn = inst.exports['macro'] as MacroFn;
    this.packFn = inst.exports['pack'] as PackFn;
    this.exports = inst.exports;
    this.view = this.makeView();
  }

  private makeView(): Float32Array | Float64Array {
    return this.dtype === 'float32' ? new Float32Array(this.memory.buffer) : new Float64Array(this.memory.buffer);
  }

  /**
   * A typed-array view of the whole memory with a scratch region of at least `bytes` starting at
   * byte address `this.base` (16-aligned): address 0 without an arena (the memory grows if
   * needed), else the arena's scratch block. Throws a RangeError when there is no room.
   */
  heap(bytes: number): Float32Array | Float64Array {
    if (this.arena !== null) this.base = this.arena.scratch(bytes);
    else {
      const have = this.memory.buffer.byteLength;
      if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    }
    if (this.view.buffer !== this.memory.buffer) this.view = this.makeView();
    return this.view;
  }

  /** Runs the macro-kernel (arguments in bytes; see the file header). */
  macro(mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, accum: number): void {
    this.macroFn(mc, nc, kc, ap, bp, c, ldc, accum);
  }

  /** Packs a width×kc block at byte address src (byte strides sw, sk) into w-wide panels at dst. */
  pack(dst: number, src: number, sw: number, sk: number, width: number, kc: number, w: number): void {
    this.packFn(dst, src, sw, sk, width, kc, w);
  }
}
