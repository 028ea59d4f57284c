/**
 * WebAssembly SIMD versions of the CPU's most expensive elementwise kernels — GELU's forward
 * and backward (Hendrycks & Gimpel 2016) on float32 tensors — assembled at run time (no binary
 * is shipped, like wasm-gemm.ts).
 *
 * They compute *exactly* what the plain-JS float32 kernels compute (cpu/index.ts compiling the
 * formulas of opcodes.ts with math32.ts's erf32/exp32): every formula is evaluated in float64
 * with the same operations in the same order, two elements per f64x2 vector, and rounded to
 * float32 once on store. IEEE-754 makes each step bit-identical, so the results are equal to
 * the JS kernel's bit for bit (test/backends/wasm-elementwise.test.ts checks this on dense
 * grids and special values). Only the scale 2ᵏ of exp32 is built from its bits,
 * ((k + 1023) << 52), instead of read from a table — the same power of two.
 *
 *   gelu(x)            = ½x·(1 + erf32(x/√2))
 *   geluBackward(x, g) = g·(½(1 + erf32(x/√2)) + (x/√(2π))·exp32(−½x²))
 *
 * The function bodies `gelu(src, dst, n)` and `geluBackward(a, b, dst, n)` (byte addresses of
 * float32 arrays in the module's memory, an even element count n ≥ 2) are part of the float32
 * GEMM module (wasm-gemm.ts), so that the GEMM's helper threads can run them on the shared
 * memory too; cpu/elementwise.ts stages the data and splits the work.
 */
import { INV_SQRT2, INV_SQRT_2PI } from '../opcodes.js';
import { op, uleb, V128, vec } from './wasm-asm.js';

/** erf32's coefficients (math32.ts): numerator odd powers x¹…x¹³, denominator even x⁰…x⁸. */
const ERF_P = [-1.60960333262415e-2, -2.95459980854025e-3, -7.34990630326855e-4, -5.69250639462346e-5, -2.10102402082508e-6, 2.77068142495902e-8, -2.72614225801306e-10];
const ERF_Q = [-1.42647390514189e-2, -7.37332916720468e-3, -1.68282697438203e-3, -2.13374055278905e-4, -1.45660718464996e-5];
/** exp32's Taylor coefficients 1/j!, j = 0…7, as the literals math32.ts uses. */
const EXP_C = [1, 1, 0.5, 0.16666666666666666, 0.041666666666666664, 0.008333333333333333, 0.001388888888888889, 0.0001984126984126984];

type Code = number[];

/** Emits code that leaves c₀ + v·(c₁ + v·(… + v·c_last)) on the stack, v in local `v` (Horner, innermost first). */
function horner(v: number, coeffs: readonly number[]): Code {
  const n = coeffs.length;
  const out: Code = [...op.get(v), ...op.f64x2Const(coeffs[n - 1]!), ...op.f64x2Mul()];
  for (let j = n - 2; j >= 1; j--) out.push(...op.f64x2Const(coeffs[j]!), ...op.f64x2Add(), ...op.get(v), ...op.f64x2Mul());
  out.push(...op.f64x2Const(coeffs[0]!), ...op.f64x2Add());
  return out;
}

/**
 * Code for erf32 of the vector in local `a`, result left on the stack (math32.ts's erf32:
 * clamp to [−4, 4], x·P(x²)/Q(x²), clamp to [−1, 1]). Uses locals x, z, p.
 */
function erf32Code(a: number, x: number, z: number, p: number): Code {
  return [
    ...op.get(a), ...op.f64x2Const(-4), ...op.f64x2Max(), ...op.f64x2Const(4), ...op.f64x2Min(), ...op.set(x),
    ...op.get(x), ...op.get(x), ...op.f64x2Mul(), ...op.set(z),
    // p = x·(p₁ + z·(p₃ + …)) — horner over z with the odd coefficients, then × x
    ...horner(z, ERF_P), ...op.get(x), ...op.f64x2Mul(), ...op.set(p),
    ...op.get(p), ...horner(z, ERF_Q), ...op.f64x2Div(),
    ...op.f64x2Const(-1), ...op.f64x2Max(), ...op.f64x2Const(1), ...op.f64x2Min(),
  ];
}

/**
 * Code for exp32 of the vector in local `x`, result left on the stack (math32.ts's exp32):
 * k = ⌊x·log₂e + ½⌋, r = x − k·ln2, eʳ by its degree-7 Taylor polynomial, times 2ᵏ; then 0
 * below −110, ∞ above 89 and NaN for NaN. Uses locals xc, k, r.
 */
function exp32Code(x: number, xc: number, k: number, r: number): Code {
  return [
    ...op.get(x), ...op.f64x2Const(-110), ...op.f64x2Max(), ...op.f64x2Const(89), ...op.f64x2Min(), ...op.set(xc),
    ...op.get(xc), ...op.f64x2Const(1.4426950408889634), ...op.f64x2Mul(), ...op.f64x2Const(0.5), ...op.f64x2Add(), ...op.f64x2Floor(), ...op.set(k),
    ...op.get(xc), ...op.get(k), ...op.f64x2Const(0.6931471805599453), ...op.f64x2Mul(), ...op.f64x2Sub(), ...op.set(r),
    ...horner(r, EXP_C),
    // 2ᵏ from its bits: (k + 1023) << 52 (k ∈ [−159, 129], always a normal float64)
    ...op.get(k), ...op.i32x4TruncSatF64x2SZero(), ...op.i64x2ExtendLowI32x4S(), ...op.i64x2Const(1023), ...op.i64x2Add(),
    ...op.i32(52), ...op.i64x2Shl(),
    ...op.f64x2Mul(),
    // x ≤ −110 → 0 (x > −110 keeps the value)
    ...op.f64x2Const(0), ...op.get(x), ...op.f64x2Const(-110), ...op.f64x2Gt(), ...op.v128Bitselect(),
    // x > 89 → ∞
    ...op.set(r), ...op.f64x2Const(Infinity), ...op.get(r), ...op.get(x), ...op.f64x2Const(89), ...op.f64x2Gt(), ...op.v128Bitselect(),
    // NaN → NaN
    ...op.set(r), ...op.get(x), ...op.get(r), ...op.get(x), ...op.get(x), ...op.f64x2Ne(), ...op.v128Bitselect(),
  ];
}

/** Loads two float32 at the address in local `ptr` as an f64x2 into local `dst`. */
const load2 = (ptr: number, dst: number): Code => [...op.get(ptr), ...op.v128Load64Zero(0), ...op.f64x2PromoteLowF32x4(), ...op.set(dst)];

/** A loop over n/2 vectors: `body` computes the f64x2 result; it is rounded and stored at `out`; `ptrs` advance by 8 bytes. */
function loop(n: number, ptrs: readonly number[], out: number, body: Code): Code {
  return [
    ...op.loop(),
    ...op.get(out), ...body, ...op.f32x4DemoteF64x2Zero(), ...op.v128Store64Lane(0, 0),
    ...ptrs.flatMap((p) => [...op.get(p), ...op.i32(8), ...op.i32Add(), ...op.set(p)]),
    ...op.get(n), ...op.i32(2), ...op.i32Sub(), ...op.tee(n), ...op.i32(0), ...op.i32GtS(), ...op.brIf(0),
    ...op.end(),
  ];
}

/** `gelu(src, dst, n)`: params 0–2; v128 locals a, x, z, p. */
export function geluBody(): Code {
  const SRC = 0, DST = 1, N = 2, A = 3, X = 4, Z = 5, P = 6, E = 7;
  const body: Code = [
    ...load2(SRC, A),
    // ½a·(1 + erf32(a·(1/√2)))
    ...op.f64x2Const(0.5), ...op.get(A), ...op.f64x2Mul(),
    ...op.f64x2Const(1),
    ...op.get(A), ...op.f64x2Const(INV_SQRT2), ...op.f64x2Mul(), ...op.set(E),
    ...erf32Code(E, X, Z, P),
    ...op.f64x2Add(), ...op.f64x2Mul(),
  ];
  return [...vec([[...uleb(5), V128]]), ...loop(N, [SRC, DST], DST, body), ...op.end()];
}

/** `geluBackward(a, b, dst, n)`: params 0–3; v128 locals. */
export function geluBackwardBody(): Code {
  const PA = 0, PB = 1, DST = 2, N = 3, A = 4, B = 5, X = 6, Z = 7, P = 8, E = 9, T = 10;
  const body: Code = [
    ...load2(PA, A), ...load2(PB, B),
    ...op.get(B),
    // t₁ = ½·(1 + erf32(a·(1/√2)))
    ...op.f64x2Const(0.5),
    ...op.f64x2Const(1),
    ...op.get(A), ...op.f64x2Const(INV_SQRT2), ...op.f64x2Mul(), ...op.set(E),
    ...erf32Code(E, X, Z, P),
    ...op.f64x2Add(), ...op.f64x2Mul(),
    // t₂ = (a·(1/√(2π)))·exp32((−½·a)·a)
    ...op.get(A), ...op.f64x2Const(INV_SQRT_2PI), ...op.f64x2Mul(),
    ...op.f64x2Const(-0.5), ...op.get(A), ...op.f64x2Mul(), ...op.get(A), ...op.f64x2Mul(), ...op.set(T),
    ...exp32Code(T, X, Z, P),
    ...op.f64x2Mul(),
    // b·(t₁ + t₂)
    ...op.f64x2Add(), ...op.f64x2Mul(),
  ];
  return [...vec([[...uleb(7), V128]]), ...loop(N, [PA, PB, DST], DST, body), ...op.end()];
}

/**
 * `adam(p, g, m, v, n, decay, b1, c1, b2, c2, negStep, bc2, eps)`: the Adam/AdamW update of
 * src/optim/fused-cpu.ts on float32 arrays at byte addresses p, g, m, v (n a multiple of 4),
 * in f32x4 — every operation an IEEE single-precision one, as the JS loop's Math.fround after
 * each operation makes it, so both give the same bits:
 *   θ ← θ·decay;  m ← m·b₁ + g·c₁;  v ← v·b₂ + (g·c₂)·g;  θ ← θ + (m·negStep) / (√v / bc₂ + ε)
 */
export function adamBody(): Code {
  const P = 0, G = 1, M = 2, V = 3, N = 4; // i32 params
  const SC = 5; // f32 params 5…12: decay, b1, c1, b2, c2, negStep, bc2, eps
  const S = 13; // v128 locals 13…20: the splatted scalars
  const GI = 21, PI = 22, MI = 23, VI = 24;
  const sc = (k: number): number => S + k;
  const [DECAY, B1, C1, B2, C2, NEG, BC2, EPS] = [0, 1, 2, 3, 4, 5, 6, 7].map(sc) as [number, number, number, number, number, number, number, number];
  const code: Code = [];
  for (let k = 0; k < 8; k++) code.push(...op.get(SC + k), ...op.f32x4Splat(), ...op.set(S + k));
  code.push(
    ...op.loop(),
    ...op.get(G), ...op.v128Load(0), ...op.set(GI),
    ...op.get(P), ...op.v128Load(0), ...op.get(DECAY), ...op.f32x4Mul(), ...op.set(PI),
    // m ← m·b₁ + g·c₁
    ...op.get(M), ...op.v128Load(0), ...op.get(B1), ...op.f32x4Mul(), ...op.get(GI), ...op.get(C1), ...op.f32x4Mul(), ...op.f32x4Add(), ...op.set(MI),
    ...op.get(M), ...op.get(MI), ...op.v128Store(0),
    // v ← v·b₂ + (g·c₂)·g
    ...op.get(V), ...op.v128Load(0), ...op.get(B2), ...op.f32x4Mul(), ...op.get(GI), ...op.get(C2), ...op.f32x4Mul(), ...op.get(GI), ...op.f32x4Mul(), ...op.f32x4Add(), ...op.set(VI),
    ...op.get(V), ...op.get(VI), ...op.v128Store(0),
    // θ ← θ·decay + (m·negStep) / (√v / bc₂ + ε)
    ...op.get(P), ...op.get(PI),
    ...op.get(MI), ...op.get(NEG), ...op.f32x4Mul(),
    ...op.get(VI), ...op.f32x4Sqrt(), ...op.get(BC2), ...op.f32x4Div(), ...op.get(EPS), ...op.f32x4Add(),
    ...op.f32x4Div(), ...op.f32x4Add(), ...op.v128Store(0),
    ...[P, G, M, V].flatMap((q) => [...op.get(q), ...op.i32(16), ...op.i32Add(), ...op.set(q)]),
    ...op.get(N), ...op.i32(4), ...op.i32Sub(), ...op.tee(N), ...op.i32(0), ...op.i32GtS(), ...op.brIf(0),
    ...op.end(),
  );
  return [...vec([[...uleb(12), V128]]), ...code, ...op.end()];
}

/** The float32 arithmetic opcodes that have a wasm kernel (all IEEE-exact: the same bits as JS). */
export const BINARY_F32 = ['add', 'sub', 'mul', 'div'] as const;
export type BinaryF32 = (typeof BINARY_F32)[number];

/**
 * `op(a, b, dst, n)`: dst[i] = a[i] ∘ b[i] for float32 arrays at byte addresses a, b, dst and
 * n a multiple of 4, four lanes at a time. A single-precision IEEE operation gives the same bits
 * as the JS kernel's double-precision one rounded to float32 (53 ≥ 2·24 + 2 bits, so the double
 * rounding of +, −, ×, ÷ is innocuous).
 */
export function binaryBody(name: BinaryF32): Code {
  const A = 0, B = 1, DST = 2, N = 3;
  const f = { add: op.f32x4Add, sub: op.f32x4Sub, mul: op.f32x4Mul, div: op.f32x4Div }[name];
  return [
    ...vec([]),
    ...op.loop(),
    ...op.get(DST), ...op.get(A), ...op.v128Load(0), ...op.get(B), ...op.v128Load(0), ...f(), ...op.v128Store(0),
    ...[A, B, DST].flatMap((q) => [...op.get(q), ...op.i32(16), ...op.i32Add(), ...op.set(q)]),
    ...op.get(N), ...op.i32(4), ...op.i32Sub(), ...op.tee(N), ...op.i32(0), ...op.i32GtS(), ...op.brIf(0),
    ...op.end(),
    ...op.end(),
  ];
}

/**
 * `dropout(src, mask, dst, n, c0, k2, T, value)`: the counter-based Bernoulli mask of
 * src/tensor/random.ts and the masked product, four lanes at a time, for n (a multiple of 4)
 * float32 elements whose counters start at c0 = i₀ + k₁:
 *   x = h(h(c) ⊕ k₂),  mask = x ≥ T (unsigned) ? value : 0,  dst = src·mask
 * with h Wellons' lowbias32 hash and T = ⌈p·2³²⌉ (p < 1). Integer arithmetic is exact and the
 * product is one IEEE single multiply, so the bits equal the JS `bernoulliFill`'s.
 */
export function dropoutBody(): Code {
  const SRC = 0, MASK = 1, DST = 2, N = 3, C0 = 4, K2 = 5, T = 6, VALUE = 7;
  const CNT = 8, X = 9, M = 10, K2V = 11, TV = 12, VAL = 13;
  const lowbias = (v: number): Code => [
    ...op.get(v), ...op.get(v), ...op.i32(16), ...op.i32x4ShrU(), ...op.v128Xor(), ...op.i32x4Const([0x21f0aaad, 0x21f0aaad, 0x21f0aaad, 0x21f0aaad]), ...op.i32x4Mul(), ...op.set(v),
    ...op.get(v), ...op.get(v), ...op.i32(15), ...op.i32x4ShrU(), ...op.v128Xor(), ...op.i32x4Const([0x735a2d97, 0x735a2d97, 0x735a2d97, 0x735a2d97]), ...op.i32x4Mul(), ...op.set(v),
    ...op.get(v), ...op.get(v), ...op.i32(15), ...op.i32x4ShrU(), ...op.v128Xor(), ...op.set(v),
  ];
  const code: Code = [
    ...op.get(C0), ...op.i32x4Splat(), ...op.i32x4Const([0, 1, 2, 3]), ...op.i32x4Add(), ...op.set(CNT),
    ...op.get(K2), ...op.i32x4Splat(), ...op.set(K2V),
    ...op.get(T), ...op.i32x4Splat(), ...op.set(TV),
    ...op.get(VALUE), ...op.f32x4Splat(), ...op.set(VAL),
    ...op.loop(),
    ...op.get(CNT), ...op.set(X), ...lowbias(X),
    ...op.get(X), ...op.get(K2V), ...op.v128Xor(), ...op.set(X), ...lowbias(X),
    // mask = x ≥ T ? value : 0
    ...op.get(VAL), ...op.v128Zero(), ...op.get(X), ...op.get(TV), ...op.i32x4GeU(), ...op.v128Bitselect(), ...op.set(M),
    ...op.get(MASK), ...op.get(M), ...op.v128Store(0),
    ...op.get(DST), ...op.get(SRC), ...op.v128Load(0), ...op.get(M), ...op.f32x4Mul(), ...op.v128Store(0),
    ...op.get(CNT), ...op.i32x4Const([4, 4, 4, 4]), ...op.i32x4Add(), ...op.set(CNT),
    ...[SRC, MASK, DST].flatMap((q) => [...op.get(q), ...op.i32(16), ...op.i32Add(), ...op.set(q)]),
    ...op.get(N), ...op.i32(4), ...op.i32Sub(), ...op.tee(N), ...op.i32(0), ...op.i32GtS(), ...op.brIf(0),
    ...op.end(),
  ];
  return [...vec([[...uleb(6), V128]]), ...code, ...op.end()];
}
