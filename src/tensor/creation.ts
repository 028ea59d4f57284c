/**
 * Creation functions, named as in PyTorch: tensor, zeros, ones, full, arange, linspace, eye,
 * rand, randn, randint and the *Like variants. Random ones draw from the seeded default
 * generator (see random.ts), so `manualSeed(n)` makes them reproducible.
 */
import { getBackend, getDefaultDevice } from '../backends/index.js';
import { allocArray, checkInt32, checkScalarArg, dtypeOfArray, INT32_MAX, INT32_MIN, isDType, isFloatingDType, type DType, type TypedArray } from '../core/dtype.js';
import { checkShape, fmtShape, numel } from '../core/shape.js';
import { defaultGenerator } from './random.js';
import { Tensor, type NestedArray } from './tensor.js';
// every tensor a user can create has its methods: attach them (tensor/methods.ts)
import './methods.js';
import { checkAllocation } from '../core/limits.js';

/** Options of the creation functions: the dtype (default float32, or int32/bool from the data), the device (default `getDefaultDevice()`) and whether the new tensor requires grad. */
export interface TensorOptions {
  /** Element type: 'float32', 'float64', 'int32' or 'bool'. Default float32 (int32/bool where the data implies it). */
  dtype?: DType;
  /** Device to create the tensor on ('cpu', 'gpu'). Default `getDefaultDevice()`. */
  device?: string;
  /** Record operations on the new tensor for autograd (a leaf whose `.grad` backward fills). Default false. */
  requiresGrad?: boolean;
}

function checkOptions(op: string, opts: TensorOptions | undefined): Required<Pick<TensorOptions, 'device'>> & TensorOptions {
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new Error(`${op}: options must be an object, got ${String(opts)}`);
  if (opts?.dtype !== undefined && !isDType(opts.dtype)) {
    throw new Error(`${op}: unknown dtype '${String(opts.dtype)}' (expected 'float32', 'float64', 'int32' or 'bool')`);
  }
  return { ...opts, device: opts?.device ?? getDefaultDevice() };
}

function make(op: string, data: TypedArray, shape: number[], dtype: DType, opts: TensorOptions): Tensor {
  const o = checkOptions(op, opts);
  const t = Tensor.fromStorage(getBackend(o.device).fromArray(data, dtype), shape);
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Infers the shape of a nested array and checks that it is not ragged. */
function inferNested(data: unknown): { shape: number[]; flat: (number | boolean)[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: (number | boolean)[] = [];
  const walk = (x: unknown, d: number, path: string): void => {
    if (d === shape.length) {
      if (Array.isArray(x)) throw new Error(`tensor: ragged nested array: element ${path} is an array but elements at that depth elsewhere are scalars`);
      if (typeof x !== 'number' && typeof x !== 'boolean') {
        throw new Error(`tensor: expected numbers or booleans, got ${x === null ? 'null' : typeof x} at ${path || 'the top level'}`);
      }
      flat.push(x);
      return;
    }
    if (!Array.isArray(x)) throw new Error(`tensor: ragged nested array: expected a list of length ${shape[d]} at ${path || 'the top level'}, got a scalar`);
    if (x.length !== shape[d]) {
      throw new Error(`tensor: ragged nested array: expected a list of length ${shape[d]} at ${path || 'the top level'} (like its siblings), got length ${x.length}`);
    }
    for (let i = 0; i < x.length; i++) {
      // a sparse array ([1, , 3]) has a hole that forEach would skip, shifting later values
      if (!(i in x)) throw new TypeError(`tensor: the nested array has a hole (a sparse array) at ${path}[${i}]; every element must be a number or a boolean`);
      walk(x[i], d + 1, `${path}[${i}]`);
    }
  };
  walk(data, 0, '');
  return { shape, flat };
}

/**
 * Creates a tensor from a number, boolean, nested array or typed array (copied).
 * The dtype is inferred (booleans → bool, a typed array → its type, otherwise float32)
 * unless given.
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 */
export function tensor(data: NestedArray | TypedArray, opts: TensorOptions = {}): Tensor {
  checkOptions('tensor', opts);
  if (ArrayBuffer.isView(data)) {
    const arr = data as TypedArray;
    let src: TypedArray;
    try {
      src = arr;
      dtypeOfArray(arr);
    } catch {
      throw new Error(`tensor: unsupported typed array ${(data as object).constructor.name} (expected Float32Array, Float64Array, Int32Array or Uint8Array)`);
    }
    const dtype = opts.dtype ?? dtypeOfArray(arr);
    if (dtype === 'int32' && !(arr instanceof Int32Array) && !(arr instanceof Uint8Array)) checkInt32Array('tensor', arr);
    const out = allocArray(dtype, arr.length);
    out.set(src);
    return make('tensor', out, [arr.length], dtype, opts);
  }
  const { shape, flat } = inferNested(data);
  const allBool = flat.length > 0 && flat.every((v) => typeof v === 'boolean');
  const dtype = opts.dtype ?? (allBool ? 'bool' : 'float32');
  const out = allocArray(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    const num = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    if (dtype === 'int32' && !Number.isInteger(num)) {
      throw new Error(`tensor: dtype int32 needs integer values, got ${num} at flat index ${i}`);
    }
    if (dtype === 'int32') checkInt32('tensor', num, ` at flat index ${i}`);
    if (dtype === 'bool') out[i] = num !== 0 ? 1 : 0;
    else out[i] = num;
  }
  return make('tensor', out, shape, dtype, opts);
}

function filled(op: string, shape: readonly number[], value: number, opts: TensorOptions): Tensor {
  const s = checkShape(op, shape);
  const o = checkOptions(op, opts);
  const dtype = o.dtype ?? 'float32';
  checkAllocation(op, s, dtype);
  const t = Tensor.fromStorage(getBackend(o.device).full(numel(s), dtype, dtype === 'bool' ? (value ? 1 : 0) : value), s);
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor of zeros, as torch.zeros.
 * @example
 * zeros([2, 3], { dtype: 'float64' }).shape; // [2, 3]
 */
export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => filled('zeros', shape, 0, opts);
/**
 * A tensor of ones, as torch.ones.
 * @example
 * ones([3]); // [1, 1, 1]
 */
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => filled('ones', shape, 1, opts);
/**
 * A tensor filled with `value`, as torch.full.
 * @example
 * full([2], 7); // [7, 7]
 */
export function full(shape: readonly number[], value: number | boolean, opts: TensorOptions = {}): Tensor {
  checkScalarArg('full', 'the fill value', value);
  if (opts?.dtype === 'int32') checkInt32('full', Number(value));
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return filled('full', shape, Number(value), { ...opts, dtype });
}

function likeOpts(x: Tensor, opts: TensorOptions): TensorOptions {
  return { dtype: x.dtype, device: x.device, ...opts };
}
/** Zeros with x's shape, dtype and device (overridable by `opts`), as torch.zeros_like. */
export const zerosLike = (x: Tensor, opts: TensorOptions = {}): Tensor => zeros(x.shape, likeOpts(x, opts));
/** Ones with x's shape, dtype and device (overridable by `opts`), as torch.ones_like. */
export const onesLike = (x: Tensor, opts: TensorOptions = {}): Tensor => ones(x.shape, likeOpts(x, opts));
/** `value` everywhere, with x's shape, dtype and device (overridable by `opts`), as torch.full_like. */
export const fullLike = (x: Tensor, value: number, opts: TensorOptions = {}): Tensor => full(x.shape, value, likeOpts(x, opts));

/**
 * Values from `start` to `end` (exclusive) in steps of `step`; `arange(n)` is 0…n−1.
 * The dtype is int32 when all arguments are integers, else float32.
  * @example
  * ```ts
  * arange(5).toArray();                    // [0, 1, 2, 3, 4], int32 (integer arguments, as torch)
  * arange(1, 2, 0.25).toArray();           // [1, 1.25, 1.5, 1.75], float32
  * arange(0, 3, 1, { dtype: 'float32' }).dtype; // 'float32'
  * ```
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  for (const [k, v] of [['start', start], ['end', end], ['step', step]] as const) {
    if (!Number.isFinite(v)) throw new Error(`arange: ${k} must be finite, got ${v}`);
  }
  if (step === 0) throw new Error('arange: step must be nonzero');
  if ((end - start) / step < 0) throw new Error(`arange: upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  checkAllocation('arange', [n], dtype);
  if (dtype === 'int32' && n > 0) {
    checkInt32('arange', start, ' (start)');
    checkInt32('arange', start + (n - 1) * step, ' (the last value)');
  }
  const a = allocArray(dtype, n);
  for (let i = 0; i < n; i++) a[i] = start + i * step;
  return make('arange', a, [n], dtype, opts);
}

/**
 * `steps` evenly spaced values from start to end inclusive.
 * @example
 * ```ts
 * linspace(0, 1, 5).toArray();            // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = opts.dtype ?? 'float32';
  checkAllocation('linspace', [steps], dtype);
  const a = allocArray(dtype, steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // symmetric evaluation as torch does: first half from start, second half from end
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) a[i] = i < half ? start + i * step : end - (steps - 1 - i) * step;
  if (steps === 1) a[0] = start; // torch: a single step is `start`
  return make('linspace', a, [steps], dtype, opts);
}

/**
 * The n×m identity matrix.
 * @example
 * ```ts
 * eye(2).toArray();                       // [[1, 0], [0, 1]]
 * eye(2, 3).shape;                        // [2, 3]
 * ```
 */
export function eye(n: number, m: number = n, opts: TensorOptions = {}): Tensor {
  checkShape('eye', [n, m], 'size');
  const dtype = opts.dtype ?? 'float32';
  checkAllocation('eye', [n, m], dtype);
  const a = allocArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) a[i * m + i] = 1;
  return make('eye', a, [n, m], dtype, opts);
}

function randomFill(op: string, shape: readonly number[], opts: TensorOptions, draw: () => number): Tensor {
  const s = checkShape(op, shape);
  const dtype = opts.dtype ?? 'float32';
  if (!isFloatingDType(dtype)) throw new Error(`${op}: dtype must be float32 or float64, got ${dtype}`);
  checkAllocation(op, s, dtype);
  const a = allocArray(dtype, numel(s));
  for (let i = 0; i < a.length; i++) a[i] = draw();
  return make(op, a, s, dtype, opts);
}

/** Uniform samples in [0, 1). */
export const rand = (shape: readonly number[], opts: TensorOptions = {}): Tensor => randomFill('rand', shape, opts, () => defaultGenerator.random());
/** Standard normal samples N(0, 1). */
export const randn = (shape: readonly number[], opts: TensorOptions = {}): Tensor => randomFill('randn', shape, opts, () => defaultGenerator.normal());
/** Uniform samples in [0, 1) with x's shape, dtype and device, from the seeded generator, as torch.rand_like. */
export const randLike = (x: Tensor, opts: TensorOptions = {}): Tensor => rand(x.shape, likeOpts(x, opts));
/** Standard normal samples with x's shape, dtype and device, from the seeded generator, as torch.randn_like. */
export const randnLike = (x: Tensor, opts: TensorOptions = {}): Tensor => randn(x.shape, likeOpts(x, opts));

/**
 * Uniform integers in [low, high), int32.
 * @example
 * ```ts
 * manualSeed(0);
 * const ids = randint(0, 100, [2, 8]);    // int32 (2, 8), each in [0, 100)
 * ```
 */
export function randint(low: number, high: number, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: expected integers low < high, got low ${low}, high ${high}`);
  }
  if (opts.dtype === undefined || opts.dtype === 'int32') {
    checkInt32('randint', low, ' (low)');
    checkInt32('randint', high - 1, ' (high − 1)');
  }
  const s = checkShape('randint', shape);
  const dtype = opts.dtype ?? 'int32';
  checkAllocation('randint', s, dtype);
  const a = allocArray(dtype, numel(s));
  for (let i = 0; i < a.length; i++) a[i] = defaultGenerator.randint(low, high);
  return make('randint', a, s, dtype, opts);
}

/**
 * A tensor wrapping a typed array with a shape (the array is copied).
 * @example
 * ```ts
 * const t = fromTypedArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]); // float32 (2, 3)
 * const ids = fromTypedArray(Int32Array.from([7, 8]), [2], { dtype: 'int32' });
 * ```
 */
export function fromTypedArray(data: TypedArray, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  const s = checkShape('fromTypedArray', shape);
  if (numel(s) !== data.length) throw new Error(`fromTypedArray: shape ${fmtShape(s)} holds ${numel(s)} elements but the array has ${data.length}`);
  const dtype = opts.dtype ?? dtypeOfArray(data);
  if (dtype === 'int32' && !(data instanceof Int32Array) && !(data instanceof Uint8Array)) checkInt32Array('fromTypedArray', data);
  const a = allocArray(dtype, data.length);
  a.set(data);
  return make('fromTypedArray', a, s, dtype, opts);
}

/** Every value of a float array must fit int32 (truncated toward zero on the store, as torch's conversion). */
function checkInt32Array(op: string, a: TypedArray): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!(v > INT32_MIN - 1 && v < INT32_MAX + 1)) checkInt32(op, v, ` at index ${i}`);
  }
}
