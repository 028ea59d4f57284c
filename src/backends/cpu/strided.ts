/**
 * Strided iteration for the CPU kernels.
 *
 * Every elementwise kernel is "for each position of a shape, read operands at their strided
 * offsets, write the result". To keep the inner loop tight we
 *   1. drop dims of size 1,
 *   2. merge adjacent dims that are laid out contiguously for *every* operand
 *      (stride[i] == stride[i+1]·shape[i+1]), so a contiguous tensor becomes one long row,
 *   3. run a generated inner loop over the last (merged) dim and walk the outer dims with an
 *      odometer that bumps each operand's offset.
 */
import type { Shape } from '../../core/shape.js';

export interface Layout {
  shape: number[];
  /** strides[operand][dim] */
  strides: number[][];
}

/** Drops size-1 dims and merges dims that are contiguous for all operands. */
export function coalesce(shape: Shape, strides: readonly (readonly number[])[]): Layout {
  const nOps = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    let mergeable = last >= 0;
    for (let k = 0; k < nOps && mergeable; k++) {
      // previous (outer) dim stride must equal this dim's stride × size
      if (outStrides[k]![last] !== strides[k]![d]! * size) mergeable = false;
    }
    if (mergeable) {
      outShape[last] = outShape[last]! * size;
      for (let k = 0; k < nOps; k++) outStrides[k]![last] = strides[k]![d]!;
    } else {
      outShape.push(size);
      for (let k = 0; k < nOps; k++) outStrides[k]!.push(strides[k]![d]!);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Calls `row(n, offsets)` for every row of the innermost dim of a coalesced layout; `offsets`
 * (mutated between calls) holds each operand's offset of the row's first element and
 * `innerStrides` each operand's stride along the row.
 */
export function forEachRow(
  shape: Shape,
  strides: readonly (readonly number[])[],
  baseOffsets: readonly number[],
  row: (n: number, offsets: number[], innerStrides: number[]) => void,
): void {
  const nOps = strides.length;
  const { shape: s, strides: st } = coalesce(shape, strides);
  const offsets = [...baseOffsets];
  if (s.length === 0) {
    row(1, offsets, new Array<number>(nOps).fill(0));
    return;
  }
  for (const d of s) if (d === 0) return;
  const rank = s.length;
  const n = s[rank - 1]!;
  const inner = st.map((x) => x[rank - 1]!);
  if (rank === 1) {
    row(n, offsets, inner);
    return;
  }
  const outerRank = rank - 1;
  const idx = new Array<number>(outerRank).fill(0);
  for (;;) {
    row(n, offsets, inner);
    // odometer over the outer dims
    let d = outerRank - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < nOps; k++) offsets[k]! += st[k]![d]!;
      if (idx[d]! < s[d]!) break;
      for (let k = 0; k < nOps; k++) offsets[k]! -= st[k]![d]! * s[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * Calls `visit(offsets, position)` for every element of `shape` (slow path for index kernels).
 */
export function forEachIndex(
  shape: Shape,
  strides: readonly (readonly number[])[],
  baseOffsets: readonly number[],
  visit: (offsets: readonly number[], pos: readonly number[]) => void,
): void {
  const rank = shape.length;
  const nOps = strides.length;
  for (const d of shape) if (d === 0) return;
  const offsets = [...baseOffsets];
  const pos = new Array<number>(rank).fill(0);
  for (;;) {
    visit(offsets, pos);
    let d = rank - 1;
    for (; d >= 0; d--) {
      pos[d]!++;
      for (let k = 0; k < nOps; k++) offsets[k]! += strides[k]![d]!;
      if (pos[d]! < shape[d]!) break;
      for (let k = 0; k < nOps; k++) offsets[k]! -= strides[k]![d]! * shape[d]!;
      pos[d] = 0;
    }
    if (d < 0) return;
  }
}
