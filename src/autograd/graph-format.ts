/**
 * Number, shape and label formatting shared by the graph renderers (graph.ts, graph-svg.ts) and
 * the backward trace (trace.ts).
 */
import type { GraphTensor } from './graph.js';

/** A number in 4 significant digits (exponent form when tiny or huge). */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(4)));
  return v.toExponential(3);
}

/** `[2,3] float32` (`[] float32` for a scalar). */
export function fmtShapeDtype(shape: readonly number[], dtype: string): string {
  return `[${shape.join(',')}] ${dtype}`;
}

/** The lines a tensor box shows: name, shape and dtype, data, grad. */
export function tensorLines(t: GraphTensor): string[] {
  const lines: string[] = [];
  if (t.name !== null) lines.push(t.name);
  lines.push(fmtShapeDtype(t.shape, t.dtype) + (t.requiresGrad && t.isLeaf ? ' ∇' : ''));
  if (t.values) lines.push(`data ${t.values.length === 1 && t.shape.length === 0 ? fmtNum(t.values[0]!) : `[${t.values.map(fmtNum).join(', ')}]`}`);
  if (t.gradValues && t.gradValues.length === 1 && t.shape.length === 0) lines.push(`grad ${fmtNum(t.gradValues[0]!)}`);
  else if (t.gradValues) lines.push(`grad [${t.gradValues.map(fmtNum).join(', ')}]`);
  else if (t.gradNorm !== null) lines.push(`‖grad‖ ${fmtNum(t.gradNorm)}`);
  return lines;
}

