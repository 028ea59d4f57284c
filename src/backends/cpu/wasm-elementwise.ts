/**
 * WebAssembly SIMD bodies of the CPU's hot float32 elementwise and row kernels, assembled at
 * run time (no binary is shipped, like wasm-gemm.ts) and compiled into the float32 GEMM module,
 * so that the GEMM's helper threads can run them on the shared memory too (cpu/elementwise.ts
 * stages the data and splits the work):
 *
 *   gelu, geluBackward        GELU (Hendrycks & Gimpel 2016) and its gradient, f64x2
 *   add, sub, mul, div        f32x4
 *   dropout                   counter-based Bernoulli mask (src/tensor/random.ts) and product, i32x4/f32x4
 *   adam                      the Adam/AdamW update of cpu/adam.ts, f32x4
 *   layerNormForward/Backward layer norm rows (Ba et al. 2016), f64x2
 *   softmaxForward/Backward   softmax(scale·x + mask) rows and its gradient, f64x2
 *
 * The elementwise ones compute *exactly* what the plain-JS float32 kernels compute: GELU
 * evaluates the formulas of opcodes.ts with math32.ts's erf32/exp32 in float64, with the same
 * operations in the same order, and rounds to float32 once on store (only exp32's scale 2ᵏ is
 * built from its bits, ((k + 1023) << 52), instead of read from a table — the same power of
 * two); single-precision +, −, ×, ÷, √ give the same bits as JS's float64 result rounded
 * (53 ≥ 2·24 + 2); integer hashing is exact. IEEE-754 makes each step bit-identical
 * (test/backends/wasm-elementwise.test.ts). The row kernels sum over two lanes, so their
 * float64 sums are formed as (Σ over even indices) + (Σ over odd ones), which the JS loops of
 * softmax and layer norm forward follow, so those give the same bits too (row-kernels.test.ts).
 *
 *   gelu(x)            = ½x·(1 + erf32(x/√2))
 *   geluBackward(x, g) = g·(½(1 + erf32(x/√2)) + (x/√(2π))·exp32(−½x²))
 */
import { INV_SQRT2, INV_SQRT_2PI } from '../opcodes.js';
import { F64, I32, op, uleb, V128, vec } from './wasm-asm.js';

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
    ...op.get(a), ...op.f64x2Const(-4), ...op.f64x2Pmax(), ...op.f64x2Const(4), ...op.f64x2Pmin(), ...op.set(x),
    ...op.get(x), ...op.get(x), ...op.f64x2Mul(), ...op.set(z),
    // p = x·(p₁ + z·(p₃ + …)) — horner over z with the odd coefficients, then × x
    ...horner(z, ERF_P), ...op.get(x), ...op.f64x2Mul(), ...op.set(p),
    ...op.get(p), ...horner(z, ERF_Q), ...op.f64x2Div(),
    ...op.f64x2Const(-1), ...op.f64x2Pmax(), ...op.f64x2Const(1), ...op.f64x2Pmin(),
  ];
}

/**
 * Code for exp32 of the vector in local `x`, result left on the stack (math32.ts's exp32):
 * k = ⌊x·log₂e + ½⌋, r = x − k·ln2, eʳ by its degree-7 Taylor polynomial, times 2ᵏ; then 0
 * below −110, ∞ above 89 and NaN for NaN. Uses locals xc, kk (for k), r.
 */
function exp32Code(x: number, xc: number, kk: number, r: number): Code {
  return [
    ...op.get(x), ...op.f64x2Const(-110), ...op.f64x2Pmax(), ...op.f64x2Const(89), ...op.f64x2Pmin(), ...op.set(xc),
    ...op.get(xc), ...op.f64x2Const(1.4426950408889634), ...op.f64x2Mul(), ...op.f64x2Const(0.5), ...op.f64x2Add(), ...op.f64x2Floor(), ...op.set(kk),
    ...op.get(xc), ...op.get(kk), ...op.f64x2Const(0.6931471805599453), ...op.f64x2Mul(), ...op.f64x2Sub(), ...op.set(r),
    ...horner(r, EXP_C),
    // 2ᵏ from its bits: (k + 1023) << 52 (k ∈ [−159, 129], always a normal float64)
    ...op.get(kk), ...op.i32x4TruncSatF64x2SZero(), ...op.i64x2ExtendLowI32x4S(), ...op.i64x2Const(1023), ...op.i64x2Add(),
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

/** Loads two float32 at `offset` bytes past the address in local `ptr` as an f64x2 into local `dst`. */
const load2 = (ptr: number, dst: number, offset = 0): Code => [...op.get(ptr), ...op.v128Load64Zero(offset), ...op.f64x2PromoteLowF32x4(), ...op.set(dst)];

/**
 * A loop over n elements (n a multiple of 4, as the callers pad), four per iteration as two
 * independent f64x2 halves: `body(offset, locals)` computes one half's result from the elements
 * `offset` bytes past the pointers, using its own set of v128 locals (the first half the locals
 * from `v0`, the second from `v0 + nv`), so the two dependency chains overlap in the CPU (the
 * polynomials are latency-bound; measured 1.23× on GELU, 1.2× on its gradient); each result is rounded and stored at
 * `out` + offset; the `ptrs` advance by 16 bytes.
 */
function loop(n: number, ptrs: readonly number[], out: number, v0: number, nv: number, body: (offset: number, v: number) => Code): Code {
  return [
    ...op.loop(),
    ...[0, 1].flatMap((h) => [...op.get(out), ...body(8 * h, v0 + nv * h), ...op.f32x4DemoteF64x2Zero(), ...op.v128Store64Lane(8 * h, 0)]),
    ...ptrs.flatMap((p) => [...op.get(p), ...op.i32(16), ...op.i32Add(), ...op.set(p)]),
    ...op.get(n), ...op.i32(4), ...op.i32Sub(), ...op.tee(n), ...op.i32(0), ...op.i32GtS(), ...op.brIf(0),
    ...op.end(),
  ];
}

/** `gelu(src, dst, n)`: params 0–2; two sets of v128 locals a, x, z, p, e (see `loop`). */
export function geluBody(): Code {
  const SRC = 0, DST = 1, N = 2, NV = 5;
  const body = (off: number, v: number): Code => {
    const A = v, X = v + 1, Z = v + 2, P = v + 3, E = v + 4;
    return [
      ...load2(SRC, A, off),
      // ½a·(1 + erf32(a·(1/√2)))
      ...op.f64x2Const(0.5), ...op.get(A), ...op.f64x2Mul(),
      ...op.f64x2Const(1),
      ...op.get(A), ...op.f64x2Const(INV_SQRT2), ...op.f64x2Mul(), ...op.set(E),
      ...erf32Code(E, X, Z, P),
      ...op.f64x2Add(), ...op.f64x2Mul(),
    ];
  };
  return [...vec([[...uleb(2 * NV), V128]]), ...loop(N, [SRC, DST], DST, 3, NV, body), ...op.end()];
}

/** `geluBackward(a, b, dst, n)`: params 0–3; two sets of v128 locals (see `loop`). */
export function geluBackwardBody(): Code {
  const PA = 0, PB = 1, DST = 2, N = 3, NV = 7;
  const body = (off: number, v: number): Code => {
    const A = v, B = v + 1, X = v + 2, Z = v + 3, P = v + 4, E = v + 5, T = v + 6;
    return [
      ...load2(PA, A, off), ...load2(PB, B, off),
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
  };
  return [...vec([[...uleb(2 * NV), V128]]), ...loop(N, [PA, PB, DST], DST, 4, NV, body), ...op.end()];
}

/**
 * `adam(p, g, m, v, n, decay, b1, c1, b2, c2, negStep, bc2, eps)`: the Adam/AdamW update of
 * cpu/adam.ts on float32 arrays at byte addresses p, g, m, v (n a multiple of 4),
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

/** Code: `for (i = 0; i < n; i += 2) body` over locals i and n (n ≥ 2, even). */
const pairLoop = (i: number, n: number, body: Code): Code => [
  ...op.i32(0), ...op.set(i), ...op.loop(), ...body,
  ...op.get(i), ...op.i32(2), ...op.i32Add(), ...op.tee(i), ...op.get(n), ...op.i32LtS(), ...op.brIf(0), ...op.end(),
];
/** Code: the address base + i·es on the stack (locals base and i). */
const elementAt = (base: number, i: number, es: number): Code => [...op.get(base), ...op.get(i), ...op.i32(es), ...op.i32Mul(), ...op.i32Add()];
/** Code: the address of row `row` of an R×n matrix of es-byte elements at base (locals). */
const rowAt = (base: number, row: number, n: number, es: number): Code => [...op.get(base), ...op.get(row), ...op.get(n), ...op.i32Mul(), ...op.i32(es), ...op.i32Mul(), ...op.i32Add()];
/** Code: `for (row = r0; row < r1; row++) body` over locals. */
const rowsLoop = (row: number, r0: number, r1: number, body: Code): Code => [
  ...op.get(r0), ...op.set(row),
  ...op.block(), ...op.loop(),
  ...op.get(row), ...op.get(r1), ...op.i32GeS(), ...op.brIf(1),
  ...body,
  ...op.get(row), ...op.i32(1), ...op.i32Add(), ...op.set(row), ...op.br(0),
  ...op.end(), ...op.end(),
];

/** Code: the sum of local v's two f64 lanes, on the stack. */
const laneSum = (v: number): Code => [...op.get(v), ...op.f64x2ExtractLane(0), ...op.get(v), ...op.f64x2ExtractLane(1), ...op.f64Add()];
/** Code: two float32 at address (base + i·4) as f64x2. */
const load2At = (base: number, i: number): Code => [...elementAt(base, i, 4), ...op.v128Load64Zero(0), ...op.f64x2PromoteLowF32x4()];

/**
 * `layerNormForward(x, w, b, y, stats, n, R, eps, r0, r1)`: layer norm (Ba et al. 2016) of rows
 * r0 ≤ r < r1 of length n (even) of the float32 R×n matrix at x, as src/backends/cpu/fused.ts's
 * loop — μ = Σx/n, σ² = Σ(x − μ)²/n (two passes), r = 1/√(σ² + ε), y = (x − μ)·r·w + b — in
 * f64x2 (two lanes summed at the end of a row, so sums may differ from the JS loop's in the
 * last float64 bits). μ and r go to the float64 arrays stats[r] and stats[R + r].
 */
export function layerNormForwardBody(): Code {
  const X = 0, W = 1, B = 2, Y = 3, ST = 4, N = 5, R = 6, EPS = 7, R0 = 8, R1 = 9;
  const ROW = 10, I = 11, XR = 12, YR = 13; // i32
  const MU = 14, RS = 15, NF = 16; // f64
  const ACC = 17, V = 18, MUV = 19, RSV = 20; // v128
  const code: Code = [
    ...op.get(N), ...op.f64ConvertI32S(), ...op.set(NF),
    ...rowsLoop(ROW, R0, R1, [
    ...rowAt(X, ROW, N, 4), ...op.set(XR),
    ...rowAt(Y, ROW, N, 4), ...op.set(YR),
    // μ
    ...op.v128Zero(), ...op.set(ACC),
    ...pairLoop(I, N, [...op.get(ACC), ...load2At(XR, I), ...op.f64x2Add(), ...op.set(ACC)]),
    ...laneSum(ACC), ...op.get(NF), ...op.f64Div(), ...op.set(MU),
    ...op.get(MU), ...op.f64x2Splat(), ...op.set(MUV),
    // σ², r
    ...op.v128Zero(), ...op.set(ACC),
    ...pairLoop(I, N, [...load2At(XR, I), ...op.get(MUV), ...op.f64x2Sub(), ...op.set(V), ...op.get(ACC), ...op.get(V), ...op.get(V), ...op.f64x2Mul(), ...op.f64x2Add(), ...op.set(ACC)]),
    ...op.f64Const(1), ...laneSum(ACC), ...op.get(NF), ...op.f64Div(), ...op.get(EPS), ...op.f64Add(), ...op.f64Sqrt(), ...op.f64Div(), ...op.set(RS),
    ...op.get(RS), ...op.f64x2Splat(), ...op.set(RSV),
    ...op.get(ST), ...op.get(ROW), ...op.i32(8), ...op.i32Mul(), ...op.i32Add(), ...op.get(MU), ...op.f64Store(0),
    ...op.get(ST), ...op.get(R), ...op.get(ROW), ...op.i32Add(), ...op.i32(8), ...op.i32Mul(), ...op.i32Add(), ...op.get(RS), ...op.f64Store(0),
    // y = (x − μ)·r·w + b
    ...pairLoop(I, N, [
      ...elementAt(YR, I, 4),
      ...load2At(XR, I), ...op.get(MUV), ...op.f64x2Sub(), ...op.get(RSV), ...op.f64x2Mul(),
      ...load2At(W, I), ...op.f64x2Mul(), ...load2At(B, I), ...op.f64x2Add(),
      ...op.f32x4DemoteF64x2Zero(), ...op.v128Store64Lane(0, 0),
    ]),
    ]),
  ];
  return [...vec([[...uleb(4), I32], [...uleb(3), F64], [...uleb(4), V128]]), ...code, ...op.end()];
}

/**
 * `layerNormBackward(g, x, w, stats, dx, dwp, dbp, n, R, r0, r1, chunk)`: the gradient of
 * layerNormForward for rows r0 ≤ r < r1 (fused.ts's formulas, ĝ = g·w, x̂ = (x − μ)·r):
 *   ∂L/∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))   → dx (float32)
 *   ∂L/∂w += g·x̂,  ∂L/∂b += g                 → float64 partial sums at dwp/dbp + chunk·n·8
 * (the caller sums the chunks' partials).
 */
export function layerNormBackwardBody(): Code {
  const G = 0, X = 1, W = 2, ST = 3, DX = 4, DWP = 5, DBP = 6, N = 7, R = 8, R0 = 9, R1 = 10, CH = 11;
  const ROW = 12, I = 13, GR = 14, XR = 15, DXR = 16, DWR = 17, DBR = 18; // i32
  const NF = 19; // f64
  const A1 = 20, A2 = 21, XH = 22, GV = 23, GW = 24, MUV = 25, RSV = 26; // v128
  // x̂ and ĝ of elements I, I+1 into XH, GW (GV = g)
  const xhat: Code = [
    ...load2At(XR, I), ...op.get(MUV), ...op.f64x2Sub(), ...op.get(RSV), ...op.f64x2Mul(), ...op.set(XH),
    ...load2At(GR, I), ...op.set(GV), ...op.get(GV), ...load2At(W, I), ...op.f64x2Mul(), ...op.set(GW),
  ];
  const code: Code = [
    ...op.get(N), ...op.f64ConvertI32S(), ...op.set(NF),
    ...rowAt(DWP, CH, N, 8), ...op.set(DWR),
    ...rowAt(DBP, CH, N, 8), ...op.set(DBR),
    ...rowsLoop(ROW, R0, R1, [
    ...rowAt(G, ROW, N, 4), ...op.set(GR), ...rowAt(X, ROW, N, 4), ...op.set(XR), ...rowAt(DX, ROW, N, 4), ...op.set(DXR),
    ...op.get(ST), ...op.get(ROW), ...op.i32(8), ...op.i32Mul(), ...op.i32Add(), ...op.f64Load(0), ...op.f64x2Splat(), ...op.set(MUV),
    ...op.get(ST), ...op.get(R), ...op.get(ROW), ...op.i32Add(), ...op.i32(8), ...op.i32Mul(), ...op.i32Add(), ...op.f64Load(0), ...op.f64x2Splat(), ...op.set(RSV),
    ...op.v128Zero(), ...op.set(A1), ...op.v128Zero(), ...op.set(A2),
    ...pairLoop(I, N, [
      ...xhat,
      ...op.get(A1), ...op.get(GW), ...op.f64x2Add(), ...op.set(A1),
      ...op.get(A2), ...op.get(GW), ...op.get(XH), ...op.f64x2Mul(), ...op.f64x2Add(), ...op.set(A2),
      ...elementAt(DWR, I, 8), ...elementAt(DWR, I, 8), ...op.v128Load(0), ...op.get(GV), ...op.get(XH), ...op.f64x2Mul(), ...op.f64x2Add(), ...op.v128Store(0),
      ...elementAt(DBR, I, 8), ...elementAt(DBR, I, 8), ...op.v128Load(0), ...op.get(GV), ...op.f64x2Add(), ...op.v128Store(0),
    ]),
    // A1 ← mean(ĝ), A2 ← mean(ĝ·x̂), as splats
    ...laneSum(A1), ...op.get(NF), ...op.f64Div(), ...op.f64x2Splat(), ...op.set(A1),
    ...laneSum(A2), ...op.get(NF), ...op.f64Div(), ...op.f64x2Splat(), ...op.set(A2),
    ...pairLoop(I, N, [
      ...elementAt(DXR, I, 4),
      ...xhat,
      ...op.get(RSV), ...op.get(GW), ...op.get(A1), ...op.f64x2Sub(), ...op.get(XH), ...op.get(A2), ...op.f64x2Mul(), ...op.f64x2Sub(), ...op.f64x2Mul(),
      ...op.f32x4DemoteF64x2Zero(), ...op.v128Store64Lane(0, 0),
    ]),
    ]),
  ];
  return [...vec([[...uleb(7), I32], [...uleb(1), F64], [...uleb(7), V128]]), ...code, ...op.end()];
}

/**
 * `softmaxForward(x, m, mo, y, sc, n, scale, r0, r1, ch)`: softmax of rows r0 ≤ r < r1 (any
 * length n ≥ 1) of float32 x, of zᵢ = scale·xᵢ (+ maskᵢ), as cpu/fused.ts's loop: m = max z, eᵢ =
 * exp32(zᵢ − m), yᵢ = eᵢ/Σe — in f64x2, Σe as (Σ over even i) + (Σ over odd i), the order the
 * JS loop sums in too, so both give the same bits. mo < 0: no mask; else mo is the byte address of an int32
 * array of each row's mask offset (in elements, from m; the mask is contiguous along a row).
 * sc + ch·n·8 is this chunk's float64 scratch row.
 */
export function softmaxForwardBody(): Code {
  const X = 0, MB = 1, MO = 2, Y = 3, SC = 4, N = 5, SCALE = 6, R0 = 7, R1 = 8, CH = 9;
  const ROW = 10, I = 11, XR = 12, YR = 13, MR = 14, SR = 15, NE = 16; // i32
  const MX = 17, SUM = 18; // f64
  const Z = 19, ACC = 20, SV = 21, T1 = 22, T2 = 23, T3 = 24; // v128
  // Rows of any length n: pairs over the even part NE = n & ~1, then, when n is odd, the last
  // element alone (splatted to both lanes; it belongs to lane 0, as every even index does, so the
  // lane sums are those of the JS kernel: Σ over even indices + Σ over odd ones).
  const pairs = (body: Code): Code => [...op.get(NE), ...op.if(), ...pairLoop(I, NE, body), ...op.end()];
  const tail = (body: Code): Code => [...op.get(N), ...op.i32(1), ...op.i32And(), ...op.if(), ...op.get(NE), ...op.set(I), ...body, ...op.end()];
  /** z = scale·x (+ mask) of the vector in Z, into the scratch row at i (lane 0) and the running max */
  const scoreZ = (load: (base: number) => Code, store: Code): Code => [
    ...load(XR), ...op.get(SV), ...op.f64x2Mul(), ...op.set(Z),
    ...op.get(MO), ...op.i32(0), ...op.i32GeS(), ...op.if(),
    ...op.get(Z), ...load(MR), ...op.f64x2Add(), ...op.set(Z),
    ...op.end(),
    ...elementAt(SR, I, 8), ...op.get(Z), ...store,
    ...op.get(ACC), ...op.get(Z), ...op.f64x2Max(), ...op.set(ACC),
  ];
  const load1At = (base: number): Code => [...elementAt(base, I, 4), ...op.load32Splat(0), ...op.f64x2PromoteLowF32x4()];
  /** e = exp32(z − m) from the scratch row at i (loaded by `load`), stored back; returns it in Z */
  const expZ = (load: Code, store: Code): Code => [
    ...elementAt(SR, I, 8), ...load, ...op.get(T1), ...op.f64x2Sub(), ...op.set(Z),
    ...elementAt(SR, I, 8), ...exp32Code(Z, T2, T3, SV), ...op.tee(Z), ...store,
    // exp32Code used SV as a temporary: restore the scale splat
    ...op.get(SCALE), ...op.f64x2Splat(), ...op.set(SV),
  ];
  const code: Code = [
    ...rowAt(SC, CH, N, 8), ...op.set(SR),
    ...op.get(SCALE), ...op.f64x2Splat(), ...op.set(SV),
    ...op.get(N), ...op.i32(-2), ...op.i32And(), ...op.set(NE),
    ...rowsLoop(ROW, R0, R1, [
    ...rowAt(X, ROW, N, 4), ...op.set(XR),
    ...rowAt(Y, ROW, N, 4), ...op.set(YR),
    // the row's mask address (mo ≥ 0)
    ...op.get(MO), ...op.i32(0), ...op.i32GeS(), ...op.if(),
    ...op.get(MB), ...op.get(MO), ...op.get(ROW), ...op.i32(4), ...op.i32Mul(), ...op.i32Add(), ...op.i32Load(), ...op.i32(4), ...op.i32Mul(), ...op.i32Add(), ...op.set(MR),
    ...op.end(),
    // z = scale·x (+ mask) into the scratch row; its max
    ...op.f64x2Const(-Infinity), ...op.set(ACC),
    ...pairs(scoreZ((base) => load2At(base, I), op.v128Store(0))),
    ...tail(scoreZ(load1At, op.v128Store64Lane(0, 0))),
    ...op.get(ACC), ...op.f64x2ExtractLane(0), ...op.get(ACC), ...op.f64x2ExtractLane(1), ...op.f64Max(), ...op.set(MX),
    // e = exp32(z − m) into the scratch row; Σe
    ...op.get(MX), ...op.f64x2Splat(), ...op.set(T1),
    ...op.v128Zero(), ...op.set(ACC),
    ...pairs([...expZ(op.v128Load(0), op.v128Store(0)), ...op.get(ACC), ...op.get(Z), ...op.f64x2Add(), ...op.set(ACC)]),
    ...tail([...expZ(op.load64Splat(0), op.v128Store64Lane(0, 0)), ...op.get(ACC), ...op.get(Z), ...op.f64Const(0), ...op.f64x2ReplaceLane(1), ...op.f64x2Add(), ...op.set(ACC)]),
    ...laneSum(ACC), ...op.set(SUM),
    ...op.get(SUM), ...op.f64x2Splat(), ...op.set(T1),
    ...pairs([...elementAt(YR, I, 4), ...elementAt(SR, I, 8), ...op.v128Load(0), ...op.get(T1), ...op.f64x2Div(), ...op.f32x4DemoteF64x2Zero(), ...op.v128Store64Lane(0, 0)]),
    ...tail([...elementAt(YR, I, 4), ...elementAt(SR, I, 8), ...op.load64Splat(0), ...op.get(T1), ...op.f64x2Div(), ...op.f32x4DemoteF64x2Zero(), ...op.v128Store32Lane(0, 0)]),
    ]),
  ];
  return [...vec([[...uleb(7), I32], [...uleb(2), F64], [...uleb(6), V128]]), ...code, ...op.end()];
}

/**
 * `softmaxBackward(g, y, dx, n, scale, r0, r1, ch)`: ∂L/∂x = scale·yᵢ·(gᵢ − Σⱼ gⱼyⱼ) for rows
 * r0 ≤ r < r1 (length n, even) of float32 arrays, the row sum over two f64 lanes.
 */
export function softmaxBackwardBody(): Code {
  const G = 0, Yp = 1, DX = 2, N = 3, SCALE = 4, R0 = 5, R1 = 6;
  const ROW = 8, I = 9, GR = 10, YR = 11, DR = 12; // i32 (param 7 is the chunk index, unused)
  const ACC = 13, SV = 14, GY = 15; // v128
  const code: Code = [
    ...op.get(SCALE), ...op.f64x2Splat(), ...op.set(SV),
    ...rowsLoop(ROW, R0, R1, [
    ...rowAt(G, ROW, N, 4), ...op.set(GR), ...rowAt(Yp, ROW, N, 4), ...op.set(YR), ...rowAt(DX, ROW, N, 4), ...op.set(DR),
    ...op.v128Zero(), ...op.set(ACC),
    ...pairLoop(I, N, [...op.get(ACC), ...load2At(GR, I), ...load2At(YR, I), ...op.f64x2Mul(), ...op.f64x2Add(), ...op.set(ACC)]),
    ...laneSum(ACC), ...op.f64x2Splat(), ...op.set(GY),
    ...pairLoop(I, N, [
      ...elementAt(DR, I, 4),
      ...op.get(SV), ...load2At(YR, I), ...op.f64x2Mul(), ...load2At(GR, I), ...op.get(GY), ...op.f64x2Sub(), ...op.f64x2Mul(),
      ...op.f32x4DemoteF64x2Zero(), ...op.v128Store64Lane(0, 0),
    ]),
    ]),
  ];
  return [...vec([[...uleb(5), I32], [...uleb(3), V128]]), ...code, ...op.end()];
}
