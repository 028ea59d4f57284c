/**
 * PyTorch-like printing:
 *   tensor([[ 1.0000, -2.5000],
 *           [ 3.0000,  4.0000]], requiresGrad=true)
 * Floats share one format per tensor (fixed with 4 decimals, or scientific when the magnitudes
 * call for it); large tensors are summarised with '...' keeping 3 items at each edge.
 */
import type { Tensor } from './tensor.js';

const EDGE_ITEMS = 3;
const SUMMARIZE_ABOVE = 1000;

function floatFormatter(values: number[]): (v: number) => string {
  const finite = values.filter((v) => Number.isFinite(v));
  const absMax = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const absMinNonZero = finite.filter((v) => v !== 0).reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
  const allInts = finite.every((v) => Number.isInteger(v));
  const sci = absMax >= 1e8 || (absMinNonZero < 1e-4 && absMinNonZero !== Infinity) || absMax / absMinNonZero > 1e3 && absMax >= 1e3;
  return (v: number) => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
    if (allInts) return `${v.toFixed(0)}.`;
    return v.toFixed(4);
  };
}

export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return 'tensor(<disposed>)';
  const flat = Array.from(t.toTypedArray() as ArrayLike<number>);
  const summarize = flat.length > SUMMARIZE_ABOVE;
  const fmt: (v: number) => string =
    t.dtype === 'bool' ? (v) => (v ? 'true' : 'false') : t.dtype === 'int32' ? (v) => String(v) : floatFormatter(flat);
  const strs = flat.map(fmt);
  // as PyTorch: the column width comes from the finite values; nan/inf are not padded to it
  const width = strs.reduce((w, s, i) => (Number.isFinite(flat[i]) ? Math.max(w, s.length) : w), 0);
  const shape = t.shape;
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]!; }
  const indent = 'tensor('.length;
  const render = (d: number, base: number): string => {
    if (d === shape.length) return strs[base]!.padStart(width);
    const n = shape[d]!;
    const idx: (number | null)[] = summarize && n > 2 * EDGE_ITEMS
      ? [...Array(EDGE_ITEMS).keys(), null, ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)]
      : [...Array(n).keys()];
    const parts = idx.map((i) => (i === null ? '...' : render(d + 1, base + i * strides[d]!)));
    const sep = d === shape.length - 1 ? ', ' : ',' + '\n'.repeat(shape.length - d - 1) + ' '.repeat(indent + d + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = shape.length === 0 ? strs[0]! : render(0, 0);
  const extras: string[] = [];
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') extras.push(`dtype=${t.dtype}`);
  if (t.dtype === 'int32' && shape.length > 0 && flat.length === 0) extras.push('dtype=int32');
  if (t.device !== 'cpu') extras.push(`device='${t.device}'`);
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.opName}>`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  return `tensor(${body}${extras.map((e) => ', ' + e).join('')})`;
}
