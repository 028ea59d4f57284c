/**
 * Shape arithmetic: element counts, strides, NumPy broadcasting and dim normalisation.
 * Shapes are plain `number[]`; a 0-d tensor (a scalar) has shape [].
 */

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides: the last dim moves fastest. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i]!;
  }
  return true;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmtShape(s: Shape): string {
  return `[${s.join(',')}]`;
}

/**
 * NumPy broadcasting: align shapes at the right; each pair of dims must be equal or one of them 1.
 * @throws naming `op` and both shapes when they do not broadcast.
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new Error(
          `${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together ` +
            `(dim ${o - rank} is ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/** Maps a possibly negative dim into [0, rank); `rank` 0 accepts dims -1 and 0 as torch does. */
export function normalizeDim(op: string, dim: number, rank: number, argName = 'dim'): number {
  if (!Number.isInteger(dim)) throw new Error(`${op}: ${argName} must be an integer, got ${dim}`);
  const r = Math.max(rank, 1);
  if (dim < -r || dim >= r) {
    throw new Error(`${op}: ${argName} ${dim} is out of range for a tensor of rank ${rank} (expected ${-r} ≤ ${argName} < ${r})`);
  }
  return dim < 0 ? dim + r : dim;
}

/** Normalises a dim list (or all dims when undefined), rejecting duplicates. Sorted ascending. */
export function normalizeDims(op: string, dims: number | readonly number[] | undefined | null, rank: number): number[] {
  if (dims === undefined || dims === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : [...dims];
  const out = list.map((d) => normalizeDim(op, d, rank));
  if (new Set(out).size !== out.length) throw new Error(`${op}: dim ${JSON.stringify(list)} contains a dimension twice`);
  if (rank === 0) return []; // a scalar has no dims to reduce; dim 0 / -1 are accepted as torch does
  return out.sort((a, b) => a - b);
}

export function checkShape(op: string, shape: readonly number[], argName = 'shape'): number[] {
  if (!Array.isArray(shape)) throw new Error(`${op}: ${argName} must be an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: ${argName} must contain non-negative integers, got ${fmtShape(shape)}`);
    }
  }
  return [...shape];
}
