/**
 * Helpers for ops whose forward is a sequential scan along one dim (cumsum, cumprod, sort,
 * scatter): the data is read back as rows (the dim moved last, contiguous), processed on the
 * host and written to a new storage on the tensor's own device. Any backend works (the data
 * round-trips through the host); the gradients are written with Tensor ops or these helpers.
 */
import { getBackend } from '../../backends/index.js';
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import { contiguous, transpose } from '../ops.js';

/** x's elements as rows along `d` (d moved last): data [rows·n] and the moved shape. */
export function rowsAlong(x: Tensor, d: number): { data: TypedArray; n: number; rows: number; movedShape: number[] } {
  const last = x.ndim - 1;
  const moved = d === last || x.ndim === 0 ? x : transpose(x, d, last);
  const c = contiguous(moved.detach());
  const all = c.storage.backend.read(c.storage);
  const data = all.subarray(c.offset, c.offset + c.numel()) as TypedArray;
  const n = x.ndim === 0 ? 1 : x.shape[d]!;
  return { data, n, rows: n === 0 ? 0 : c.numel() / n, movedShape: [...c.shape] };
}

/** A tensor on `device` from host rows in the moved layout, with `d` moved back into place. */
export function fromRows(data: TypedArray, dtype: DType, device: string, movedShape: readonly number[], d: number): Tensor {
  const t = Tensor.fromStorage(getBackend(device).fromArray(data, dtype), movedShape);
  const last = movedShape.length - 1;
  return d === last || movedShape.length === 0 ? t : contiguous(transpose(t, d, last));
}

/** A host array of `dtype` and length n (zeros). */
export const hostArray = (dtype: DType, n: number): TypedArray => allocArray(dtype, n);

/** A tensor on `device` holding host data. */
export function fromHost(data: TypedArray, dtype: DType, shape: readonly number[], device: string): Tensor {
  return Tensor.fromStorage(getBackend(device).fromArray(data, dtype), shape);
}

/** 0, 1, …, n − 1 as int32 on `device` (torch.arange(n)). */
export function arangeOn(n: number, device: string): Tensor {
  return fromHost(Int32Array.from({ length: n }, (_, i) => i), 'int32', [n], device);
}

/** A tensor of `shape` filled with `value` on `device`. */
export function fullOn(shape: readonly number[], value: number, dtype: DType, device: string): Tensor {
  return Tensor.fromStorage(getBackend(device).full(shape.reduce((p, d) => p * d, 1), dtype, dtype === 'bool' ? (value ? 1 : 0) : value), shape);
}

/** The n×n identity on `device`. */
export function eyeOn(n: number, dtype: DType, device: string): Tensor {
  const a = allocArray(dtype, n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  return fromHost(a, dtype, [n, n], device);
}
