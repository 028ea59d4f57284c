/**
 * Differentiable operations (tier 2): each op's forward and its backward, side by side.
 *
 * Forward passes call backend kernels (tier 1) on strided views; backward passes are written
 * with Tensor ops, so they run on whichever backend holds the data. Every op is declared once in
 * the op table (`OPS`, define.ts) with `defineOp` — here the elementwise ops, pow, clamp, where,
 * the reductions, cast, toDevice, softmax, matmul/addmm, the views, cat, the indexing ops, dropout
 * and the fused losses and layer norm; the toolkit families in ops/ — and the test suite
 * enumerates the table to make sure each op has a gradient property test. Where a public
 * function must first check, promote dtypes or resolve a shape, it does so and then calls its
 * declaration (`matmul` → `matmulOp`). Composites (mean, var, logsumexp, …) are built from
 * these and are listed in `COMPOSITES`.
 *
 * Notation in the comments: y is the output, g = ∂L/∂y the incoming gradient, and the
 * returned values are ∂L/∂input. Gradients may come back in the broadcast output shape:
 * the backward pass sums them back to each input's shape (backward.ts), never the op.
 */
import { getBackend, getDefaultDevice, type Storage, type View } from '../backends/index.js';
import type { BinaryOp, MapOp, UnaryOp } from '../backends/opcodes.js';
import { checkInt32, checkScalarArg, describeValue, isFloatingDType, promoteTypes, promoteWithScalar, resultType, allocArray, type DType } from '../core/dtype.js';
import {
  broadcastShapes, checkShape, contiguousStrides, fmtShape, normalizeDim, normalizeDims, numel, shapesEqual, type Shape,
} from '../core/shape.js';
import { defaultGenerator } from '../tensor/random.js';
import { Tensor, type TensorLike } from '../tensor/tensor.js';
import { isGradEnabled, type BackwardFn } from './engine.js';
import { bumpVersion } from './version.js';
import { COMPOSITES, defineOp, OPS, opcodeForward, type ForwardContext } from './define.js';
import { disposedError } from '../tensor/scope.js';
import { checkAllocation } from '../core/limits.js';

// ---- the registry (the op table lives in define.ts) ------------------------------------------

export { OPS, COMPOSITES } from './define.js';

/**
 * Enters in `COMPOSITES` the composites written as plain functions in this file (they are called
 * by the code above their line, so they stay hoisted function declarations rather than
 * `defineComposite` constants); the keys are their public names.
 */
function composites(fns: Record<string, (...args: any[]) => unknown>): void {
  for (const [name, forward] of Object.entries(fns)) {
    if (OPS.has(name) || COMPOSITES.has(name)) throw new Error(`op '${name}' defined twice`);
    COMPOSITES.set(name, { name, forward });
  }
}

// ---- helpers -------------------------------------------------------------------------------

export function checkFloat(op: string, t: Tensor, arg = 'input'): void {
  if (!isFloatingDType(t.dtype)) {
    throw new Error(`${op}: expected a floating-point ${arg} (float32 or float64), got dtype ${t.dtype}; convert it with .float() first`);
  }
}

/**
 * Throws when an argument's storage was freed (by `tidy` or `dispose`), naming the op — instead
 * of the backend's bare "use of a disposed tensor" somewhere below it.
 */
export function checkAlive(op: string, ts: readonly Tensor[]): void {
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (t.storage.disposed) throw disposedError(op, t, ts.length > 1 ? `argument ${i}` : 'its input');
  }
}

export function checkSameDevice(op: string, ts: Tensor[]): void {
  checkAlive(op, ts);
  const d = ts[0]!.device;
  for (const t of ts) {
    if (t.device !== d) throw new Error(`${op}: expected all tensors on the same device, got '${d}' and '${t.device}'`);
  }
}

/** A scalar as a 0-d tensor on `like`'s device with the given dtype (int32 refuses values it would wrap). */
export function scalarTensor(v: number | boolean, dtype: DType, device: string, op = 'scalar'): Tensor {
  if (dtype === 'int32' && typeof v === 'number') checkInt32(op, v);
  const b = getBackend(device);
  const a = allocArray(dtype, 1);
  a[0] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  return Tensor.fromStorage(b.fromArray(a, dtype), []);
}

/** A view of t broadcast to `shape` (stride 0 along new and size-1 dims). */
export function broadcastView(t: Tensor, shape: Shape): View {
  if (shapesEqual(t.shape, shape)) return t;
  const lead = shape.length - t.ndim;
  const strides = shape.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    return t.shape[j] === 1 && d !== 1 ? 0 : t.strides[j]!;
  });
  return { storage: t.storage, shape, strides, offset: t.offset };
}

/** Runs an elementwise kernel over broadcast inputs. */
export function mapK(op: MapOp, inputs: Tensor[], outDtype: DType, opName: string = op): Tensor {
  checkSameDevice(opName, inputs);
  const outShape = broadcastShapes(opName, ...inputs.map((t) => t.shape));
  checkAllocation(opName, outShape, outDtype, 'the result');
  const backend = inputs[0]!.storage.backend;
  const s = backend.map(op, inputs.map((t) => broadcastView(t, outShape)), outShape, outDtype);
  return Tensor.fromStorage(s, outShape);
}

/** Converts a scalar operand to a tensor and promotes both operands to a common dtype. */
export function binaryOperands(opName: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, DType] {
  if (!(a instanceof Tensor)) checkScalarArg(opName, 'the first operand', a, true);
  if (!(b instanceof Tensor)) checkScalarArg(opName, 'the second operand', b, true);
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new Error(`${opName}: expected at least one tensor operand, got ${typeof a} and ${typeof b}`);
  }
  if (!(a instanceof Tensor)) {
    const bt = b as Tensor;
    const dt = promoteWithScalar(bt.dtype, a);
    return [scalarTensor(a, dt, bt.device, opName), bt.dtype === dt ? bt : cast(bt, dt), dt];
  }
  if (!(b instanceof Tensor)) {
    const dt = promoteWithScalar(a.dtype, b);
    return [a.dtype === dt ? a : cast(a, dt), scalarTensor(b, dt, a.device, opName), dt];
  }
  checkSameDevice(opName, [a, b]);
  const dt = resultType(a, b); // torch.result_type: a 0-d tensor does not widen within a category
  return [a.dtype === dt ? a : cast(a, dt), b.dtype === dt ? b : cast(b, dt), dt];
}


// ---- dtype and device -----------------------------------------------------------------------

/** x in another dtype (declaration; the public `cast` returns x itself for its own dtype). */
const castOp = defineOp({
  name: 'cast', doc: 'x in another dtype',
  // recorded between float dtypes only (an integer or bool tensor never requires grad)
  gradient: 'y = x as dtype;  ∂L/∂x = g (cast back to x\'s dtype by the engine)',
  forward: (_c, x: Tensor, dtype: DType): Tensor => {
    // float → int truncates toward zero, like torch; → bool is (x != 0)
    return dtype === 'bool' ? mapK('ne', [x, scalarTensor(0, x.dtype, x.device)], 'bool', 'to') : mapK('identity', [x], dtype, 'to');
  },
  backward: (_c, g): Tensor[] => [g],
});
export function cast(x: Tensor, dtype: DType): Tensor {
  checkAlive('to', [x]);
  if (x.dtype === dtype) return x;
  return castOp(x, dtype);
}

/** x's values on another backend (declaration; the public `toDevice` returns x itself on its own device). */
const toDeviceOp = defineOp({
  name: 'toDevice', doc: 'the same values on another device',
  gradient: 'y = x on another device;  ∂L/∂x = g moved back to x\'s device',
  forward: (c: ForwardContext<{ from: string }>, x: Tensor, device: string): Tensor => {
    const target = getBackend(device);
    c.attrs = { from: x.device };
    const xc = contiguous(x.detach());
    const host = xc.storage.backend.read(xc.storage).subarray(xc.offset, xc.offset + xc.numel());
    return Tensor.fromStorage(target.fromArray(host, x.dtype), x.shape);
  },
  backward: (c, g): Tensor[] => [toDevice(g, c.attrs.from)],
});
export function toDevice(x: Tensor, device: string): Tensor {
  if (x.device === device) return x;
  return toDeviceOp(x, device);
}

// ---- unary elementwise: one declaration each (the op table, define.ts) ----------------------------
// An elementwise op of one tensor is its opcode (backends/opcodes.ts: the scalar formula every
// backend compiles) plus the declaration below: forward = the opcode, the gradient as maths and as
// code, `method: true` for x.exp() — docs/ARCHITECTURE.md walks through adding one.

const mapUnary = (op: UnaryOp, x: Tensor) => mapK(op, [x], x.dtype);

/** −x (integers stay integers; bool is refused, as PyTorch: invert a mask with logicalNot). */
export const neg = defineOp({
  name: 'neg', method: true, doc: '−x',
  gradient: 'y = −x;  ∂L/∂x = −g',
  forward: (_c, x: Tensor): Tensor => {
    if (!(x instanceof Tensor)) throw new Error(`neg: expected a tensor, got ${typeof x}`);
    if (x.dtype === 'bool') throw new Error('neg: negation of a bool tensor is not supported; to invert a mask use logicalNot()');
    return mapK('neg', [x], x.dtype, 'neg');
  },
  backward: (_c, g): Tensor[] => [neg(g)],
});
/** eˣ */
export const exp = defineOp({
  name: 'exp', method: true, doc: 'eˣ', forward: 'exp',
  gradient: 'y = eˣ;  ∂L/∂x = g·y',
  backward: ({ output: y }, g): Tensor[] => [mul(g, y)],
});
/** ln x */
export const log = defineOp({
  name: 'log', method: true, doc: 'ln x', forward: 'log',
  gradient: 'y = ln x;  ∂L/∂x = g/x',
  backward: ({ inputs: [x] }, g): Tensor[] => [div(g, x!)],
});
/** √x */
export const sqrt = defineOp({
  name: 'sqrt', method: true, doc: '√x', forward: 'sqrt',
  gradient: 'y = √x;  ∂L/∂x = g/(2y)',
  backward: ({ output: y }, g): Tensor[] => [div(g, mul(y, 2))],
});
/** 1/√x */
export const rsqrt = defineOp({
  name: 'rsqrt', method: true, doc: '1/√x', forward: 'rsqrt',
  gradient: 'y = 1/√x;  ∂L/∂x = −½·g·y³',
  backward: ({ output: y }, g): Tensor[] => [mul(g, mul(mul(mul(y, y), y), -0.5))],
});
/** |x| (integers stay integers) */
export const abs = defineOp({
  name: 'abs', method: true, doc: '|x|',
  gradient: 'y = |x|;  ∂L/∂x = g·sign(x) (0 at 0, as PyTorch)',
  forward: (_c, x: Tensor): Tensor => {
    if (!(x instanceof Tensor)) throw new Error(`abs: expected a tensor, got ${typeof x}`);
    return mapK('abs', [x], x.dtype, 'abs');
  },
  backward: ({ inputs: [x] }, g): Tensor[] => [mul(g, mapUnary('sign', x!))],
});
/** sign(x) ∈ {−1, 0, 1} (NaN stays NaN) */
export const sign = defineOp({
  name: 'sign', method: true, doc: 'sign(x): −1, 0 or 1', forward: 'sign',
  gradient: 'piecewise constant: ∂L/∂x = 0',
  backward: (_c, g): Tensor[] => [mul(g, 0)],
});
/** tanh x */
export const tanh = defineOp({
  name: 'tanh', method: true, doc: 'tanh x', forward: 'tanh',
  gradient: 'y = tanh x;  ∂L/∂x = g·(1 − y²)',
  backward: ({ output: y }, g): Tensor[] => [mul(g, sub(1, mul(y, y)))],
});
/** σ(x) = 1/(1 + e⁻ˣ) */
export const sigmoid = defineOp({
  name: 'sigmoid', method: true, doc: 'σ(x) = 1/(1 + e⁻ˣ)', forward: 'sigmoid',
  gradient: 'y = σ(x);  ∂L/∂x = g·y(1 − y)',
  backward: ({ output: y }, g): Tensor[] => [mul(g, mul(y, sub(1, y)))],
});
/** max(x, 0); NaN stays NaN (as PyTorch: a diverging run is not hidden). */
export const relu = defineOp({
  name: 'relu', method: true, doc: 'max(x, 0)', forward: 'relu',
  // 1 for x > 0 and for NaN (the gradient passes, as torch's threshold_backward), 0 for x ≤ 0
  gradient: 'y = max(x, 0);  ∂L/∂x = g·[¬(x ≤ 0)]',
  backward: ({ inputs: [x] }, g): Tensor[] => [where(le(x!, 0), 0, g)],
});
/** sin x */
export const sin = defineOp({
  name: 'sin', method: true, doc: 'sin x', forward: 'sin',
  gradient: 'y = sin x;  ∂L/∂x = g·cos x',
  backward: ({ inputs: [x] }, g): Tensor[] => [mul(g, mapUnary('cos', x!))],
});
/** cos x */
export const cos = defineOp({
  name: 'cos', method: true, doc: 'cos x', forward: 'cos',
  gradient: 'y = cos x;  ∂L/∂x = −g·sin x',
  backward: ({ inputs: [x] }, g): Tensor[] => [mul(g, neg(mapUnary('sin', x!)))],
});
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
/** The error function erf x = (2/√π)∫₀ˣ e^(−t²) dt */
export const erf = defineOp({
  name: 'erf', method: true, doc: 'the error function', forward: 'erf',
  gradient: 'y = erf x;  ∂L/∂x = g·(2/√π)·e^(−x²)',
  backward: ({ inputs: [x] }, g): Tensor[] => [mul(g, mul(exp(neg(mul(x!, x!))), TWO_OVER_SQRT_PI))],
});
/** GELU = x·Φ(x), exact erf form (BERT's) */
const geluErf = defineOp({
  name: 'gelu', forward: 'gelu',
  gradient: 'y = x·Φ(x);  ∂L/∂x = g·(Φ(x) + x·φ(x)) (one fused pass: the geluBackward opcode)',
  backward: ({ inputs: [x] }, g): Tensor[] => [mapK('geluBackward', [x!, g], g.dtype)],
});
/** tanh-approximate GELU (GPT-2's) */
const geluTanh = defineOp({
  name: 'geluTanh', forward: 'geluTanh',
  gradient: 'y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)));  ∂L/∂x: the geluTanhBackward opcode',
  backward: ({ inputs: [x] }, g): Tensor[] => [mapK('geluTanhBackward', [x!, g], g.dtype)],
});
/** Options of {@link gelu}, as `torch.nn.functional.gelu(x, approximate=…)`. */
export interface GeluOptions {
  /** `'none'` (default): the exact erf form, BERT's; `'tanh'`: the tanh approximation, GPT-2's. */
  approximate?: 'none' | 'tanh';
}

let geluStringWarned = false;

/**
 * GELU (Hendrycks & Gimpel 2016): exact (`approximate: 'none'`, BERT's) or the tanh
 * approximation (`approximate: 'tanh'`, GPT-2's), with the option object every other
 * functional op uses. The older bare string (`gelu(x, 'tanh')`) still works but is
 * deprecated (one `DeprecationWarning`, code `TENSORGRAD_GELU_STRING`); any other second
 * argument throws.
 *
 * @example
 * ```ts
 * F.gelu(x);                           // exact
 * F.gelu(x, { approximate: 'tanh' });  // GPT-2's
 * ```
 */
export function gelu(x: Tensor, opts: GeluOptions | 'none' | 'tanh' = {}): Tensor {
  let approximate: unknown;
  if (typeof opts === 'string') {
    approximate = opts;
    if (!geluStringWarned && (opts === 'none' || opts === 'tanh')) {
      geluStringWarned = true;
      if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') {
        process.emitWarning(`gelu(x, '${opts}') is deprecated; write gelu(x, { approximate: '${opts}' })`, { type: 'DeprecationWarning', code: 'TENSORGRAD_GELU_STRING' });
      }
    }
  } else if (opts !== null && typeof opts === 'object' && !Array.isArray(opts)) {
    for (const k of Object.keys(opts)) {
      if (k !== 'approximate') throw new Error(`gelu: unknown option '${k}' (the only option is approximate: 'none' | 'tanh')`);
    }
    approximate = opts.approximate ?? 'none';
  } else {
    throw new Error(`gelu: the second argument must be { approximate: 'none' | 'tanh' }, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : `${typeof opts} ${String(opts)}`}`);
  }
  if (approximate === 'none') return geluErf(x);
  if (approximate === 'tanh') return geluTanh(x);
  throw new Error(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
}

// pow and clamp: the public functions promote dtypes (and turn the bounds into kernel scalars),
// then call the declarations below, whose recorded input is the promoted tensor.

/** xᵖ for a number p (declaration; the public `pow` promotes x first). */
const powScalar = defineOp({
  name: 'powScalar', doc: 'xᵖ for a number p',
  gradient: 'y = xᵖ;  ∂L/∂x = g·p·xᵖ⁻¹ (0 for p = 0, even at x = 0)',
  forward: (c: ForwardContext<{ p: number }>, x: Tensor, p: number): Tensor => {
    c.attrs = { p };
    return mapK('pow', [x, scalarTensor(p, x.dtype, x.device)], x.dtype, 'pow');
  },
  backward: (c, g): Tensor[] => {
    const p = c.attrs.p;
    return [p === 0 ? mul(g, 0) : mul(g, mul(pow(c.inputs[0]!, p - 1), p))];
  },
});
// pow of two tensors, with PyTorch's values at the edges (pow_backward_self /
// pow_backward_exponent): ∂y/∂a = 0 where b = 0 (also at a = 0, where b·aᵇ⁻¹ = 0·∞), and
// ∂y/∂b = 0 where a = 0 and b ≥ 0 (the limit of aᵇ·ln a), while a = 0 with b < 0 keeps
// ∞·(−∞) = −∞.
const powTensor = defineOp({
  name: 'pow', doc: 'aᵇ of two tensors (one dtype)',
  gradient: 'y = aᵇ;  ∂L/∂a = g·b·aᵇ⁻¹ (0 where b = 0), ∂L/∂b = g·y·ln a (0 where a = 0 ∧ b ≥ 0)',
  forward: (_c, a: Tensor, b: Tensor): Tensor => mapK('pow', [a, b], a.dtype),
  backward: (c, g) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    return [
      c.needsGrad[0] ? where(eq(b, 0), 0, mul(g, mul(b, pow(a, sub(b, 1))))) : null,
      c.needsGrad[1] ? where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(g, mul(c.output, log(a)))) : null,
    ];
  },
});
/**
 * xᵉ elementwise (either operand may be a number; broadcasting), as torch.pow.
 * @example
 * pow(tensor([1, 2, 3]), 2); // [1, 4, 9]
 */
export function pow(x: TensorLike, exponent: TensorLike): Tensor {
  if (x instanceof Tensor && typeof exponent === 'number') {
    if (!isFloatingDType(x.dtype) && Number.isInteger(exponent) && exponent < 0) {
      throw new Error(`pow: integers to negative integer powers are not allowed (a ${x.dtype} tensor to the power ${exponent}); convert the base with .float() first`);
    }
    const dt = promoteWithScalar(x.dtype, exponent);
    const xx = x.dtype === dt ? x : cast(x, dt);
    if (xx.storage.disposed) throw disposedError('pow', xx, 'argument 0'); // the kernel's name for it
    return powScalar(xx, exponent);
  }
  const [a, b] = binaryOperands('pow', x, exponent);
  return powTensor(a, b);
}

/** min(max(x, lo), hi) (declaration; the public `clamp` checks the bounds and promotes x first). */
const clampOp = defineOp({
  name: 'clamp', doc: 'min(max(x, lo), hi)',
  // With lo > hi every element is hi and every gradient 0, as torch.clamp.
  gradient: 'y = min(max(x, lo), hi);  ∂L/∂x = g·[lo ≤ x ≤ hi]',
  forward: (c: ForwardContext<{ lo: number; hi: number }>, x: Tensor, lo: number, hi: number): Tensor => {
    c.attrs = { lo, hi };
    const kdt = isFloatingDType(x.dtype) ? x.dtype : 'float64';
    const kLo = Math.min(lo, hi); // the kernel computes lo ≤ x ≤ hi ? x : …; lo > hi collapses to hi
    return mapK('clamp', [x, scalarTensor(kLo, kdt, x.device), scalarTensor(hi, kdt, x.device)], x.dtype);
  },
  backward: (c, g): Tensor[] => {
    const x = c.inputs[0]!;
    const inside = logicalAnd(ge(x, c.attrs.lo), le(x, c.attrs.hi));
    return [mul(g, cast(inside, g.dtype))];
  },
});
/**
 * Limits every element to [min, max] (either bound may be null), as torch.clamp.
 * @example
 * clamp(tensor([-2, 0.5, 3]), 0, 1); // [0, 0.5, 1]
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (min != null) checkScalarArg('clamp', 'min', min);
  if (max != null) checkScalarArg('clamp', 'max', max);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (min == null && max == null) throw new Error('clamp: at least one of min and max must be given');
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new Error(`clamp: min and max must not be NaN, got ${lo}, ${hi}`);
  const dt = promoteWithScalar(promoteWithScalar(x.dtype, lo === -Infinity ? 0 : lo), hi === Infinity ? 0 : hi);
  const xx = x.dtype === dt ? x : cast(x, dt);
  if (xx.storage.disposed) throw disposedError('clamp', xx, 'argument 0'); // the kernel's name for it
  return clampOp(xx, lo, hi);
}

// ---- binary elementwise ------------------------------------------------------------------------

/**
 * A binary elementwise op: its declaration (the opcode on two operands of one dtype, the gradient)
 * in the op table, behind the public function that turns numbers into 0-d tensors and promotes
 * both operands to one dtype first (so the recorded inputs are the promoted tensors); `onBool`
 * handles two bool operands (PyTorch gives bool for + and ×).
 */
function binaryOp(opcode: BinaryOp, gradient: string, backward: BackwardFn<undefined>, onBool?: (x: Tensor, y: Tensor) => Tensor) {
  const op = defineOp({
    name: opcode, gradient, backward,
    forward: (_c, x: Tensor, y: Tensor): Tensor => mapK(opcode, [x, y], x.dtype),
  });
  return (a: TensorLike, b: TensorLike): Tensor => {
    const [x, y, dt] = binaryOperands(opcode, a, b);
    if (dt === 'bool' && onBool) return onBool(x, y);
    return op(x, y);
  };
}

/** y = a + b;  ∂y/∂a = 1, ∂y/∂b = 1. bool + bool is bool (a ∨ b), as PyTorch. */
export const add = binaryOp('add', 'y = a + b;  ∂L/∂a = g, ∂L/∂b = g', (_c, g) => [g, g], (x, y) => logicalOr(x, y));
/** y = a − b;  ∂y/∂a = 1, ∂y/∂b = −1. bool − bool is refused, as PyTorch. */
export const sub = binaryOp('sub', 'y = a − b;  ∂L/∂a = g, ∂L/∂b = −g', (c, g) => [g, c.needsGrad[1] ? neg(g) : null], () => {
  throw new Error('sub: subtraction of two bool tensors is not supported; use logicalXor() (or logicalNot() to invert a mask)');
});
/** y = a·b (int32 × int32 wraps modulo 2³² like C's int32);  ∂y/∂a = b, ∂y/∂b = a. bool × bool is bool (a ∧ b). */
export const mul = binaryOp('mul', 'y = a·b;  ∂L/∂a = g·b, ∂L/∂b = g·a', (c, g) => [
  c.needsGrad[0] ? mul(g, c.inputs[1]!) : null,
  c.needsGrad[1] ? mul(g, c.inputs[0]!) : null,
], (x, y) => logicalAnd(x, y));
/** y = a/b (true division: integers give float32);  ∂y/∂a = 1/b, ∂y/∂b = −a/b² = −y/b */
const divF = binaryOp('div', 'y = a/b;  ∂L/∂a = g/b, ∂L/∂b = −g·y/b', (c, g) => [
  c.needsGrad[0] ? div(g, c.inputs[1]!) : null,
  c.needsGrad[1] ? neg(div(mul(g, c.output), c.inputs[1]!)) : null,
]);
/**
 * a / b elementwise with broadcasting (true division: integers give float32), as torch.div.
 * @example
 * div(tensor([1, 2]), 4); // [0.25, 0.5]
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dt] = binaryOperands('div', a, b);
  if (!isFloatingDType(dt)) return divF(cast(x, 'float32'), cast(y, 'float32'));
  return divF(x, y);
}

/** Gradient routing for max/min: the winner takes g; a tie splits it ½–½ (as torch.maximum). */
function tieSplit(win: Tensor, tie: Tensor, g: Tensor): Tensor {
  return mul(g, add(cast(win, g.dtype), mul(cast(tie, g.dtype), 0.5)));
}
/** y = max(a, b);  ∂y/∂a = [a > b] + ½[a = b] */
export const maximum = binaryOp('maximum', 'y = max(a, b);  ∂L/∂a = g·([a > b] + ½[a = b]), ∂L/∂b = g·([b > a] + ½[a = b])', (c, g) => {
  const [a, b] = c.inputs as [Tensor, Tensor];
  const tie = eq(a, b);
  return [c.needsGrad[0] ? tieSplit(gt(a, b), tie, g) : null, c.needsGrad[1] ? tieSplit(lt(a, b), tie, g) : null];
});
/** y = min(a, b);  ∂y/∂a = [a < b] + ½[a = b] */
export const minimum = binaryOp('minimum', 'y = min(a, b);  ∂L/∂a = g·([a < b] + ½[a = b]), ∂L/∂b = g·([b < a] + ½[a = b])', (c, g) => {
  const [a, b] = c.inputs as [Tensor, Tensor];
  const tie = eq(a, b);
  return [c.needsGrad[0] ? tieSplit(lt(a, b), tie, g) : null, c.needsGrad[1] ? tieSplit(gt(a, b), tie, g) : null];
});

function compareOp(opcode: BinaryOp): (a: TensorLike, b: TensorLike) => Tensor {
  return (a, b) => {
    const [x, y] = binaryOperands(opcode, a, b);
    return mapK(opcode, [x, y], 'bool');
  };
}
/**
 * a == b elementwise (broadcasting; a bool tensor), as torch.eq.
 * @example
 * eq(tensor([1, 2]), 2); // [false, true]
 */
export const eq = compareOp('eq');
/** a != b elementwise (broadcasting; a bool tensor), as torch.ne. */
export const ne = compareOp('ne');
/** a < b elementwise (broadcasting; a bool tensor), as torch.lt. */
export const lt = compareOp('lt');
/** a ≤ b elementwise (broadcasting; a bool tensor), as torch.le. */
export const le = compareOp('le');
/**
 * a > b elementwise (broadcasting; a bool tensor), as torch.gt.
 * @example
 * gt(tensor([1, 3]), 2); // [false, true]
 */
export const gt = compareOp('gt');
/** a ≥ b elementwise (broadcasting; a bool tensor), as torch.ge. */
export const ge = compareOp('ge');
/** a ∧ b elementwise, non-zero meaning true (a bool tensor), as torch.logical_and. */
export const logicalAnd = compareOp('logicalAnd');
/** a ∨ b elementwise, non-zero meaning true (a bool tensor), as torch.logical_or. */
export const logicalOr = compareOp('logicalOr');
/** a ⊕ b elementwise, non-zero meaning true (a bool tensor), as torch.logical_xor. */
export const logicalXor = compareOp('logicalXor');
/**
 * ¬x elementwise, non-zero meaning true (a bool tensor), as torch.logical_not.
 * @example
 * logicalNot(tensor([true, false])); // [false, true]
 */
export const logicalNot = (x: Tensor): Tensor => mapK('logicalNot', [x], 'bool');
/** Where x is NaN (a bool tensor), as torch.isnan. */
export const isnan = (x: Tensor): Tensor => mapK('isnan', [x], 'bool');

export function equal(a: Tensor, b: Tensor): boolean {
  if (!shapesEqual(a.shape, b.shape)) return false;
  return a.numel() === 0 || ne(a, b).sum().item() === 0;
}

export function allclose(a: Tensor, b: Tensor, rtol: number, atol: number): boolean {
  const av = a.toTypedArray(), bv = b.toTypedArray();
  const shape = broadcastShapes('allclose', a.shape, b.shape);
  if (!shapesEqual(a.shape, shape) || !shapesEqual(b.shape, shape)) return allclose(a.expand(shape), b.expand(shape), rtol, atol);
  for (let i = 0; i < av.length; i++) {
    const x = av[i]!, y = bv[i]!;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return false;
  }
  return true;
}

/** cond ? a : b of a bool condition and two tensors of one dtype (declaration; the public `where` promotes). */
const whereOp = defineOp({
  name: 'where', doc: 'cond ? a : b',
  gradient: 'y = cond ? a : b;  ∂L/∂a = g·[cond], ∂L/∂b = g·[¬cond]',
  forward: (_c, condition: Tensor, x: Tensor, y: Tensor): Tensor => mapK('where', [condition, x, y], x.dtype, 'where'),
  backward: (c, g) => {
    const cond = c.inputs[0]!;
    return [null, c.needsGrad[1] ? where(cond, g, 0) : null, c.needsGrad[2] ? where(cond, 0, g) : null];
  },
});
/**
 * condition ? a : b elementwise, all three broadcast together, as torch.where.
 * @example
 * where(tensor([true, false]), 1, tensor([5, 6])); // [1, 6]
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (!(condition instanceof Tensor) || condition.dtype !== 'bool') {
    throw new Error(`where: condition must be a bool tensor, got ${condition instanceof Tensor ? `dtype ${condition.dtype}` : typeof condition}`);
  }
  if (!(a instanceof Tensor)) checkScalarArg('where', 'input', a, true);
  if (!(b instanceof Tensor)) checkScalarArg('where', 'other', b, true);
  const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : condition;
  const aT = a instanceof Tensor ? a : null;
  const bT = b instanceof Tensor ? b : null;
  let dt: DType;
  if (aT && bT) dt = resultType(aT, bT);
  else if (aT) dt = promoteWithScalar(aT.dtype, b as number);
  else if (bT) dt = promoteWithScalar(bT.dtype, a as number);
  else dt = Number.isInteger(a) && Number.isInteger(b) ? 'int32' : 'float32';
  const x = aT ? (aT.dtype === dt ? aT : cast(aT, dt)) : scalarTensor(a as number, dt, ref.device);
  const y = bT ? (bT.dtype === dt ? bT : cast(bT, dt)) : scalarTensor(b as number, dt, ref.device);
  return whereOp(condition, x, y);
}

/**
 * x with `value` wherever mask is true: where(mask, value, x).
 * @example
 * ```ts
 * const scores = tensor([[0.5, 1.0, 2.0]]);
 * const padding = tensor([[false, false, true]]);       // bool, broadcast against scores
 * maskedFill(scores, padding, -Infinity).toArray();     // [[0.5, 1, -Infinity]]
 * ```
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkScalarArg('maskedFill', 'value', value);
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') {
    throw new Error(`maskedFill: mask must be a bool tensor, got ${mask instanceof Tensor ? `dtype ${mask.dtype}` : typeof mask}`);
  }
  const outShape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (!shapesEqual(outShape, x.shape)) {
    throw new Error(`maskedFill: mask of shape ${fmtShape(mask.shape)} does not broadcast to the input's shape ${fmtShape(x.shape)}`);
  }
  return where(mask, scalarTensor(value, isFloatingDType(x.dtype) ? x.dtype : promoteWithScalar(x.dtype, value), x.device), x);
}
composites({ maskedFill });

// ---- reductions --------------------------------------------------------------------------------

export function reducedShape(shape: Shape, dims: number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (dims.includes(i) ? 1 : d)) : shape.filter((_, i) => !dims.includes(i));
}

/** g of a reduction, reshaped to keepdim layout and broadcast back over the input's shape. */
export function expandReduced(g: Tensor, inShape: Shape, dims: number[]): Tensor {
  return expand(reshape(g, reducedShape(inShape, dims, true)), inShape);
}

type ReduceAttrs = { dims: number[]; keepdim: boolean };

/** The dims of a reduction: none given, null or an empty list all mean every dim (as torch's sum(x, [])). */
function reductionDims(op: string, dim: number | readonly number[] | null | undefined, rank: number): number[] {
  return normalizeDims(op, Array.isArray(dim) && dim.length === 0 ? null : dim, rank);
}

/** The backend's reduction (its declaration has checked that x is alive). */
function reduceK(op: 'sum' | 'max' | 'min', x: Tensor, dims: number[], keepdim: boolean, outDtype: DType): Tensor {
  const s = x.storage.backend.reduce(op, x, dims, outDtype);
  const out = Tensor.fromStorage(s, reducedShape(x.shape, dims, true));
  return keepdim ? out : new Tensor(out.storage, reducedShape(x.shape, dims, false));
}

// The reductions are declared over normalised dims; the public functions normalise them first.

/** Σ over dims (bool counts as int32). */
const sumOp = defineOp({
  name: 'sum', doc: 'Σ over dims',
  gradient: 'y = Σ_dims x;  ∂L/∂x = g broadcast back over the reduced dims',
  forward: (c: ForwardContext<ReduceAttrs>, x: Tensor, dims: number[], keepdim: boolean): Tensor => {
    c.attrs = { dims, keepdim };
    return reduceK('sum', x, dims, keepdim, x.dtype === 'bool' ? 'int32' : x.dtype);
  },
  backward: (c, g): Tensor[] => [expandReduced(g, c.inputs[0]!.shape, c.attrs.dims)],
});
/**
 * Σ over `dim` (one, several, or all when omitted), keeping reduced dims as size 1 with `keepdim`; bool and int32 sum to int32, as torch.sum.
 * @example
 * sum(tensor([[1, 2], [3, 4]]), 1); // [3, 7]
 */
export function sum(x: Tensor, dim?: number | readonly number[] | null, keepdim = false): Tensor {
  return sumOp(x, reductionDims('sum', dim, x.ndim), keepdim);
}

/**
 * Gradient of max/min: shared equally among the elements that attain the extremum (torch.amax).
 * Where the result is NaN (a NaN in the reduced elements), the NaNs attain it: they share the
 * gradient and the other elements get 0 (torch's evenly_distribute_backward of max()/min()).
 */
function extremumGrad(c: { inputs: readonly Tensor[]; output: Tensor; attrs: ReduceAttrs }, g: Tensor): Tensor[] {
  const x = c.inputs[0]!;
  const { dims } = c.attrs;
  const yk = reshape(c.output, reducedShape(x.shape, dims, true));
  const hit = cast(logicalOr(eq(x, yk), logicalAnd(isnan(x), isnan(yk))), g.dtype);
  const count = sum(hit, dims, true);
  return [div(mul(hit, expandReduced(g, x.shape, dims)), count)];
}
const EXTREMUM_GRADIENT = '∂L/∂x = g·[x attains y]/#(elements attaining y) (ties share; NaNs attain a NaN result)';
const maxOp = defineOp({
  name: 'max', doc: 'max over dims (torch.amax)',
  gradient: `y = max_dims x;  ${EXTREMUM_GRADIENT}`,
  forward: (c: ForwardContext<ReduceAttrs>, x: Tensor, dims: number[], keepdim: boolean): Tensor => {
    c.attrs = { dims, keepdim };
    return reduceK('max', x, dims, keepdim, x.dtype);
  },
  backward: extremumGrad,
});
const minOp = defineOp({
  name: 'min', doc: 'min over dims (torch.amin)',
  gradient: `y = min_dims x;  ${EXTREMUM_GRADIENT}`,
  forward: (c: ForwardContext<ReduceAttrs>, x: Tensor, dims: number[], keepdim: boolean): Tensor => {
    c.attrs = { dims, keepdim };
    return reduceK('min', x, dims, keepdim, x.dtype);
  },
  backward: extremumGrad,
});
function extremum(op: 'max' | 'min', x: Tensor, dim: number | readonly number[] | null | undefined, keepdim: boolean): Tensor {
  const dims = reductionDims(op, dim, x.ndim);
  for (const d of dims) {
    if (x.shape[d] === 0) throw new Error(`${op}: cannot reduce over dim ${d} of size 0 (shape ${fmtShape(x.shape)}); the ${op} of nothing is undefined`);
  }
  if (x.numel() === 0 && dims.length === 0 && x.ndim === 0) throw new Error(`${op}: empty tensor`);
  return op === 'max' ? maxOp(x, dims, keepdim) : minOp(x, dims, keepdim);
}
/**
 * The maximum over `dim` (all elements when omitted); the gradient is shared between ties. For indices use `x.argmax(dim)`.
 * @example
 * max(tensor([[1, 5], [7, 2]]), 1); // [5, 7]
 */
export const max = (x: Tensor, dim?: number | readonly number[] | null, keepdim = false) => extremum('max', x, dim, keepdim);
/** The minimum over `dim` (all elements when omitted); the gradient is shared between ties. For indices use `x.argmin(dim)`. */
export const min = (x: Tensor, dim?: number | readonly number[] | null, keepdim = false) => extremum('min', x, dim, keepdim);

/**
 * mean = Σx / n over the reduced dims
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);
 * mean(x).item();                         // 2.5
 * mean(x, 0).toArray();                   // [2, 3]
 * mean(x, 1, true).shape;                 // [2, 1]
 * ```
 */
export function mean(x: Tensor, dim?: number | readonly number[] | null, keepdim = false): Tensor {
  checkFloat('mean', x);
  const dims = reductionDims('mean', dim, x.ndim);
  const n = dims.reduce((p, d) => p * x.shape[d]!, 1);
  return div(sum(x, dims, keepdim), n);
}

/**
 * var = Σ(x − x̄)² / (n − correction); correction = 1 is Bessel's (torch's default).
 * @example
 * ```ts
 * const x = tensor([1, 2, 3, 4]);
 * tg.var(x).item();                       // 1.6667 (Bessel's correction, as torch; `var` is a keyword: import * as tg)
 * tg.var(x, null, { correction: 0 }).item(); // 1.25 (population variance)
 * x.var().item();                         // 1.6667, the method form
 * ```
 */
export function variance(x: Tensor, dim?: number | readonly number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  checkFloat('var', x);
  const dims = reductionDims('var', dim, x.ndim);
  const correction = opts.correction ?? 1;
  const n = dims.reduce((p, d) => p * x.shape[d]!, 1);
  const centered = sub(x, mean(x, dims, true));
  return div(sum(mul(centered, centered), dims, opts.keepdim ?? false), Math.max(0, n - correction));
}
// std: y = √(Σ(x − x̄)²/(n − c));  ∂y/∂x = (x − x̄)/((n − c)·y), and 0 where y = 0: a constant
// row (or a size-1 dim with correction 0) sits at the kink of √, where PyTorch's std_backward
// masks the gradient to 0 rather than giving 0·∞ = NaN.
const stdOp = defineOp({
  name: 'std', doc: '√var over dims',
  gradient: 'y = √(Σ(x − x̄)²/(n − c));  ∂L/∂x = g·(x − x̄)/((n − c)·y), 0 where y = 0',
  forward: (c: ForwardContext<ReduceAttrs & { divisor: number }>, x: Tensor, dims: number[], opts: { correction?: number; keepdim?: boolean }): Tensor => {
    const n = dims.reduce((p, d) => p * x.shape[d]!, 1);
    c.attrs = { dims, keepdim: opts.keepdim ?? false, divisor: Math.max(0, n - (opts.correction ?? 1)) };
    return sqrt(variance(x, dims, opts)); // recording is off in a forward
  },
  backward: (c, g): Tensor[] => {
    const x = c.inputs[0]!;
    const { dims, divisor } = c.attrs;
    const kept = reducedShape(x.shape, dims, true);
    const yk = reshape(c.output, kept);
    const gk = reshape(g, kept);
    const scale = where(eq(yk, 0), 0, div(gk, mul(yk, divisor))); // g/((n − c)·y), masked at y = 0
    return [mul(sub(x, mean(x, dims, true)), scale)];
  },
});
/**
 * std = √var (Bessel's correction by default, as torch.std).
 * @example
 * ```ts
 * const x = tensor([[1, 3], [2, 6]]);
 * std(x, 1).toArray();                    // [1.4142, 2.8284]
 * ```
 */
export function std(x: Tensor, dim?: number | readonly number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  checkFloat('std', x);
  return stdOp(x, reductionDims('std', dim, x.ndim), opts);
}

/**
 * logsumexp(x) = m + ln Σ e^(x−m) with m = max x (held constant: the result does not depend on it).
 * @example
 * ```ts
 * const x = tensor([[0, 0], [1000, 1000]]);
 * logsumexp(x, 1).toArray();              // [0.6931, 1000.6931]: stable, no overflow
 * ```
 */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  checkFloat('logsumexp', x);
  const dims = normalizeDims('logsumexp', dim, x.ndim);
  // over a size-0 dim: ln Σ∅ = ln 0 = −∞ (as PyTorch); the sum keeps the (empty) gradient path
  if (dims.some((d) => x.shape[d] === 0)) return add(sum(x, dims, keepdim), -Infinity);
  const m0 = max(x.detach(), dims, true);
  const m = where(isinf(m0), 0, m0); // rows of ±inf: shift by 0 so that inf − inf never appears
  const s = log(sum(exp(sub(x, m)), dims, true));
  const out = add(s, m);
  return keepdim ? out : reshape(out, reducedShape(x.shape, dims, false));
}
composites({ mean, var: variance, logsumexp });

function isinf(x: Tensor): Tensor {
  return eq(abs(x), Infinity);
}

export function argReduce(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (x.numel() === 0) throw new Error(`${op}: cannot take the ${op} of an empty tensor (shape ${fmtShape(x.shape)})`);
  if (dim === undefined) {
    const flat = reshape(x, [x.numel()]);
    const r = Tensor.fromStorage(x.storage.backend.argReduce(op, flat, 0), [1]);
    return keepdim ? reshape(r, x.shape.map(() => 1)) : reshape(r, []);
  }
  const d = normalizeDim(op, dim, x.ndim);
  if (x.ndim === 0) return scalarTensor(0, 'int32', x.device);
  const r = Tensor.fromStorage(x.storage.backend.argReduce(op, x, d), reducedShape(x.shape, [d], true));
  return keepdim ? r : reshape(r, reducedShape(x.shape, [d], false));
}

// softmax: yᵢ = e^(xᵢ−m) / Σⱼ e^(xⱼ−m);  ∂L/∂x = y ⊙ (g − Σ(g ⊙ y))
// logSoftmax: y = x − m − ln Σ e^(x−m);  ∂L/∂x = g − eʸ·Σg
// Over the last dim, where the backend has fused row kernels (the CPU), forward and backward
// are one pass each (`fused`); otherwise these composites of ops. test/nn/fused.test.ts checks
// that both agree.
// Both are declared as op(x, attrs, kernelOpts?): the public functions choose the path (attrs.fused)
// and normalise the dim; kernelOpts carries scaledMaskedSoftmax's scale and mask view to the fused
// kernel (inside an object, so that the mask is not a recorded input).
type SoftmaxAttrs = { dim: number; fused: boolean; scale: number };
type SoftmaxKernelOpts = { scale: number; mask: View | null };
function softmaxForward(isLog: boolean) {
  return (c: ForwardContext<SoftmaxAttrs>, x: Tensor, attrs: SoftmaxAttrs, kernelOpts?: SoftmaxKernelOpts): Tensor => {
    c.attrs = attrs;
    const d = attrs.dim;
    if (x.numel() === 0) return zerosOn(x.shape, x.dtype, x.device); // empty in, empty out (as PyTorch)
    if (attrs.fused) return Tensor.fromStorage(x.storage.backend.softmaxForward!(contiguous(x), x.shape[d]!, isLog, kernelOpts), x.shape);
    const shifted = sub(x, max(x, d, true));
    if (isLog) return sub(shifted, log(sum(exp(shifted), d, true)));
    const e = exp(shifted);
    return div(e, sum(e, d, true));
  };
}
const softmaxOp = defineOp({
  name: 'softmax', doc: 'e^x normalised over dim',
  gradient: 'yᵢ = e^(xᵢ−m)/Σⱼ e^(xⱼ−m);  ∂L/∂x = y ⊙ (g − Σ(g ⊙ y)) (times scale for scaledMaskedSoftmax)',
  forward: softmaxForward(false),
  backward: (c, g): Tensor[] => {
    const y = c.output;
    if (c.attrs.fused) return [fusedSoftmaxBackward(g, y, false, c.attrs.scale)];
    return [mul(y, sub(g, sum(mul(g, y), c.attrs.dim, true)))];
  },
});
const logSoftmaxOp = defineOp({
  name: 'logSoftmax', doc: 'ln softmax over dim',
  gradient: 'y = x − m − ln Σ e^(x−m);  ∂L/∂x = g − eʸ·Σg',
  forward: softmaxForward(true),
  backward: (c, g): Tensor[] => {
    if (c.attrs.fused) return [fusedSoftmaxBackward(g, c.output, true, c.attrs.scale)];
    return [sub(g, mul(exp(c.output), sum(g, c.attrs.dim, true)))];
  },
});

function fusedSoftmaxBackward(g: Tensor, y: Tensor, log: boolean, scale: number): Tensor {
  const n = y.shape[y.ndim - 1]!;
  return Tensor.fromStorage(y.storage.backend.softmaxBackward!(contiguous(g), contiguous(y), n, log, scale), y.shape);
}

/**
 * softmax(scale·x + mask) over the last dim — attention's probabilities, softmax(QKᵀ/√d_k + M)
 * (Vaswani et al. 2017, Eq. 1) — in one fused pass where the backend can (the CPU), else as
 * the composite x·scale (+ mask) then softmax. `mask` is additive (float, broadcastable to x,
 * e.g. HF BERT's extended mask (B, 1, 1, T)) and receives no gradient; a mask that requires
 * grad takes the composite path so that it gets one.
 *   ∂L/∂x = scale·y ⊙ (g − Σ(g ⊙ y))
 */
export function scaledMaskedSoftmax(x: Tensor, scale: number, mask: Tensor | null = null): Tensor {
  checkFloat('scaledMaskedSoftmax', x);
  const fusedOk = canFuseSoftmax(x, x.ndim - 1) && (mask === null || (!mask.requiresGrad && mask.dtype === x.dtype && mask.device === x.device));
  if (!fusedOk) {
    let z = scale === 1 ? x : mul(x, scale);
    if (mask) z = add(z, mask);
    return softmax(z, -1);
  }
  const maskView = mask ? broadcastView(mask, broadcastShapes('scaledMaskedSoftmax', mask.shape, x.shape)) : null;
  if (maskView && !shapesEqual(maskView.shape, x.shape)) {
    throw new Error(`scaledMaskedSoftmax: mask of shape ${fmtShape(mask!.shape)} does not broadcast to the input's shape ${fmtShape(x.shape)}`);
  }
  return softmaxOp(x, { dim: x.ndim - 1, fused: true, scale }, { scale, mask: maskView });
}

/** Whether softmax over `d` can run the backend's fused row kernels. */
function canFuseSoftmax(x: Tensor, d: number): boolean {
  const be = x.storage.backend;
  return d === x.ndim - 1 && x.numel() > 0 && be.softmaxForward !== undefined && be.softmaxBackward !== undefined;
}

function softmaxImpl(x: Tensor, dim: number, isLog: boolean): Tensor {
  const name = isLog ? 'logSoftmax' : 'softmax';
  checkAlive(name, [x]);
  checkFloat(name, x);
  const d = normalizeDim(name, dim, x.ndim);
  const attrs = { dim: d, fused: canFuseSoftmax(x, d), scale: 1 }; // canFuseSoftmax is false for an empty x
  return isLog ? logSoftmaxOp(x, attrs) : softmaxOp(x, attrs);
}

/**
 * softmax(x)ᵢ = e^(xᵢ−m)/Σⱼ e^(xⱼ−m) along `dim` (m the max, for stability), as torch.softmax.
 * @example
 * softmax(tensor([0, Math.log(3)]), 0); // [0.25, 0.75]
 */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl(x, dim, false);
}
/**
 * log softmax(x) = x − m − log Σ e^(x−m) along `dim`, computed without forming the softmax, as torch.log_softmax.
 * @example
 * logSoftmax(tensor([0, 0]), 0); // [−0.6931, −0.6931]
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl(x, dim, true);
}

// ---- matmul -------------------------------------------------------------------------------------

// C = A·B (batched, batch dims broadcast);  ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G (batch dims summed by the engine)
// The declaration takes operands of ≥ 2 dims and one dtype (the public `matmul` checks, promotes
// 1-D operands to matrices and the dtypes); shape rule: (…a, M, K)·(…b, K, N) → (broadcast(…a, …b), M, N).
const matmulOp = defineOp({
  name: 'matmul', doc: 'batched matrix product, batch dims broadcast',
  gradient: 'C = A·B;  ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G (batch dims summed back by the engine)',
  forward: (_c, a: Tensor, b: Tensor): Tensor => {
    const [M, K] = a.shape.slice(-2) as [number, number];
    const N = b.shape[b.ndim - 1]!;
    let batch: number[];
    try {
      batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    } catch {
      throw new Error(`matmul: batch dims of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not broadcast`);
    }
    checkAllocation('matmul', [...batch, M, N], a.dtype, 'the result');
    const s = a.storage.backend.matmul(broadcastView(a, [...batch, M, K]), broadcastView(b, [...batch, K, N]), a.dtype);
    return Tensor.fromStorage(s, [...batch, M, N]);
  },
  backward: (c, g) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    return [
      c.needsGrad[0] ? matmul(g, transpose(b, -1, -2)) : null,
      c.needsGrad[1] ? matrixGradLike(b, () => matmul(transpose(a, -1, -2), g), () => matmul(transpose(g, -1, -2), a)) : null,
    ];
  },
});
/**
 * Matrix product with torch.matmul's rules: 1-D·1-D is a dot product, a 1-D operand is
 * promoted to a matrix and the added dim removed afterwards, ≥3-D operands are batches of
 * matrices whose batch dims broadcast.
  * @example
  * ```ts
  * const a = randn([2, 3, 4]);             // a batch of 2 (3, 4) matrices
  * const b = randn([4, 5]);                // broadcast over the batch
  * matmul(a, b).shape;                     // [2, 3, 5]
  * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new Error('matmul: both operands must be tensors');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`matmul: both arguments need at least 1 dimension, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  checkSameDevice('matmul', [a, b]);
  if (a.dtype === 'bool' || b.dtype === 'bool') throw new Error(`matmul: bool tensors are not supported, got ${a.dtype} and ${b.dtype}`);
  // check the inner dims on the caller's shapes (before 1-D operands are promoted to matrices)
  const kA = a.shape[a.ndim - 1]!;
  const kB = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (kA !== kB) throw new Error(`matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)} (inner dims ${kA} != ${kB})`);
  if (a.ndim === 1 && b.ndim === 1) return reshape(matmul(reshape(a, [1, a.shape[0]!]), reshape(b, [b.shape[0]!, 1])), []);
  if (a.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1) return squeeze(matmul(a, unsqueeze(b, -1)), -1);
  const dt = promoteTypes(a.dtype, b.dtype);
  return matmulOp(a.dtype === dt ? a : cast(a, dt), b.dtype === dt ? b : cast(b, dt));
}

// addmm: Y = bias + A·B, i.e. Y[i, j] = bias[j] + Σₖ A[i, k]·B[k, j]  (bias: [N], A: [M, K], B: [K, N])
//   ∂L/∂bias = Σᵢ G[i, :],  ∂L/∂A = G·Bᵀ,  ∂L/∂B = Aᵀ·G
// The declaration runs the backend's fused kernel (the public `addmm` checks the arguments and
// takes the composite where the backend has none); shape rule: [N] + [M, K]·[K, N] → [M, N].
const addmmOp = defineOp({
  name: 'addmm', doc: 'bias + a·b in the backend\'s fused GEMM',
  gradient: 'Y = bias + A·B;  ∂L/∂bias = Σᵢ G[i, :], ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G',
  forward: (_c, bias: Tensor, a: Tensor, b: Tensor): Tensor => {
    return Tensor.fromStorage(a.storage.backend.addmm!(bias, a, b, a.dtype), [a.shape[0]!, b.shape[1]!]);
  },
  backward: (c, g) => {
    const [, a, b] = c.inputs as [Tensor, Tensor, Tensor];
    return [
      c.needsGrad[0] ? sum(g, 0) : null,
      c.needsGrad[1] ? matmul(g, transpose(b, 0, 1)) : null,
      c.needsGrad[2] ? matrixGradLike(b, () => matmul(transpose(a, 0, 1), g), () => matmul(transpose(g, 0, 1), a)) : null,
    ];
  },
});

/**
 * The gradient of a matrix operand (the last two dims), computed in the operand's own memory
 * order: when b is a transposed view (Linear's Wᵀ, attention's Kᵀ: column-major), ∂b = (gᵀ·a)ᵀ — the product written row-major
 * as ∂W and viewed transposed — so that ∂W reaches the weight's .grad without a copy. Same
 * numbers either way (each element is the same dot product).
 */
function matrixGradLike(b: Tensor, rowMajor: () => Tensor, transposed: () => Tensor): Tensor {
  const r = b.ndim;
  const columnMajor = r >= 2 && b.strides[r - 2] === 1 && b.strides[r - 1] === b.shape[r - 2] && b.shape[r - 2]! > 1;
  return columnMajor ? transpose(transposed(), -1, -2) : rowMajor();
}
/**
 * bias + a·b in one kernel where the backend has a fused `addmm` (the CPU does: the GEMM
 * accumulates onto rows pre-filled with the bias), else `add(matmul(a, b), bias)`.
 * torch.addmm(bias, a, b) for a 1-D bias [N], a: [M, K], b: [K, N], all of one float dtype.
  * @example
  * ```ts
  * const bias = zeros([5]);
  * const y = addmm(bias, randn([3, 4]), randn([4, 5])); // bias + a·b: (3, 5)
  * ```
 */
export function addmm(bias: Tensor, a: Tensor, b: Tensor): Tensor {
  if (!(bias instanceof Tensor) || !(a instanceof Tensor) || !(b instanceof Tensor)) throw new Error('addmm: bias, a and b must be tensors');
  const shapes = `bias ${fmtShape(bias.shape)}, a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`;
  if (a.ndim !== 2 || b.ndim !== 2) throw new Error(`addmm: a and b must be 2-D matrices, got ${shapes}`);
  const K = a.shape[1]!;
  const [K2, N] = b.shape as [number, number];
  if (K !== K2) throw new Error(`addmm: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)} (inner dims ${K} != ${K2})`);
  if (bias.ndim !== 1 || bias.shape[0] !== N) throw new Error(`addmm: bias must be 1-D of length N = ${N} (b's columns), got ${shapes}`);
  checkSameDevice('addmm', [bias, a, b]);
  checkFloat('addmm', a, 'a');
  if (bias.dtype !== a.dtype || b.dtype !== a.dtype) {
    throw new Error(`addmm: expected bias, a and b of one dtype, got ${bias.dtype}, ${a.dtype} and ${b.dtype}`);
  }
  if (!a.storage.backend.addmm) return add(matmul(a, b), bias); // the composite: its ops record their own gradients
  return addmmOp(bias, a, b);
}

// ---- movement (views) -----------------------------------------------------------------------------

function viewOf(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.storage, shape, strides, offset);
}

/** Resolves one -1 in a target shape and checks the element count. */
function inferShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) throw new Error(`${op}: only one dimension can be inferred (-1), got ${fmtShape(shape)}`);
  for (const d of out) {
    if (!Number.isInteger(d) || d < -1) throw new Error(`${op}: invalid shape ${fmtShape(shape)}: dims must be non-negative integers or a single -1`);
  }
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (neg === 1) {
    if (known === 0 || x.numel() % known !== 0) {
      throw new Error(`${op}: shape ${fmtShape(shape)} is invalid for input of size ${x.numel()} (shape ${fmtShape(x.shape)})`);
    }
    out[out.indexOf(-1)] = x.numel() / known;
  } else if (known !== x.numel()) {
    throw new Error(`${op}: shape ${fmtShape(shape)} is invalid for input of size ${x.numel()} (shape ${fmtShape(x.shape)})`);
  }
  return out;
}

/**
 * Strides for viewing x as `shape` without copying, or null when impossible
 * (the algorithm of PyTorch's computeStride: each group of old dims that maps onto a group of
 * new dims must itself be contiguous).
 */
function viewStrides(oldShape: Shape, oldStrides: readonly number[], shape: Shape): number[] | null {
  if (numel(oldShape) === 0) return contiguousStrides(shape);
  // a 0-d tensor has one element: any shape of 1s views it (the loop below needs ≥ 1 old dim)
  if (oldShape.length === 0) return contiguousStrides(shape);
  const newStrides = new Array<number>(shape.length).fill(0);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

// The views below are declared like every other op; their public functions resolve the target
// (the shape rule: -1 inferred, dims normalised, ranges clamped) and check it, and the declaration
// makes the view — a new shape/strides/offset over the same storage, no kernel.

// reshape/view: same elements, new shape (a copy only where no strides can express it)
const reshapeOp = defineOp({
  name: 'reshape', doc: 'the same elements in a new shape: a view where the strides allow, else a copy',
  gradient: 'y = x in shape s;  ∂L/∂x = g reshaped to x\'s shape',
  // shape: the target, resolved; strides: viewStrides' answer (null: no view possible, copy)
  forward: (_c, x: Tensor, shape: number[], strides: number[] | null): Tensor => (
    strides ? viewOf(x, shape, strides, x.offset) : new Tensor(contiguous(x, true).storage, shape)
  ),
  backward: (c, g) => [reshape(g, c.inputs[0]!.shape)],
});
/**
 * The same elements in a new shape (one dim may be -1): a view when the strides allow, else a copy, as torch.reshape.
 * @example
 * reshape(arange(6), [2, -1]).shape; // [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape('reshape', x, shape);
  return reshapeOp(x, target, viewStrides(x.shape, x.strides, target));
}
/**
 * The same elements in a new shape, always a view (throws when the strides do not allow one; use reshape), as torch.Tensor.view.
 * @example
 * ```ts
 * const x = arange(6);                    // (6)
 * const v = view(x, [2, -1]);             // (2, 3), sharing x's storage
 * v.shape;                                // [2, 3]
 * ```
 */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape('view', x, shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (!strides) {
    throw new Error(`view: size ${fmtShape(target)} is not compatible with the input's strides (shape ${fmtShape(x.shape)}, strides ${fmtShape(x.strides)}); use reshape(), which copies`);
  }
  return reshapeOp(x, target, strides);
}
/**
 * Merges dims startDim…endDim into one, as torch.flatten.
 * @example
 * flatten(randn([2, 3, 4]), 1).shape; // [2, 12]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim, 'startDim');
  const e = normalizeDim('flatten', endDim, x.ndim, 'endDim');
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const mid = x.shape.slice(s, e + 1).reduce((p, d) => p * d, 1);
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}
/**
 * Removes size-1 dims (all of them, or the given ones when they have size 1), as torch.squeeze.
 * @example
 * squeeze(zeros([1, 3, 1])).shape; // [3]
 */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims = dim === undefined ? x.shape.map((_, i) => i) : normalizeDims('squeeze', dim, x.ndim);
  const keep = x.shape.map((d, i) => !(dims.includes(i) && d === 1));
  return reshape(x, x.shape.filter((_, i) => keep[i]));
}
/**
 * Inserts a size-1 dim at `dim` (negative counts from the end of the result), as torch.unsqueeze.
 * @example
 * unsqueeze(zeros([3]), 0).shape; // [1, 3]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}
composites({ view, flatten, squeeze, unsqueeze });

// permute: y = x with dims reordered (a view: shape and strides permuted)
const permuteOp = defineOp({
  name: 'permute', doc: 'the dims reordered (a view)',
  gradient: 'y = x with dims reordered by p;  ∂L/∂x = g permuted by p⁻¹',
  forward: (c: ForwardContext<{ dims: number[] }>, x: Tensor, dims: number[]): Tensor => {
    c.attrs = { dims };
    return viewOf(x, dims.map((d) => x.shape[d]!), dims.map((d) => x.strides[d]!), x.offset);
  },
  backward: (c, g) => {
    const inv = new Array<number>(c.attrs.dims.length);
    c.attrs.dims.forEach((d, i) => (inv[d] = i));
    return [permute(g, inv)];
  },
});
/**
 * Reorders the dims (a view), as torch.permute.
 * @example
 * permute(randn([2, 3, 4]), [2, 0, 1]).shape; // [4, 2, 3]
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(`permute: got ${dims.length} dims ${fmtShape(dims)} for a tensor of rank ${x.ndim} (shape ${fmtShape(x.shape)})`);
  }
  const ds = dims.map((d) => normalizeDim('permute', d, x.ndim));
  if (new Set(ds).size !== ds.length) throw new Error(`permute: dims ${fmtShape(dims)} repeat a dimension`);
  return permuteOp(x, ds);
}
/**
 * Swaps two dims (a view, no copy), as torch.transpose.
 * @example
 * transpose(randn([2, 3, 4]), 0, 2).shape; // [4, 3, 2]
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (x.ndim < 2 && x.ndim === 0) return x;
  const a = normalizeDim('transpose', dim0, x.ndim, 'dim0');
  const b = normalizeDim('transpose', dim1, x.ndim, 'dim1');
  const dims = x.shape.map((_, i) => i);
  [dims[a], dims[b]] = [dims[b]!, dims[a]!];
  return permute(x, dims);
}
composites({ transpose });

// expand: broadcast to a bigger shape (a view: stride 0 along new and size-1 dims)
const expandOp = defineOp({
  name: 'expand', doc: 'broadcast to a bigger shape (a view)',
  gradient: 'y = x broadcast to s;  ∂L/∂x = g summed back over the broadcast dims (by the engine)',
  forward: (_c, x: Tensor, shape: number[]): Tensor => viewOf(x, shape, broadcastView(x, shape).strides, x.offset),
  backward: (_c, g) => [g],
});
/**
 * Broadcasts x to a larger shape without copying (stride 0 along new and size-1 dims); -1 keeps a dim, as torch.Tensor.expand.
 * @example
 * expand(tensor([[1], [2]]), [2, 3]); // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new Error(`expand: the target shape ${fmtShape(shape)} has fewer dims than the input's ${fmtShape(x.shape)}`);
  }
  const lead = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  checkShape('expand', target);
  for (let i = lead; i < shape.length; i++) {
    const have = x.shape[i - lead]!;
    if (have !== 1 && have !== target[i]) {
      throw new Error(`expand: the input's shape ${fmtShape(x.shape)} cannot be expanded to ${fmtShape(shape)} (dim ${i}: ${have} vs ${target[i]}; only size-1 dims expand)`);
    }
  }
  if (shapesEqual(target, x.shape)) return x;
  return expandOp(x, target);
}

// slice: y = x[start:end:step] along dim (a view: the dim's stride times step, the offset moved)
type SliceAttrs = { dim: number; start: number; step: number; length: number };
const sliceOp = defineOp({
  name: 'slice', doc: 'x[start:end:step] along dim (a view)',
  gradient: 'y = x[start:end:step] along dim;  ∂L/∂x = zeros of x\'s shape with g written into that window',
  // attrs: dim normalised, start clamped into [0, n] (0 when the slice is empty), length ≥ 0
  forward: (c: ForwardContext<SliceAttrs>, x: Tensor, attrs: SliceAttrs): Tensor => {
    c.attrs = attrs;
    const { dim, start, step, length } = attrs;
    const shape = x.shape.map((sz, i) => (i === dim ? length : sz));
    const strides = x.strides.map((st, i) => (i === dim ? st * step : st));
    return viewOf(x, shape, strides, x.offset + start * x.strides[dim]!);
  },
  backward: (c, g) => {
    const x = c.inputs[0]!;
    const gx = zerosOn(x.shape, g.dtype, g.device);
    const { dim, start, step } = c.attrs;
    const window = viewOf(gx, g.shape, gx.strides.map((s, i) => (i === dim ? s * step : s)), start * gx.strides[dim]!);
    gx.storage.backend.copy(window, g);
    return [gx];
  },
});
/**
 * x[start:end:step] along `dim` (a view; negative and out-of-range bounds clamp as in Python slicing).
 * @example
 * slice(arange(10), 0, 2, 8, 3); // [2, 5]
 */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
  const d = normalizeDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step <= 0) throw new Error(`slice: step must be a positive integer, got ${step}`);
  const n = x.shape[d]!;
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = start == null ? 0 : clampIdx(start);
  const e = end == null ? n : clampIdx(end);
  if ((start != null && !Number.isInteger(start)) || (end != null && !Number.isInteger(end))) {
    throw new Error(`slice: start and end must be integers, got ${start} and ${end}`);
  }
  const len = Math.max(0, Math.ceil((e - s) / step));
  return sliceOp(x, { dim: d, start: len > 0 ? s : 0, step, length: len });
}
/**
 * The `length` elements of `dim` from `start` (a view), as torch.narrow.
 * @example
 * narrow(arange(6), 0, 1, 3); // [1, 2, 3]
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim('narrow', dim, x.ndim);
  const n = x.shape[d]!;
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(start) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new Error(`narrow: start ${start} + length ${length} is out of range for dim ${dim} of size ${n}`);
  }
  return slice(x, d, s, s + length);
}
/**
 * The slice at `index` along `dim`, with that dim removed (a view), as torch.select.
 * @example
 * select(tensor([[1, 2], [3, 4]]), 1, 0); // [1, 3]
 */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normalizeDim('select', dim, x.ndim);
  const n = x.shape[d]!;
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new Error(`select: index ${index} is out of range for dim ${dim} of size ${n}`);
  }
  const i = index < 0 ? index + n : index;
  return squeeze(slice(x, d, i, i + 1), d);
}
/**
 * Splits x along `dim` into pieces of `splitSize` (the last may be smaller) or of the given sizes (views), as torch.split.
 * @example
 * split(arange(5), 2).map((t) => t.shape[0]); // [2, 2, 1]
 */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim('split', dim, x.ndim);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof splitSize === 'number') {
    if (!Number.isInteger(splitSize) || splitSize <= 0) throw new Error(`split: splitSize must be a positive integer, got ${splitSize}`);
    sizes = [];
    for (let s = 0; s < n; s += splitSize) sizes.push(Math.min(splitSize, n - s));
    if (n === 0) sizes = [0];
  } else {
    sizes = [...splitSize];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new Error(`split: sizes ${fmtShape(sizes)} must be non-negative integers summing to ${n} (dim ${dim} of shape ${fmtShape(x.shape)})`);
    }
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(slice(x, d, start, start + s));
    start += s;
  }
  return out;
}
/**
 * Splits x into `chunks` nearly equal pieces along `dim` (views), as torch.chunk.
 * @example
 * chunk(arange(6), 3).length; // 3
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new Error(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normalizeDim('chunk', dim, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[d]! / chunks)), d);
}
composites({ narrow, select, split, chunk });

// contiguous / clone: a copy with row-major strides
const contiguousOp = defineOp({
  name: 'contiguous', doc: 'a row-major copy',
  gradient: 'y = x (copied into row-major order);  ∂L/∂x = g',
  forward: (_c, x: Tensor): Tensor => {
    const b = x.storage.backend;
    const out = Tensor.fromStorage(b.full(x.numel(), x.dtype, 0), x.shape);
    b.copy(out, x);
    return out;
  },
  backward: (_c, g) => [g],
});
/**
 * x with dense row-major strides: x itself when it already is (unless `force`), else a copy.
 * @example
 * transpose(randn([2, 3]), 0, 1).contiguous().isContiguous(); // true
 */
export function contiguous(x: Tensor, force = false): Tensor {
  checkAlive(force ? 'clone' : 'contiguous', [x]);
  if (!force && x.isContiguous()) return x;
  return contiguousOp(x);
}

/** Concatenation of tensors of one dtype along a normalised dim (declaration; the public `cat` checks and promotes). */
const catOp = defineOp({
  name: 'cat', doc: 'concatenation along dim',
  gradient: 'y = [x₀; x₁; …] along dim;  ∂L/∂xᵢ = the matching slice of g',
  forward: (c: ForwardContext<{ dim: number; sizes: number[] }>, ins: Tensor[], d: number): Tensor => {
    const ref = ins[0]!;
    const dt = ref.dtype;
    const sizes = ins.map((t) => t.shape[d]!);
    const shape = ref.shape.map((s: number, j: number) => (j === d ? sizes.reduce((a, b) => a + b, 0) : s));
    checkAllocation('cat', shape, dt, 'the result');
    const b = ref.storage.backend;
    const out = Tensor.fromStorage(b.full(numel(shape), dt, 0), shape);
    let off = 0;
    for (const t of ins) {
      const win = viewOf(out, t.shape, out.strides, off * out.strides[d]!);
      b.copy(win, t);
      off += t.shape[d]!;
    }
    c.attrs = { dim: d, sizes };
    return out;
  },
  backward: (c, g) => split(g, c.attrs.sizes, c.attrs.dim),
});
/**
 * Concatenates tensors along an existing dim (dtypes promoted), as torch.cat.
 * @example
 * cat([ones([1, 2]), zeros([2, 2])], 0).shape; // [3, 2]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('cat: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`cat: expected a tensor at position ${i} of the list, got ${describeValue(t)}`);
  });
  const ref = tensors[0]!;
  const d = normalizeDim('cat', dim, ref.ndim);
  checkSameDevice('cat', [...tensors]);
  let dt = ref.dtype;
  tensors.forEach((t, i) => {
    if (t.ndim !== ref.ndim) throw new Error(`cat: tensor ${i} has rank ${t.ndim} (shape ${fmtShape(t.shape)}) but tensor 0 has rank ${ref.ndim} (shape ${fmtShape(ref.shape)})`);
    t.shape.forEach((s: number, j: number) => {
      if (j !== d && s !== ref.shape[j]) {
        throw new Error(`cat: sizes must match except in dim ${d}: tensor ${i} has shape ${fmtShape(t.shape)}, tensor 0 has ${fmtShape(ref.shape)}`);
      }
    });
    dt = promoteTypes(dt, t.dtype);
  });
  return catOp(tensors.map((t) => (t.dtype === dt ? t : cast(t, dt))), d);
}
/**
 * Stacks same-shaped tensors along a new dim, as torch.stack.
 * @example
 * stack([ones([2]), zeros([2])], 1).shape; // [2, 2]
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('stack: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`stack: expected a tensor at position ${i} of the list, got ${describeValue(t)}`);
  });
  const ref = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!shapesEqual(t.shape, ref.shape)) throw new Error(`stack: expects each tensor to be equal size, but got ${fmtShape(ref.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`);
  });
  const d = normalizeDim('stack', dim, ref.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}
composites({ stack });

// ---- indexing --------------------------------------------------------------------------------

export function checkIndex(op: string, index: Tensor): void {
  if (!(index instanceof Tensor) || index.dtype !== 'int32') {
    throw new Error(`${op}: index must be an int32 tensor, got ${index instanceof Tensor ? `dtype ${index.dtype}` : typeof index}`);
  }
}

/** Zeros of `like`'s shape with g scattered-added at `index` along `dim`. */
export function scatterAddInto(shape: Shape, dim: number, index: View, g: Tensor): Tensor {
  const out = zerosOn(shape, g.dtype, g.device);
  out.storage.backend.scatterAdd(out, dim, index, g);
  return out;
}

// The indexing ops are declared as op(x, attrs): the int32 index travels in the attrs object
// (the only input is the tensor gathered from), and the public functions check the arguments first.
type IndexAttrs = { dim: number; index: Tensor };

const gatherOp = defineOp({
  name: 'gather', doc: 'x[p with p[dim] := index[p]]',
  gradient: 'y[p] = x[p with p[dim] := index[p]];  ∂L/∂x = scatterAdd(zeros, dim, index, g)',
  forward: (c: ForwardContext<IndexAttrs>, x: Tensor, attrs: IndexAttrs): Tensor => {
    c.attrs = attrs;
    return Tensor.fromStorage(x.storage.backend.gather(x, attrs.dim, attrs.index), attrs.index.shape);
  },
  backward: (c, g): Tensor[] => [scatterAddInto(c.inputs[0]!.shape, c.attrs.dim, c.attrs.index, g)],
});
/**
 * y[i][j] = x[i][index[i][j]] along `dim` (index int32, same rank as x), as torch.gather.
 * @example
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]], { dtype: 'int32' })); // [[2], [3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex('gather', index);
  const d = normalizeDim('gather', dim, x.ndim);
  if (index.ndim !== x.ndim) throw new Error(`gather: index must have the same rank as the input, got index shape ${fmtShape(index.shape)} and input shape ${fmtShape(x.shape)}`);
  index.shape.forEach((s: number, i: number) => {
    if (i !== d && s > x.shape[i]!) throw new Error(`gather: index shape ${fmtShape(index.shape)} exceeds the input shape ${fmtShape(x.shape)} at dim ${i}`);
  });
  checkSameDevice('gather', [x, index]);
  return gatherOp(x, { dim: d, index });
}

/** A view of a 1-D index shaped to pick whole slices of x along dim. */
function sliceIndex(x: Tensor, dim: number, index: Tensor): View {
  const n = index.shape[0]!;
  const shape = x.shape.map((s, i) => (i === dim ? n : s));
  const strides = x.shape.map((_, i) => (i === dim ? index.strides[0]! : 0));
  return { storage: index.storage, shape, strides, offset: index.offset };
}

const indexSelectOp = defineOp({
  name: 'indexSelect', doc: 'x[..., index, ...] along dim',
  gradient: 'y = x[..., index, ...] along dim;  ∂L/∂x = index-add of g along dim',
  forward: (c: ForwardContext<IndexAttrs>, x: Tensor, attrs: IndexAttrs): Tensor => {
    c.attrs = attrs;
    const iv = sliceIndex(x, attrs.dim, attrs.index);
    try {
      return Tensor.fromStorage(x.storage.backend.gather(x, attrs.dim, iv), iv.shape);
    } catch (e) {
      throw new Error(`indexSelect: ${(e as Error).message.replace(/^gather: /, '')}`);
    }
  },
  backward: (c, g): Tensor[] => {
    const x = c.inputs[0]!;
    return [scatterAddInto(x.shape, c.attrs.dim, sliceIndex(x, c.attrs.dim, c.attrs.index), g)];
  },
});
/**
 * The entries of x at the int32 `index` along `dim`, as torch.index_select.
 * @example
 * indexSelect(tensor([10, 20, 30]), 0, tensor([2, 0], { dtype: 'int32' })); // [30, 10]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex('indexSelect', index);
  if (index.ndim > 1) throw new Error(`indexSelect: index must be 0-D or 1-D, got shape ${fmtShape(index.shape)}`);
  const idx = index.ndim === 0 ? reshape(index, [1]) : index;
  const d = normalizeDim('indexSelect', dim, x.ndim);
  checkSameDevice('indexSelect', [x, idx]);
  return indexSelectOp(x, { dim: d, index: idx });
}

type EmbeddingAttrs = { ids: Tensor; paddingIdx: number | null };
const embeddingOp = defineOp({
  name: 'embedding', doc: 'rows of a table W [V, H] for integer ids',
  gradient: 'y[..., :] = W[ids[...], :];  ∂L/∂W[v] = Σ_{positions with id v} g rows (none for paddingIdx)',
  forward: (c: ForwardContext<EmbeddingAttrs>, weight: Tensor, attrs: EmbeddingAttrs): Tensor => {
    c.attrs = attrs;
    const { ids } = attrs;
    const n = ids.numel();
    const flat = contiguous(reshape(ids, [n]));
    const iv = sliceIndex(weight, 0, flat);
    let out: Tensor;
    try {
      out = Tensor.fromStorage(weight.storage.backend.gather(weight, 0, iv), iv.shape);
    } catch (e) {
      throw new Error(`embedding: ${(e as Error).message.replace(/^gather: /, '')} (the table has ${weight.shape[0]} rows)`);
    }
    return new Tensor(out.storage, [...ids.shape, weight.shape[1]!]); // (N, H) → (...ids.shape, H)
  },
  backward: (c, g): Tensor[] => {
    const w = c.inputs[0]!;
    const { ids, paddingIdx } = c.attrs;
    const n = ids.numel();
    const H = w.shape[1]!;
    let g2 = reshape(g, [n, H]); // (N, H)
    const flatIds = reshape(ids, [n]);
    if (paddingIdx !== null) g2 = mul(g2, cast(unsqueeze(ne(flatIds, paddingIdx), 1), g.dtype));
    return [scatterAddInto(w.shape, 0, sliceIndex(w, 0, contiguous(flatIds)), g2)];
  },
});
/**
 * Looks up rows of `weight` [V, H] for integer ids of any shape → [...ids.shape, H].
 * @example
 * ```ts
 * const weight = randn([10, 4]);          // (numEmbeddings, embeddingDim)
 * const out = embedding(tensor([[1, 3], [0, 9]], { dtype: 'int32' }), weight); // (2, 2, 4)
 * ```
 */
export function embedding(ids: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor {
  checkIndex('embedding', ids);
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be 2-D [numEmbeddings, embeddingDim], got shape ${fmtShape(weight.shape)}`);
  checkSameDevice('embedding', [ids, weight]);
  return embeddingOp(weight, { ids, paddingIdx });
}

// dropout: y = x·m, m = Bernoulli(1 − p)/(1 − p) drawn from the seeded generator (the mask is
// saved, already scaled); shape rule: y has x's shape
const dropoutOp = defineOp({
  name: 'dropout', doc: 'zero elements with probability p, scale the rest by 1/(1 − p)',
  gradient: 'y = x·m, m ∈ {0, 1/(1 − p)} ~ Bernoulli(1 − p);  ∂L/∂x = g·m',
  forward: (c, x: Tensor, p: number): Tensor => {
    const n = x.numel();
    const scale = p === 1 ? 0 : 1 / (1 - p);
    const backend = x.storage.backend;
    if (backend.dropout && x.isContiguous()) {
      // a backend with the fused kernel (the CPU's): mask and x·mask in one pass, same bits
      const { k1, k2 } = defaultGenerator.streamKeys();
      const r = backend.dropout(x, p, scale, { k1, k2 });
      if (r) {
        c.save(Tensor.fromStorage(r.mask, x.shape));
        return Tensor.fromStorage(r.out, x.shape);
      }
      const m = allocArray(x.dtype, n);
      defaultGenerator.fillFromKeys(m, p, scale, k1, k2); // the same mask from the keys already drawn
      const mask = Tensor.fromStorage(backend.fromArray(m, x.dtype), x.shape);
      c.save(mask);
      return mapK('mul', [x, mask], x.dtype);
    }
    const m = allocArray(x.dtype, n);
    defaultGenerator.bernoulliFill(m, p, scale); // m[i] = scale with probability 1 − p, else 0
    const mask = Tensor.fromStorage(backend.fromArray(m, x.dtype), x.shape);
    c.save(mask);
    return mapK('mul', [x, mask], x.dtype);
  },
  backward: (c, g) => [mul(g, c.saved[0]!)],
});
/**
 * Dropout (Srivastava et al. 2014): in training, zeroes each element with probability p and scales the rest by 1/(1 − p), drawing the mask from the seeded generator; the identity when `training` is false or p = 0.
 * @example
 * dropout(ones([4]), 0.5, true); // e.g. [2, 0, 2, 0]
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`dropout: probability has to be between 0 and 1, but got ${p}`);
  checkFloat('dropout', x);
  if (!training || p === 0) return x;
  return dropoutOp(x, p);
}

// binaryCrossEntropyWithLogits (elementwise, unreduced), with p = posWeight, w = weight, y = target:
//   ℓ = w·[(1 − y)·x + L·sp(−x)],  L = 1 + (p − 1)·y,  sp(−x) = log(1 + e^(−x)) = log(1 + e^(−|x|)) + max(−x, 0)
// and its closed-form gradients (torch's binary_cross_entropy_with_logits_backward), smooth at x = 0
// where the stable forward has the kinks of |x| and max(−x, 0):
//   ∂ℓ/∂x = w·(L·σ(x) − p·y)   (= w·(σ(x) − y) without posWeight)
//   ∂ℓ/∂y = w·((p − 1)·sp(−x) − x),   ∂ℓ/∂w = ℓ/w (the unweighted loss),   ∂ℓ/∂p = w·y·sp(−x)
type BceAttrs = { hasW: boolean; hasP: boolean };
const bceWithLogitsOp = defineOp({
  name: 'binaryCrossEntropyWithLogits', doc: 'elementwise binary cross-entropy of logits (unreduced)',
  gradient: 'ℓ = w·[(1 − y)·x + L·sp(−x)], L = 1 + (p − 1)·y;  ∂ℓ/∂x = w·(L·σ(x) − p·y), ∂ℓ/∂y = w·((p − 1)·sp(−x) − x), ∂ℓ/∂w = ℓ/w, ∂ℓ/∂p = w·y·sp(−x)',
  forward: (c: ForwardContext<BceAttrs>, x: Tensor, y: Tensor, w: Tensor | null, p: Tensor | null): Tensor => {
    c.attrs = { hasW: w !== null, hasP: p !== null };
    const l = bceUnweighted(x, y, p);
    return w ? mul(l, w) : l;
  },
  backward: (c, g) => {
    const [x, y] = c.inputs as [Tensor, Tensor];
    const w = c.attrs.hasW ? c.inputs[2]! : null;
    const p = c.attrs.hasP ? c.inputs[c.attrs.hasW ? 3 : 2]! : null;
    const gw = w ? mul(g, w) : g; // g·w
    const spNeg = () => add(log(add(exp(neg(abs(x))), 1)), clamp(neg(x), 0, null)); // sp(−x)
    const grads: (Tensor | null)[] = [
      c.needsGrad[0] ? mul(gw, p ? sub(mul(add(mul(sub(p, 1), y), 1), sigmoid(x)), mul(p, y)) : sub(sigmoid(x), y)) : null,
      c.needsGrad[1] ? mul(gw, p ? sub(mul(sub(p, 1), spNeg()), x) : neg(x)) : null,
    ];
    if (w) grads.push(c.needsGrad[2] ? mul(g, bceUnweighted(x, y, p)) : null);
    if (p) grads.push(c.needsGrad[grads.length] ? mul(gw, mul(y, spNeg())) : null);
    return grads;
  },
});

/** (1 − y)·x + (1 + (p − 1)·y)·sp(−x), the stable unweighted form (composite, forward only). */
function bceUnweighted(x: Tensor, y: Tensor, p: Tensor | null): Tensor {
  const spNeg = add(log(add(exp(neg(abs(x))), 1)), clamp(neg(x), 0, null)); // log(1 + e^(−x)), stable
  return add(mul(sub(1, y), x), p ? mul(add(mul(sub(p, 1), y), 1), spNeg) : spNeg);
}

/**
 * The elementwise binary cross-entropy with logits (reduction 'none'), weight and posWeight
 * broadcast against the input, with the closed-form gradient above. nn.functional's
 * binaryCrossEntropyWithLogits reduces it.
 */
export function binaryCrossEntropyWithLogits(x: Tensor, y: Tensor, weight: Tensor | null = null, posWeight: Tensor | null = null): Tensor {
  checkFloat('binaryCrossEntropyWithLogits', x);
  const ins = [x, y, ...(weight ? [weight] : []), ...(posWeight ? [posWeight] : [])];
  checkSameDevice('binaryCrossEntropyWithLogits', ins);
  const cast1 = (t: Tensor) => (t.dtype === x.dtype ? t : cast(t, x.dtype));
  const [yy, ww, pp] = [cast1(y), weight ? cast1(weight) : null, posWeight ? cast1(posWeight) : null];
  const out = bceWithLogitsOp(x, yy, ww, pp);
  const shape = broadcastShapes('binaryCrossEntropyWithLogits', ...ins.map((t) => t.shape));
  if (!shapesEqual(out.shape, shape)) throw new Error(`internal: binaryCrossEntropyWithLogits output ${fmtShape(out.shape)} vs ${fmtShape(shape)}`);
  return out;
}

// layerNorm (fused): y = (x − μ)·r·w + b over rows of length n, r = 1/√(σ² + ε), in one kernel
// pass where the backend has one (CPU). With x̂ = (x − μ)·r and ĝ = g·w:
//   ∂L/∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ∂L/∂w = Σ_rows g·x̂,  ∂L/∂b = Σ_rows g
// The composite twin is nn.functional's layerNorm path; test/nn/fused.test.ts checks they agree.
type LayerNormAttrs = { n: number; stats: Storage; hasW: boolean; hasB: boolean };
const layerNormOp = defineOp({
  name: 'layerNorm', doc: 'layer norm over rows of n elements, in the backend\'s fused kernel',
  gradient: 'y = x̂·w + b, x̂ = (x − μ)·r, r = 1/√(σ² + ε), ĝ = g·w;  ∂L/∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ∂L/∂w = Σ_rows g·x̂, ∂L/∂b = Σ_rows g',
  forward: (c: ForwardContext<LayerNormAttrs>, x: Tensor, w: Tensor | null, b: Tensor | null, n: number, eps: number): Tensor => {
    const { y, stats } = x.storage.backend.layerNormForward!(x, n, w, b, eps);
    c.attrs = { n, stats, hasW: w !== null, hasB: b !== null };
    return Tensor.fromStorage(y, x.shape);
  },
  backward: (c, g) => {
    const { n, stats, hasW, hasB } = c.attrs;
    const x = c.inputs[0]!;
    const w = hasW ? c.inputs[1]! : null;
    const iw = 1, ib = hasW ? 2 : 1; // positions of weight and bias among the inputs
    const r = x.storage.backend.layerNormBackward!(contiguous(g), x, stats, w, n, {
      x: c.needsGrad[0]!, w: hasW && c.needsGrad[iw]!, b: hasB && c.needsGrad[ib]!,
    });
    const grads: (Tensor | null)[] = [r.dx ? Tensor.fromStorage(r.dx, x.shape) : null];
    if (hasW) grads.push(r.dw ? Tensor.fromStorage(r.dw, [n]) : null);
    if (hasB) grads.push(r.db ? Tensor.fromStorage(r.db, [n]) : null);
    return grads;
  },
});

/**
 * The fused layer norm over the last dims holding n elements, or null when the backend has no
 * fused kernel (the caller then uses the composite). weight/bias are flat [n].
 */
export function layerNormFused(x: Tensor, n: number, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor | null {
  const be = x.storage.backend;
  if (!be.layerNormForward || !be.layerNormBackward || !isFloatingDType(x.dtype)) return null;
  for (const p of [weight, bias]) if (p && (p.dtype !== x.dtype || p.device !== x.device)) return null;
  const xc = contiguous(x);
  const w = weight ? contiguous(weight) : null;
  const b = bias ? contiguous(bias) : null;
  return layerNormOp(xc, w, b, n, eps);
}

// softmax cross-entropy with class indices (fused): ℓ = Σ_valid (log Σⱼ e^(x_rj) − x_{r,t_r}), summed
// or averaged over the valid rows; ∂ℓ/∂x_rj = s·(p_rj − [j = t_r]), s = g (sum) or g/count (mean).
// The composite twin is nn.functional's logSoftmax + nllLoss; test/nn/fused.test.ts compares them.
// The int32 target travels inside the options object (not a recorded input); the forward saves
// the row softmax probabilities and the target, and the divisor (the count of valid rows for
// 'mean', known only after the kernel) in ctx.attrs. Shape rule: x (N, C), target (N) → a 0-d loss.
type CrossEntropyOpts = { target: Tensor; ignoreIndex: number; reduction: 'mean' | 'sum' };
type CrossEntropyAttrs = { n: number; ignoreIndex: number; divisor: number };
const crossEntropyOp = defineOp({
  name: 'crossEntropyFused', doc: 'softmax cross-entropy of logits (N, C) against class indices (N), fused',
  gradient: 'ℓ = Σ_valid rows (log Σⱼ e^(x_rj) − x_{r,t_r}) / divisor;  ∂L/∂x_rj = (g/divisor)·(p_rj − [j = t_r]) (0 for ignored rows)',
  forward: (c: ForwardContext<CrossEntropyAttrs>, x: Tensor, opts: CrossEntropyOpts): Tensor => {
    const be = x.storage.backend;
    const n = x.shape[1]!;
    const tc = contiguous(opts.target);
    const r = be.crossEntropyForward!(contiguous(x), n, tc, opts.ignoreIndex);
    const divisor = opts.reduction === 'mean' ? r.count : 1;
    c.attrs = { n, ignoreIndex: opts.ignoreIndex, divisor };
    c.save(Tensor.fromStorage(r.probs, x.shape), tc);
    return scalarTensor(r.total / divisor, x.dtype, x.device); // 0/0 = NaN when every row is ignored
  },
  backward: (c, g) => {
    const [probs, target] = c.saved as [Tensor, Tensor];
    const scale = g.item() / c.attrs.divisor;
    const be = probs.storage.backend;
    return [Tensor.fromStorage(be.crossEntropyBackward!(probs.storage, c.attrs.n, target, c.attrs.ignoreIndex, scale), probs.shape)];
  },
});

/**
 * Softmax cross-entropy of logits x (N, C) against int32 class indices target (N) in one fused
 * pass where the backend has the kernels (the CPU), reduced by 'mean' (over non-ignored rows;
 * NaN when all are ignored, as PyTorch) or 'sum'; null where the backend has none (the caller
 * then uses the composite). Targets must already be checked to lie in [0, C) or be ignoreIndex.
 */
export function crossEntropyFused(x: Tensor, target: Tensor, ignoreIndex: number, reduction: 'mean' | 'sum'): Tensor | null {
  const be = x.storage.backend;
  if (!be.crossEntropyForward || !be.crossEntropyBackward || x.ndim !== 2 || target.ndim !== 1 || target.dtype !== 'int32') return null;
  if (!isFloatingDType(x.dtype) || target.device !== x.device || target.shape[0] !== x.shape[0]) return null;
  return crossEntropyOp(x, { target, ignoreIndex, reduction });
}

// ---- in-place assignment (not recorded) --------------------------------------------------------

/** Writes `src` (broadcast) into x's elements. Refuses leaves that require grad while recording. */
export function assign(x: Tensor, src: TensorLike, opName: string): void {
  if (!(src instanceof Tensor)) checkScalarArg(opName, 'the value', src, true);
  if (isGradEnabled() && x.requiresGrad && x.isLeaf) {
    throw new Error(`${opName}: a leaf tensor that requires grad is being used in an in-place operation; wrap the update in noGrad()`);
  }
  if (isGradEnabled() && x.gradFn) {
    throw new Error(`${opName}: in-place operations on tensors that are part of a recorded graph are not supported; use the out-of-place op`);
  }
  const s = src instanceof Tensor ? src : scalarTensor(src, x.dtype, x.device, opName);
  checkSameDevice(opName, [x, s]);
  const shape = broadcastShapes(opName, x.shape, s.shape);
  if (!shapesEqual(shape, x.shape)) throw new Error(`${opName}: source of shape ${fmtShape(s.shape)} does not broadcast to the destination's shape ${fmtShape(x.shape)}`);
  x.storage.backend.copy(x, broadcastView(s, x.shape));
  bumpVersion(x.storage); // every view of x sees the write; backward checks it (version.ts)
}

// ---- creation helper used by backward passes ----------------------------------------------------

export function zerosOn(shape: Shape, dtype: DType, device = getDefaultDevice()): Tensor {
  return Tensor.fromStorage(getBackend(device).full(numel(shape), dtype, 0), shape);
}

opcodeForward.run = (opcode, name, x) => {
  checkFloat(name, x);
  return mapK(opcode, [x], x.dtype, name);
};
