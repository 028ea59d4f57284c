/**
 * Every Tensor method that runs an op, attached to Tensor.prototype in this one place — so that
 * tensor/tensor.ts (the data and autograd fields) imports no op and autograd/ can import Tensor
 * without an import cycle.
 *
 *   - the hand-written methods below (class `TensorMethods`): PyTorch's signatures where they
 *     differ from the functions (`x.add(y, alpha)`, `x.reshape(2, 3)`, `x.T`, in-place `_` ops);
 *   - every op-table declaration with `method: true` (autograd/ops/*, declared with defineOp /
 *     defineComposite) as `x.name(...rest)` = `name(x, ...rest)`. Their types come from the table:
 *     the block between the `generated` markers lists the names (`npm run gen:methods` rewrites it;
 *     test/tensor/methods.test.ts fails when it is out of date) and each signature is computed
 *     from the op's own type, so the published .d.ts is exact.
 *
 * Both reach the Tensor type by declaration merging. Importing this module attaches the methods;
 * src/index.ts and every entry point that hands out tensors import it.
 */
import { getBackend } from '../backends/index.js';
import * as ops from '../autograd/ops.js';
import * as table from '../autograd/ops/index.js';
import { any, all } from '../autograd/ops/reduce.js';
import { isDType, type DType } from '../core/dtype.js';
import { shapeFromArgs, Tensor, type ShapeArgs, type TensorLike } from './tensor.js';

/** `this` of a TensorMethods method is the Tensor it was called on. */
const self = (t: TensorMethods): Tensor => t as unknown as Tensor;

/** The hand-written methods (attached to Tensor.prototype below). */
class TensorMethods {
  // ---- conversion --------------------------------------------------------------------------
  /** `to('float64')` casts; `to('gpu')` moves; `to({ dtype, device })` does both. */
  to(this: Tensor, target: DType | string | { dtype?: DType; device?: string }): Tensor {
    if (typeof target === 'string') {
      return isDType(target) ? ops.cast(this, target) : ops.toDevice(this, getBackend(target).name);
    }
    let t: Tensor = this;
    if (target.device !== undefined) t = ops.toDevice(t, target.device);
    if (target.dtype !== undefined) t = ops.cast(t, target.dtype);
    return t;
  }
  float(this: Tensor): Tensor { return ops.cast(this, 'float32'); }
  double(this: Tensor): Tensor { return ops.cast(this, 'float64'); }
  int(this: Tensor): Tensor { return ops.cast(this, 'int32'); }
  bool(this: Tensor): Tensor { return ops.cast(this, 'bool'); }
  cpu(this: Tensor): Tensor { return ops.toDevice(this, 'cpu'); }

  // ---- elementwise -------------------------------------------------------------------------
  add(this: Tensor, other: TensorLike, alpha?: number): Tensor { return ops.add(this, alpha === undefined ? other : ops.mul(other, alpha)); }
  sub(this: Tensor, other: TensorLike, alpha?: number): Tensor { return ops.sub(this, alpha === undefined ? other : ops.mul(other, alpha)); }
  mul(this: Tensor, other: TensorLike): Tensor { return ops.mul(this, other); }
  div(this: Tensor, other: TensorLike): Tensor { return ops.div(this, other); }
  pow(this: Tensor, exponent: TensorLike): Tensor { return ops.pow(this, exponent); }
  maximum(this: Tensor, other: TensorLike): Tensor { return ops.maximum(this, other); }
  minimum(this: Tensor, other: TensorLike): Tensor { return ops.minimum(this, other); }
  gelu(this: Tensor, opts: ops.GeluOptions | 'none' | 'tanh' = {}): Tensor { return ops.gelu(this, opts); }
  square(this: Tensor): Tensor { return ops.mul(this, this); }
  reciprocal(this: Tensor): Tensor { return ops.div(1, this); }
  clamp(this: Tensor, min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  maskedFill(this: Tensor, mask: Tensor, value: number): Tensor { return ops.maskedFill(this, mask, value); }
  where(this: Tensor, condition: Tensor, other: TensorLike): Tensor { return ops.where(condition, this, other); }

  // comparisons and logic (not differentiable; bool results)
  eq(this: Tensor, other: TensorLike): Tensor { return ops.eq(this, other); }
  ne(this: Tensor, other: TensorLike): Tensor { return ops.ne(this, other); }
  lt(this: Tensor, other: TensorLike): Tensor { return ops.lt(this, other); }
  le(this: Tensor, other: TensorLike): Tensor { return ops.le(this, other); }
  gt(this: Tensor, other: TensorLike): Tensor { return ops.gt(this, other); }
  ge(this: Tensor, other: TensorLike): Tensor { return ops.ge(this, other); }
  logicalAnd(this: Tensor, other: TensorLike): Tensor { return ops.logicalAnd(this, other); }
  logicalOr(this: Tensor, other: TensorLike): Tensor { return ops.logicalOr(this, other); }
  logicalXor(this: Tensor, other: TensorLike): Tensor { return ops.logicalXor(this, other); }
  logicalNot(this: Tensor): Tensor { return ops.logicalNot(this); }
  isnan(this: Tensor): Tensor { return ops.isnan(this); }
  /** True when every element equals `other`'s (same shape). */
  equal(this: Tensor, other: Tensor): boolean { return ops.equal(this, other); }
  /** |a − b| ≤ atol + rtol·|b| everywhere (NaN never close). */
  allclose(this: Tensor, other: Tensor, rtol = 1e-5, atol = 1e-8): boolean { return ops.allclose(this, other, rtol, atol); }

  // ---- reductions --------------------------------------------------------------------------
  sum(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  /** The maximum over `dim` (all dims when omitted); ties share the gradient (torch.amax). */
  max(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  min(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  amax(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  amin(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  /** Variance with Bessel's correction by default (`correction = 1`), as torch.var. */
  var(this: Tensor, dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.variance(this, dim, opts); }
  std(this: Tensor, dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.std(this, dim, opts); }
  logsumexp(this: Tensor, dim: number | number[], keepdim = false): Tensor { return ops.logsumexp(this, dim, keepdim); }
  argmax(this: Tensor, dim?: number, keepdim = false): Tensor { return ops.argReduce('argmax', this, dim, keepdim); }
  argmin(this: Tensor, dim?: number, keepdim = false): Tensor { return ops.argReduce('argmin', this, dim, keepdim); }
  softmax(this: Tensor, dim: number): Tensor { return ops.softmax(this, dim); }
  logSoftmax(this: Tensor, dim: number): Tensor { return ops.logSoftmax(this, dim); }

  // ---- linear algebra ----------------------------------------------------------------------
  matmul(this: Tensor, other: Tensor): Tensor { return ops.matmul(this, other); }

  // ---- movement ----------------------------------------------------------------------------
  reshape(this: Tensor, ...shape: ShapeArgs): Tensor { return ops.reshape(this, shapeFromArgs(shape)); }
  /** Like reshape, but never copies: throws when the strides do not allow a view. */
  view(this: Tensor, ...shape: ShapeArgs): Tensor { return ops.view(this, shapeFromArgs(shape)); }
  flatten(this: Tensor, startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  permute(this: Tensor, ...dims: ShapeArgs): Tensor { return ops.permute(this, shapeFromArgs(dims)); }
  transpose(this: Tensor, dim0: number, dim1: number): Tensor { return ops.transpose(this, dim0, dim1); }
  /** The transpose of a ≤2-D tensor. */
  get T(): Tensor { return self(this).ndim < 2 ? self(this) : ops.permute(self(this), [...Array(self(this).ndim).keys()].reverse()); }
  /** Broadcast to a larger shape without copying (-1 keeps a dim). */
  expand(this: Tensor, ...shape: ShapeArgs): Tensor { return ops.expand(this, shapeFromArgs(shape)); }
  expandAs(this: Tensor, other: Tensor): Tensor { return ops.expand(this, other.shape); }
  squeeze(this: Tensor, dim?: number | number[]): Tensor { return ops.squeeze(this, dim); }
  unsqueeze(this: Tensor, dim: number): Tensor { return ops.unsqueeze(this, dim); }
  /** Python-style slice `x[..., start:end:step, ...]` along one dim (negative indices count from the end). */
  slice(this: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor { return ops.slice(this, dim, start, end, step); }
  narrow(this: Tensor, dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  /** `x[..., index, ...]`: removes `dim`. */
  select(this: Tensor, dim: number, index: number): Tensor { return ops.select(this, dim, index); }
  split(this: Tensor, splitSize: number | number[], dim = 0): Tensor[] { return ops.split(this, splitSize, dim); }
  chunk(this: Tensor, chunks: number, dim = 0): Tensor[] { return ops.chunk(this, chunks, dim); }
  contiguous(this: Tensor): Tensor { return ops.contiguous(this); }
  /** A copy with its own storage (differentiable). */
  clone(this: Tensor): Tensor { return ops.contiguous(this, true); }
  gather(this: Tensor, dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }
  indexSelect(this: Tensor, dim: number, index: Tensor): Tensor { return ops.indexSelect(this, dim, index); }

  // ---- in place (for optimizers and initialisers; never on a leaf that requires grad while recording) ----
  copy_(src: TensorLike): this { ops.assign(self(this), src, 'copy_'); return this; }
  fill_(value: number): this { ops.assign(self(this), value, 'fill_'); return this; }
  zero_(): this { ops.assign(self(this), 0, 'zero_'); return this; }
  add_(other: TensorLike, alpha?: number): this { ops.assign(self(this), self(this).detach().add(other instanceof Tensor ? other.detach() : other, alpha), 'add_'); return this; }
  sub_(other: TensorLike, alpha?: number): this { ops.assign(self(this), self(this).detach().sub(other instanceof Tensor ? other.detach() : other, alpha), 'sub_'); return this; }
  mul_(other: TensorLike): this { ops.assign(self(this), self(this).detach().mul(other instanceof Tensor ? other.detach() : other), 'mul_'); return this; }
  div_(other: TensorLike): this { ops.assign(self(this), self(this).detach().div(other instanceof Tensor ? other.detach() : other), 'div_'); return this; }
  clamp_(min?: number | null, max?: number | null): this { ops.assign(self(this), self(this).detach().clamp(min, max), 'clamp_'); return this; }
  /** Whether any element over `dim` (all when omitted) is non-zero (bool). */
  any(this: Tensor, dim?: number | readonly number[] | null, keepdim = false): Tensor { return any(this, dim, keepdim); }
  /** Whether every element over `dim` (all when omitted) is non-zero (bool). */
  all(this: Tensor, dim?: number | readonly number[] | null, keepdim = false): Tensor { return all(this, dim, keepdim); }
}

/** `(x, ...rest) => R` as the method `(...rest) => R`. */
export type MethodOf<F> = F extends (x: Tensor, ...rest: infer R) => infer Out ? (...rest: R) => Out : never;

declare module './tensor.js' {
  interface Tensor extends TensorMethods {
    // <generated by scripts/gen-methods.ts>
    /** |x| (see `abs`) */
    abs: MethodOf<typeof table.abs>;
    /** cos x (see `cos`) */
    cos: MethodOf<typeof table.cos>;
    /** running product along dim (see `cumprod`) */
    cumprod: MethodOf<typeof table.cumprod>;
    /** running sum along dim (see `cumsum`) */
    cumsum: MethodOf<typeof table.cumsum>;
    /** the error function (see `erf`) */
    erf: MethodOf<typeof table.erf>;
    /** eˣ (see `exp`) */
    exp: MethodOf<typeof table.exp>;
    /** eˣ − 1, accurate for small x (see `expm1`) */
    expm1: MethodOf<typeof table.expm1>;
    /** reverse the order along dims (see `flip`) */
    flip: MethodOf<typeof table.flip>;
    /** ln x (see `log`) */
    log: MethodOf<typeof table.log>;
    /** ln(1 + x), accurate for small x (see `log1p`) */
    log1p: MethodOf<typeof table.log1p>;
    /** −x (see `neg`) */
    neg: MethodOf<typeof table.neg>;
    /** p-norm over dims (p = 2/fro, 1, ±∞, 0, any real) (see `norm`) */
    norm: MethodOf<typeof table.norm>;
    /** product over dim (all elements when omitted) (see `prod`) */
    prod: MethodOf<typeof table.prod>;
    /** max(x, 0) (see `relu`) */
    relu: MethodOf<typeof table.relu>;
    /** repeat the tensor along each dim (Tensor.repeat) (see `repeat`) */
    repeat: MethodOf<typeof table.repeat>;
    /** cyclic shift along dims (see `roll`) */
    roll: MethodOf<typeof table.roll>;
    /** 1/√x (see `rsqrt`) */
    rsqrt: MethodOf<typeof table.rsqrt>;
    /** write src into x at index along dim (see `scatter`) */
    scatter: MethodOf<typeof table.scatter>;
    /** add src into x at index along dim (see `scatterAdd`) */
    scatterAdd: MethodOf<typeof table.scatterAdd>;
    /** σ(x) = 1/(1 + e⁻ˣ) (see `sigmoid`) */
    sigmoid: MethodOf<typeof table.sigmoid>;
    /** sign(x): −1, 0 or 1 (see `sign`) */
    sign: MethodOf<typeof table.sign>;
    /** sin x (see `sin`) */
    sin: MethodOf<typeof table.sin>;
    /** stable sort along dim: { values, indices } (see `sort`) */
    sort: MethodOf<typeof table.sort>;
    /** √x (see `sqrt`) */
    sqrt: MethodOf<typeof table.sqrt>;
    /** tanh x (see `tanh`) */
    tanh: MethodOf<typeof table.tanh>;
    /** repeat with reps padded by leading 1s (torch.tile) (see `tile`) */
    tile: MethodOf<typeof table.tile>;
    /** k largest/smallest along dim: { values, indices } (see `topk`) */
    topk: MethodOf<typeof table.topk>;
    /** lower triangle of the last two dims (see `tril`) */
    tril: MethodOf<typeof table.tril>;
    /** upper triangle of the last two dims (see `triu`) */
    triu: MethodOf<typeof table.triu>;
    // </generated>
  }
}

/** The names of the table's declarations with `method: true`. */
export function tableMethodNames(): string[] {
  return Object.entries(table)
    .filter(([, f]) => typeof f === 'function' && (f as { spec?: { method?: boolean } }).spec?.method === true)
    .map(([name]) => name)
    .sort();
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;
for (const name of Object.getOwnPropertyNames(TensorMethods.prototype)) {
  if (name === 'constructor') continue;
  Object.defineProperty(Tensor.prototype, name, Object.getOwnPropertyDescriptor(TensorMethods.prototype, name)!);
}
for (const name of tableMethodNames()) {
  const f = (table as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
  if (name in proto) throw new Error(`internal: Tensor.${name} is defined twice (class and op table)`);
  proto[name] = function (this: Tensor, ...rest: unknown[]) {
    return f(this, ...rest);
  };
}
