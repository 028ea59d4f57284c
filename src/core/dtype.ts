/**
 * Data types. A tensor's dtype fixes the typed array behind its storage:
 *
 *   float32 → Float32Array (the default, as in PyTorch)
 *   float64 → Float64Array (for gradient checks and golden tests)
 *   int32   → Int32Array   (indices, labels)
 *   bool    → Uint8Array   (masks; 0 or 1)
 */

export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** The typed array holding each dtype's data: Float32Array, Float64Array, Int32Array, or Uint8Array (bool). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function isFloatingDType(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** Allocates a zero-filled typed array for `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    case 'bool': return new Uint8Array(size);
    default: return assertNever(dtype, 'dtype');
  }
}

/** The dtype a typed array holds; Uint8Array is read as bool. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  throw new TypeError(`unsupported typed array ${(a as object).constructor.name}`);
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Type promotion of two tensors, as torch.result_type does for these four dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** bool < integer < floating: the categories of PyTorch's type promotion. */
const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };

/**
 * The dtype of an op on two tensors, as torch.result_type: a 0-d tensor takes part like a
 * scalar — it cannot widen a dimensioned tensor's dtype within the same category
 * (float32 tensor ∘ 0-d float64 tensor → float32), but a higher category wins
 * (int32 tensor ∘ 0-d float64 tensor → float64). Two dimensioned (or two 0-d) tensors promote
 * with `promoteTypes`.
 */
export function resultType(a: { dtype: DType; ndim: number }, b: { dtype: DType; ndim: number }): DType {
  if ((a.ndim === 0) === (b.ndim === 0)) return promoteTypes(a.dtype, b.dtype);
  const [dim, zero] = a.ndim > 0 ? [a, b] : [b, a];
  return CATEGORY[zero.dtype] > CATEGORY[dim.dtype] ? zero.dtype : dim.dtype;
}

/**
 * The dtype of `tensor ∘ scalar`: a Python-style scalar never widens a tensor's float dtype,
 * but a non-integer scalar makes an integer/bool tensor float32 (torch semantics).
 */
export function promoteWithScalar(t: DType, scalar: number | boolean): DType {
  if (typeof scalar === 'boolean') return t;
  if (isFloatingDType(t)) return t;
  if (!Number.isInteger(scalar)) return 'float32';
  return t === 'bool' ? 'int32' : t;
}

export function assertNever(x: never, what: string): never {
  throw new Error(`unhandled ${what}: ${String(x)}`);
}

// ---- argument checks shared by creation functions and ops (issue #11 item 17) --------------------

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** A short description of a value for error messages: `string 'a'`, `undefined`, `an array [1,2]`, … */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `string '${v.length > 20 ? `${v.slice(0, 20)}…` : v}'`;
  if (Array.isArray(v)) return `an array (length ${v.length}; wrap it with tensor(...))`;
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  return `${typeof v} ${String(v)}`;
}

/** Throws a TypeError unless `v` is a number or a boolean (a scalar argument). */
export function checkScalarArg(op: string, arg: string, v: unknown, alsoTensor = false): void {
  if (typeof v === 'number' || typeof v === 'boolean') return;
  throw new TypeError(`${op}: expected ${alsoTensor ? 'a tensor, a number or a boolean' : 'a number or a boolean'} as ${arg}, got ${describeValue(v)}`);
}

/**
 * Throws a RangeError when `v` cannot be stored in int32 without overflow (PyTorch: "value
 * cannot be converted to type int32 without overflow"); a typed-array store would wrap it.
 */
export function checkInt32(op: string, v: number, where = ''): void {
  if (!(v >= INT32_MIN && v <= INT32_MAX)) {
    throw new RangeError(`${op}: value ${v}${where} cannot be converted to int32 without overflow (int32 holds ${INT32_MIN} … ${INT32_MAX}; there is no int64)`);
  }
}
