/**
 * A minimal WebAssembly assembler: LEB128, sections, and the instructions the run-time
 * generated kernels use (core spec §5 binary format; SIMD opcodes are 0xfd-prefixed, numbered
 * as in the fixed-width SIMD proposal's final opcode table). Shared by wasm-gemm.ts (the GEMM
 * micro-kernel) and wasm-elementwise.ts (transcendental elementwise kernels).
 */


/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));

export const PAGE = 65536;
export const MAX_PAGES = 65536; // 4 GiB, wasm32's limit

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export const EMPTY_BLOCK = 0x40;

/** The instructions the kernel uses (core spec §5.4; SIMD opcodes are 0xfd-prefixed). */
export const op = {
  block: (): number[] => [0x02, EMPTY_BLOCK],
  if: (): number[] => [0x04, EMPTY_BLOCK],
  else: (): number[] => [0x05],
  loop: (): number[] => [0x03, EMPTY_BLOCK],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  select: (): number[] => [0x1b],
  end: (): number[] => [0x0b],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(v)],
  i32Add: (): number[] => [0x6a],
  i32Sub: (): number[] => [0x6b],
  i32Mul: (): number[] => [0x6c],
  i32LtU: (): number[] => [0x49],
  i32LtS: (): number[] => [0x48],
  i32GeS: (): number[] => [0x4e],
  i32GtS: (): number[] => [0x4a],
  i32Eq: (): number[] => [0x46],
  i32Eqz: (): number[] => [0x45],
  i32And: (): number[] => [0x71],
  i64: (v: number): number[] => [0x42, ...sleb(v)],
  // scalar bit copies (no float conversion, NaN payloads kept)
  i32Load: (): number[] => [0x28, 2, 0],
  i64Load: (): number[] => [0x29, 3, 0],
  i32Store: (): number[] => [0x36, 2, 0],
  i64Store: (): number[] => [0x37, 3, 0],
  // memarg = (log2 alignment, constant byte offset)
  v128Zero: (): number[] => [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  v128Load: (offset: number): number[] => [0xfd, ...uleb(0x00), 4, ...uleb(offset)],
  v128Store: (offset: number): number[] => [0xfd, ...uleb(0x0b), 4, ...uleb(offset)],
  load32Splat: (offset: number): number[] => [0xfd, ...uleb(0x09), 2, ...uleb(offset)],
  load64Splat: (offset: number): number[] => [0xfd, ...uleb(0x0a), 3, ...uleb(offset)],
  f32x4Add: (): number[] => [0xfd, ...uleb(0xe4)],
  f32x4Mul: (): number[] => [0xfd, ...uleb(0xe6)],
  f32x4Div: (): number[] => [0xfd, ...uleb(0xe7)],
  f32x4Sub: (): number[] => [0xfd, ...uleb(0xe5)],
  f32x4Sqrt: (): number[] => [0xfd, ...uleb(0xe3)],
  /** i8x16.shuffle: bytes of the two operands (0–15 first, 16–31 second) picked by `lanes` */
  shuffle: (lanes: readonly number[]): number[] => [0xfd, ...uleb(0x0d), ...lanes],
  // scalar f64 (layer norm's row statistics)
  f64Add: (): number[] => [0xa0],
  f64Sub: (): number[] => [0xa1],
  f64Mul: (): number[] => [0xa2],
  f64Div: (): number[] => [0xa3],
  f64Sqrt: (): number[] => [0x9f],
  /** IEEE maximum (NaN in either operand gives NaN) */
  f64Max: (): number[] => [0xa5],
  f64Const: (v: number): number[] => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)],
  f64ConvertI32S: (): number[] => [0xb7],
  f64Load: (offset: number): number[] => [0x2b, 3, ...uleb(offset)],
  f64Store: (offset: number): number[] => [0x39, 3, ...uleb(offset)],
  f64x2Splat: (): number[] => [0xfd, ...uleb(0x14)],
  f64x2ExtractLane: (lane: number): number[] => [0xfd, ...uleb(0x21), lane],
  /** (vector, f64) → the vector with lane `lane` replaced */
  f64x2ReplaceLane: (lane: number): number[] => [0xfd, ...uleb(0x22), lane],
  i32x4Splat: (): number[] => [0xfd, ...uleb(0x11)],
  i32x4Add: (): number[] => [0xfd, ...uleb(0xae)],
  /** lane-wise product, low 32 bits (Math.imul) */
  i32x4Mul: (): number[] => [0xfd, ...uleb(0xb5)],
  /** lane-wise logical shift right by the i32 on top of the stack */
  i32x4ShrU: (): number[] => [0xfd, ...uleb(0xad)],
  i32x4GeU: (): number[] => [0xfd, ...uleb(0x40)],
  v128Xor: (): number[] => [0xfd, ...uleb(0x51)],
  /** v128.const with four int32 lanes */
  i32x4Const: (lanes: readonly [number, number, number, number]): number[] => [0xfd, ...uleb(0x0c), ...new Uint8Array(new Int32Array(lanes).buffer)],
  /** f32 on the stack → all four lanes */
  f32x4Splat: (): number[] => [0xfd, ...uleb(0x13)],
  f64x2Add: (): number[] => [0xfd, ...uleb(0xf0)],
  f64x2Mul: (): number[] => [0xfd, ...uleb(0xf2)],
  /** relaxed SIMD: a·b + c, fused or not at the engine's choice. */
  f32x4RelaxedMadd: (): number[] => [0xfd, ...uleb(0x105)],
  // f64x2 arithmetic for the elementwise kernels (wasm-elementwise.ts)
  /** v128.const with the float64 v in both lanes */
  f64x2Const: (v: number): number[] => {
    const b = new Uint8Array(new Float64Array([v, v]).buffer);
    return [0xfd, ...uleb(0x0c), ...b];
  },
  /** v128.const with the int64 v (|v| < 2³¹) in both lanes */
  i64x2Const: (v: number): number[] => {
    const b = new Uint8Array(new BigInt64Array([BigInt(v), BigInt(v)]).buffer);
    return [0xfd, ...uleb(0x0c), ...b];
  },
  /** two float32 into the low 64 bits, zeroing the rest */
  v128Load64Zero: (offset: number): number[] => [0xfd, ...uleb(0x5d), 3, ...uleb(offset)],
  /** stores the 64-bit lane `lane` */
  v128Store64Lane: (offset: number, lane: number): number[] => [0xfd, ...uleb(0x5b), 3, ...uleb(offset), lane],
  /** stores the 32-bit lane `lane` */
  v128Store32Lane: (offset: number, lane: number): number[] => [0xfd, ...uleb(0x5a), 2, ...uleb(offset), lane],
  f64x2PromoteLowF32x4: (): number[] => [0xfd, ...uleb(0x5f)],
  f32x4DemoteF64x2Zero: (): number[] => [0xfd, ...uleb(0x5e)],
  f64x2Sub: (): number[] => [0xfd, ...uleb(0xf1)],
  f64x2Div: (): number[] => [0xfd, ...uleb(0xf3)],
  /** IEEE minimum / maximum: NaN in either operand gives NaN, −0 < +0 */
  f64x2Min: (): number[] => [0xfd, ...uleb(0xf4)],
  f64x2Max: (): number[] => [0xfd, ...uleb(0xf5)],
  /**
   * Pseudo-minimum / -maximum, pmin(a, b) = b < a ? b : a and pmax(a, b) = a < b ? b : a: one
   * x86 minpd/maxpd each, where min/max need a NaN/±0 fix-up sequence. With a constant b they
   * clamp exactly as min/max do (a NaN a stays NaN; a ±0 a is kept). GELU with them: 2× faster
   */
  f64x2Pmin: (): number[] => [0xfd, ...uleb(0xf6)],
  f64x2Pmax: (): number[] => [0xfd, ...uleb(0xf7)],
  f64x2Floor: (): number[] => [0xfd, ...uleb(0x75)],
  f64x2Ne: (): number[] => [0xfd, ...uleb(0x48)],
  f64x2Gt: (): number[] => [0xfd, ...uleb(0x4a)],
  /** (v1 & mask) | (v2 & ~mask), operands pushed v1, v2, mask */
  v128Bitselect: (): number[] => [0xfd, ...uleb(0x52)],
  i32x4TruncSatF64x2SZero: (): number[] => [0xfd, ...uleb(0xfc)],
  i64x2ExtendLowI32x4S: (): number[] => [0xfd, ...uleb(0xc7)],
  i64x2Shl: (): number[] => [0xfd, ...uleb(0xcb)],
  i64x2Add: (): number[] => [0xfd, ...uleb(0xce)],
};

/** The slice of the WebAssembly JS API used here (the project's `lib` has no DOM typings). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (desc: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;


