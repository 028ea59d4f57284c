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
