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
  /** A float32 copy (x itself when already float32), as torch.Tensor.float. */
  float(this: Tensor): Tensor { return ops.cast(this, 'float32'); }
  /** A float64 copy (x itself when already float64), as torch.Tensor.double. */
  double(this: Tensor): Tensor { return ops.cast(this, 'float64'); }
  /** An int32 copy, truncating toward zero (x itself when already int32), as torch.Tensor.int. */
  int(this: Tensor): Tensor { return ops.cast(this, 'int32'); }
  /** A bool tensor: x ≠ 0 (x itself when already bool), as torch.Tensor.bool. */
  bool(this: Tensor): Tensor { return ops.cast(this, 'bool'); }
  /** The tensor on the 'cpu' backend (x itself when already there). */
  cpu(this: Tensor): Tensor { return ops.toDevice(this, 'cpu'); }

  // ---- elementwise -------------------------------------------------------------------------
  /** this + alpha·other elementwise, broadcasting (see `add`). */
  add(this: Tensor, other: TensorLike, alpha?: number): Tensor { return ops.add(this, alpha === undefined ? other : ops.mul(other, alpha)); }
  /** this − alpha·other elementwise, broadcasting (see `sub`). */
  sub(this: Tensor, other: TensorLike, alpha?: number): Tensor { return ops.sub(this, alpha === undefined ? other : ops.mul(other, alpha)); }
  /** this·other elementwise, broadcasting (see `mul`). */
  mul(this: Tensor, other: TensorLike): Tensor { return ops.mul(this, other); }
  /** this/other elementwise, broadcasting (see `div`). */
  div(this: Tensor, other: TensorLike): Tensor { return ops.div(this, other); }
  /** thisᵉ elementwise (see `pow`). */
  pow(this: Tensor, exponent: TensorLike): Tensor { return ops.pow(this, exponent); }
  /** The elementwise maximum of this and other (see `maximum`). */
  maximum(this: Tensor, other: TensorLike): Tensor { return ops.maximum(this, other); }
  /** The elementwise minimum of this and other (see `minimum`). */
  minimum(this: Tensor, other: TensorLike): Tensor { return ops.minimum(this, other); }
  /** GELU(x) = x·Φ(x), or the tanh approximation with 'tanh' (see `gelu`). */
  gelu(this: Tensor, opts: ops.GeluOptions | 'none' | 'tanh' = {}): Tensor { return ops.gelu(this, opts); }
  /** x² elementwise. */
  square(this: Tensor): Tensor { return ops.mul(this, this); }
  /** 1/x elementwise. */
  reciprocal(this: Tensor): Tensor { return ops.div(1, this); }
  /** Each element limited to [min, max] (see `clamp`). */
  clamp(this: Tensor, min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  /** `value` where `mask` is true, x elsewhere (see `maskedFill`). */
  maskedFill(this: Tensor, mask: Tensor, value: number): Tensor { return ops.maskedFill(this, mask, value); }
  /** this where `condition`, `other` elsewhere (torch.Tensor.where; see `where`). */
  where(this: Tensor, condition: Tensor, other: TensorLike): Tensor { return ops.where(condition, this, other); }

  // comparisons and logic (not differentiable; bool results)
  /** this == other elementwise (bool; see `eq`). */
  eq(this: Tensor, other: TensorLike): Tensor { return ops.eq(this, other); }
  /** this != other elementwise (bool; see `ne`). */
  ne(this: Tensor, other: TensorLike): Tensor { return ops.ne(this, other); }
  /** this < other elementwise (bool; see `lt`). */
  lt(this: Tensor, other: TensorLike): Tensor { return ops.lt(this, other); }
  /** this ≤ other elementwise (bool; see `le`). */
  le(this: Tensor, other: TensorLike): Tensor { return ops.le(this, other); }
  /** this > other elementwise (bool; see `gt`). */
  gt(this: Tensor, other: TensorLike): Tensor { return ops.gt(this, other); }
  /** this ≥ other elementwise (bool; see `ge`). */
  ge(this: Tensor, other: TensorLike): Tensor { return ops.ge(this, other); }
  /** this ∧ other elementwise (bool; see `logicalAnd`). */
  logicalAnd(this: Tensor, other: TensorLike): Tensor { return ops.logicalAnd(this, other); }
  /** this ∨ other elementwise (bool; see `logicalOr`). */
  logicalOr(this: Tensor, other: TensorLike): Tensor { return ops.logicalOr(this, other); }
  /** this ⊕ other elementwise (bool; see `logicalXor`). */
  logicalXor(this: Tensor, other: TensorLike): Tensor { return ops.logicalXor(this, other); }
  /** ¬this elementwise (bool; see `logicalNot`). */
  logicalNot(this: Tensor): Tensor { return ops.logicalNot(this); }
  /** Where this is NaN (bool; see `isnan`). */
  isnan(this: Tensor): Tensor { return ops.isnan(this); }
  /** True when every element equals `other`'s (same shape). */
  equal(this: Tensor, other: Tensor): boolean { return ops.equal(this, other); }
  /** |a − b| ≤ atol + rtol·|b| everywhere (NaN never close). */
  allclose(this: Tensor, other: Tensor, rtol = 1e-5, atol = 1e-8): boolean { return ops.allclose(this, other, rtol, atol); }

  // ---- reductions --------------------------------------------------------------------------
  /** Σ over `dim` (all when omitted; see `sum`). */
  sum(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  /** The mean over `dim` (all when omitted), as torch.mean. */
  mean(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  /** The maximum over `dim` (all dims when omitted); ties share the gradient (torch.amax). */
  max(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  /** The minimum over `dim` (all when omitted); ties share the gradient (torch.amin). */
  min(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  /** The maximum over `dim` (all when omitted), as torch.amax. */
  amax(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  /** The minimum over `dim` (all when omitted), as torch.amin. */
  amin(this: Tensor, dim?: number | number[] | null, keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  /** Variance with Bessel's correction by default (`correction = 1`), as torch.var. */
  var(this: Tensor, dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.variance(this, dim, opts); }
  /** Standard deviation over `dim` with Bessel's correction by default, as torch.std. */
  std(this: Tensor, dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.std(this, dim, opts); }
  /** log Σ eˣ over `dim`, computed stably (see `logsumexp`). */
  logsumexp(this: Tensor, dim: number | number[], keepdim = false): Tensor { return ops.logsumexp(this, dim, keepdim); }
  /** The int32 index of the maximum over `dim` (of the flattened tensor when omitted; the first on ties), as torch.argmax. */
  argmax(this: Tensor, dim?: number, keepdim = false): Tensor { return ops.argReduce('argmax', this, dim, keepdim); }
  /** The int32 index of the minimum over `dim` (of the flattened tensor when omitted; the first on ties), as torch.argmin. */
  argmin(this: Tensor, dim?: number, keepdim = false): Tensor { return ops.argReduce('argmin', this, dim, keepdim); }
  /** softmax along `dim` (see `softmax`). */
  softmax(this: Tensor, dim: number): Tensor { return ops.softmax(this, dim); }
  /** log softmax along `dim` (see `logSoftmax`). */
  logSoftmax(this: Tensor, dim: number): Tensor { return ops.logSoftmax(this, dim); }

  // ---- linear algebra ----------------------------------------------------------------------
  /** The matrix product with torch.matmul's rules (see `matmul`). */
  matmul(this: Tensor, other: Tensor): Tensor { return ops.matmul(this, other); }

  // ---- movement ----------------------------------------------------------------------------
  /** The same elements in a new shape, given as a list or as arguments: `x.reshape(2, -1)` (see `reshape`). */
  reshape(this: Tensor, ...shape: ShapeArgs): Tensor { return ops.reshape(this, shapeFromArgs(shape)); }
  /** Like reshape, but never copies: throws when the strides do not allow a view. */
  view(this: Tensor, ...shape: ShapeArgs): Tensor { return ops.view(this, shapeFromArgs(shape)); }
  /** Merges dims startDim…endDim into one (see `flatten`). */
  flatten(this: Tensor, startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  /** Reorders the dims, as a list or as arguments: `x.permute(2, 0, 1)` (see `permute`). */
  permute(this: Tensor, ...dims: ShapeArgs): Tensor { return ops.permute(this, shapeFromArgs(dims)); }
  /** Swaps two dims (a view; see `transpose`). */
  transpose(this: Tensor, dim0: number, dim1: number): Tensor { return ops.transpose(this, dim0, dim1); }
  /** The transpose of a ≤2-D tensor. */
  get T(): Tensor { return self(this).ndim < 2 ? self(this) : ops.permute(self(this), [...Array(self(this).ndim).keys()].reverse()); }
  /** Broadcast to a larger shape without copying (-1 keeps a dim). */
  expand(this: Tensor, ...shape: ShapeArgs): Tensor { return ops.expand(this, shapeFromArgs(shape)); }
  /** Broadcast to `other`'s shape without copying. */
  expandAs(this: Tensor, other: Tensor): Tensor { return ops.expand(this, other.shape); }
  /** Removes size-1 dims (see `squeeze`). */
  squeeze(this: Tensor, dim?: number | number[]): Tensor { return ops.squeeze(this, dim); }
  /** Inserts a size-1 dim at `dim` (see `unsqueeze`). */
  unsqueeze(this: Tensor, dim: number): Tensor { return ops.unsqueeze(this, dim); }
  /** Python-style slice `x[..., start:end:step, ...]` along one dim (negative indices count from the end). */
  slice(this: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor { return ops.slice(this, dim, start, end, step); }
  /** The `length` elements of `dim` from `start` (a view; see `narrow`). */
  narrow(this: Tensor, dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  /** `x[..., index, ...]`: removes `dim`. */
  select(this: Tensor, dim: number, index: number): Tensor { return ops.select(this, dim, index); }
  /** Pieces of `splitSize` (or the given sizes) along `dim` (views; see `split`). */
  split(this: Tensor, splitSize: number | number[], dim = 0): Tensor[] { return ops.split(this, splitSize, dim); }
  /** `chunks` nearly equal pieces along `dim` (views; see `chunk`). */
  chunk(this: Tensor, chunks: number, dim = 0): Tensor[] { return ops.chunk(this, chunks, dim); }
  /** This tensor in dense row-major order (itself when it already is). */
  contiguous(this: Tensor): Tensor { return ops.contiguous(this); }
  /** A copy with its own storage (differentiable). */
  clone(this: Tensor): Tensor { return ops.contiguous(this, true); }
  /** Values at `index` along `dim` (see `gather`). */
  gather(this: Tensor, dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }
  /** The entries at `index` along `dim` (see `indexSelect`). */
  indexSelect(this: Tensor, dim: number, index: Tensor): Tensor { return ops.indexSelect(this, dim, index); }

  // ---- in place (for optimizers and initialisers; never on a leaf that requires grad while recording) ----
  /** Copies `src` (broadcast, cast to this dtype) into this tensor in place; returns this. */
  copy_(src: TensorLike): this { ops.assign(self(this), src, 'copy_'); return this; }
  /** Sets every element to `value` in place; returns this. */
  fill_(value: number): this { ops.assign(self(this), value, 'fill_'); return this; }
  /** Sets every element to 0 in place; returns this. */
  zero_(): this { ops.assign(self(this), 0, 'zero_'); return this; }
  /** this += alpha·other in place (not recorded in the graph); returns this. */
  add_(other: TensorLike, alpha?: number): this { ops.assign(self(this), self(this).detach().add(other instanceof Tensor ? other.detach() : other, alpha), 'add_'); return this; }
  /** this −= alpha·other in place (not recorded in the graph); returns this. */
  sub_(other: TensorLike, alpha?: number): this { ops.assign(self(this), self(this).detach().sub(other instanceof Tensor ? other.detach() : other, alpha), 'sub_'); return this; }
  /** this ·= other in place (not recorded in the graph); returns this. */
  mul_(other: TensorLike): this { ops.assign(self(this), self(this).detach().mul(other instanceof Tensor ? other.detach() : other), 'mul_'); return this; }
  /** this /= other in place (not recorded in the graph); returns this. */
  div_(other: TensorLike): this { ops.assign(self(this), self(this).detach().div(other instanceof Tensor ? other.detach() : other), 'div_'); return this; }
  /** Limits every element to [min, max] in place; returns this. */
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
