/**
 * Shared test helpers.
 *
 *   loadFixture('golden/functional.json')    parsed JSON from test/fixtures/
 *   fixtureTensor({ shape, dtype, data })    a tensorgrad tensor (float64 for floats)
 *   expectClose(actual, expected, opts)      elementwise |a − e| ≤ atol + rtol·|e|, with a
 *                                            failure message that names the worst element
 *
 * Fixture tensors follow test/fixtures/golden/README.md ("Common encoding"): flat row-major
 * `data`, non-finite values written as the strings "NaN", "Infinity", "-Infinity".
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { fromTypedArray, Tensor, type DType, type NestedArray } from '../src/index.js';

// ---- fixtures -------------------------------------------------------------------------------

/** A tensor as stored in the JSON fixtures. */
export interface FixtureTensor {
  shape: number[];
  dtype: string;
  data: (number | string)[];
}

/** Parses a JSON file under test/fixtures/ (path relative to that folder). */
export function loadFixture<T = unknown>(relPath: string): T {
  const file = fileURLToPath(new URL(`./fixtures/${relPath}`, import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function decodeNumber(v: number | string, where: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`fixture ${where}: unexpected value ${JSON.stringify(v)}`);
}

/** The flat values of a fixture tensor as float64 (non-finite strings decoded). */
export function fixtureValues(ft: FixtureTensor, name = 'tensor'): Float64Array {
  const n = ft.shape.reduce((p, d) => p * d, 1);
  if (ft.data.length !== n) {
    throw new Error(`fixture ${name}: shape [${ft.shape.join(',')}] holds ${n} elements but data has ${ft.data.length}`);
  }
  return Float64Array.from(ft.data, (v, i) => decodeNumber(v, `${name}[${i}]`));
}

/**
 * A tensorgrad tensor from a fixture tensor: float dtypes become float64, integer dtypes
 * (`int64` ids, targets, masks) int32 (range-checked), `bool` bool. `dtype` overrides.
 */
export function fixtureTensor(ft: FixtureTensor, opts: { dtype?: DType; requiresGrad?: boolean; name?: string } = {}): Tensor {
  const name = opts.name ?? 'tensor';
  const values = fixtureValues(ft, name);
  let dtype: DType = opts.dtype ?? (ft.dtype.startsWith('float') ? 'float64' : ft.dtype === 'bool' ? 'bool' : 'int32');
  if (!opts.dtype && !ft.dtype.startsWith('float') && ft.dtype !== 'bool' && !/^u?int\d+$/.test(ft.dtype)) {
    throw new Error(`fixture ${name}: unknown dtype ${ft.dtype}`);
  }
  if (dtype === 'int32') {
    values.forEach((v, i) => {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new Error(`fixture ${name}: value ${v} at ${i} does not fit int32`);
    });
  }
  if (opts.requiresGrad && dtype !== 'float64' && dtype !== 'float32') dtype = 'float64';
  const t = fromTypedArray(values, ft.shape, { dtype });
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

// ---- approximate comparison ---------------------------------------------------------------------

export type Numeric = Tensor | NestedArray | ArrayLike<number>;

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** What is being compared, for the failure message (e.g. 'softmax_3x4x5_dim0 grad x'). */
  what?: string;
  /** Treat NaN == NaN as equal (default true). */
  equalNaN?: boolean;
  /** Expected shape, when `expected` is not a tensor (checked against a tensor `actual`). */
  shape?: readonly number[];
}

function flatten(x: Numeric): { values: Float64Array; shape: number[] | null } {
  if (x instanceof Tensor) {
    return { values: Float64Array.from(x.toTypedArray() as ArrayLike<number>), shape: [...x.shape] };
  }
  if (typeof x === 'number' || typeof x === 'boolean') return { values: Float64Array.of(Number(x)), shape: [] };
  if (Array.isArray(x)) {
    const out: number[] = [];
    const shape: number[] = [];
    let probe: unknown = x;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else out.push(Number(v));
    };
    walk(x);
    return { values: Float64Array.from(out), shape: out.length === shape.reduce((p, d) => p * d, 1) ? shape : null };
  }
  return { values: Float64Array.from(x as ArrayLike<number>), shape: null };
}

function multiIndex(flat: number, shape: readonly number[] | null): string {
  if (!shape || shape.length === 0) return `[${flat}]`;
  const idx: number[] = [];
  let r = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    idx.unshift(r % shape[i]!);
    r = Math.floor(r / shape[i]!);
  }
  return `[${idx.join(',')}]`;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (±Infinity must match
 * exactly; NaN matches NaN unless equalNaN is false). Shapes must agree where both are known.
 * On failure the message gives the number of bad elements and the worst one with its index.
 */
export function expectClose(actual: Numeric, expected: Numeric, opts: CloseOptions = {}): void {
  const rtol = opts.rtol ?? 1e-12;
  const atol = opts.atol ?? 1e-12;
  const equalNaN = opts.equalNaN ?? true;
  const what = opts.what ? `${opts.what}: ` : '';
  const a = flatten(actual);
  const e = flatten(expected);
  // Shapes are compared when both are known: a tensor `actual` against a tensor or nested-array
  // `expected` (or opts.shape). A typed array or a plain number is compared by size only.
  const expShape = opts.shape ? [...opts.shape] : expected instanceof Tensor || Array.isArray(expected) ? e.shape : null;
  if (a.shape && expShape && actual instanceof Tensor) {
    if (a.shape.length !== expShape.length || a.shape.some((d, i) => d !== expShape[i])) {
      throw new Error(`${what}shape mismatch: actual [${a.shape.join(',')}], expected [${expShape.join(',')}]`);
    }
  }
  if (a.values.length !== e.values.length) {
    throw new Error(`${what}size mismatch: actual has ${a.values.length} elements, expected ${e.values.length}`);
  }
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < a.values.length; i++) {
    const x = a.values[i]!;
    const y = e.values[i]!;
    let ok: boolean;
    let excess: number;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      ok = equalNaN && Number.isNaN(x) && Number.isNaN(y);
      excess = ok ? -Infinity : Infinity;
    } else if (!Number.isFinite(x) || !Number.isFinite(y)) {
      ok = x === y;
      excess = ok ? -Infinity : Infinity;
    } else {
      const diff = Math.abs(x - y);
      const allowed = atol + rtol * Math.abs(y);
      ok = diff <= allowed;
      excess = diff - allowed;
    }
    if (!ok) bad++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (bad > 0) {
    const x = a.values[worst]!;
    const y = e.values[worst]!;
    const shape = a.shape ?? expShape;
    throw new Error(
      `${what}${bad} of ${a.values.length} elements differ beyond atol ${atol} + rtol ${rtol}·|expected|; ` +
        `worst at ${multiIndex(worst, shape)} (flat ${worst}): actual ${x}, expected ${y}, ` +
        `|diff| ${Math.abs(x - y)} (allowed ${atol + rtol * Math.abs(y)})`,
    );
  }
}

/** Asserts exact elementwise equality (NaN equal to NaN), with expectClose's message. */
export function expectEqual(actual: Numeric, expected: Numeric, what?: string): void {
  expectClose(actual, expected, { rtol: 0, atol: 0, ...(what === undefined ? {} : { what }) });
}

/** The thrown error's message (fails when nothing is thrown). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected the call to throw, but it returned normally');
}
