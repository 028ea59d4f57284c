/**
 * The Tensor: a strided view (shape, strides, offset) onto a backend's storage, plus the
 * autograd fields (requiresGrad, grad, gradFn).
 *
 * Methods are thin wrappers over the functions of `autograd/ops.ts`, where every op's forward
 * and backward live side by side. Views (reshape of contiguous data, permute, transpose,
 * expand, slice, squeeze, unsqueeze) share storage; `contiguous()` and `clone()` copy.
 */
import type { Storage } from '../backends/index.js';
import { getBackend } from '../backends/index.js';
import type { Node } from '../autograd/engine.js';
import { runBackward, type BackwardOptions } from '../autograd/backward.js';
import * as ops from '../autograd/ops.js';
import { isDType, isFloatingDType, type DType, type TypedArray } from '../core/dtype.js';
import { contiguousStrides, isContiguous, numel, normalizeDim } from '../core/shape.js';
import { formatTensor } from './print.js';
import { trackStorage } from './scope.js';
import { versionOf } from '../autograd/version.js';

export type Scalar = number | boolean;
export type TensorLike = Tensor | number | boolean;
export type NestedArray = number | boolean | NestedArray[];

/** Shapes may be given as an array or as separate numbers: `x.reshape([2, 3])` or `x.reshape(2, 3)`. */
export type ShapeArgs = [readonly number[]] | number[];

function shapeFromArgs(args: ShapeArgs): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

export class Tensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** The gradient accumulated by backward(); null until then. */
  grad: Tensor | null = null;
  /** The node that produced this tensor (null for leaves). */
  gradFn: Node | null = null;
  /** A non-leaf that keeps its .grad (see retainGrad()). */
  retainsGrad = false;
  private _requiresGrad = false;

  /** Low level: prefer the creation functions (`tensor`, `zeros`, …). */
  constructor(storage: Storage, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
  }

  /** A new tensor owning freshly created storage (registered with the active scope). */
  static fromStorage(storage: Storage, shape: readonly number[]): Tensor {
    trackStorage(storage);
    return new Tensor(storage, shape);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  /** The backend's name: 'cpu', 'gpu', … */
  get device(): string {
    return this.storage.backend.name;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** How many in-place writes this tensor's storage (shared by its views) has seen, as PyTorch's `_version`. */
  get _version(): number {
    return versionOf(this.storage);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && !isFloatingDType(this.dtype)) {
      throw new Error(`requiresGrad: only floating-point tensors can require gradients, got dtype ${this.dtype}`);
    }
    if (!v && this.gradFn) {
      throw new Error('requiresGrad: you can only change requiresGrad of leaf tensors; use detach() for a non-leaf');
    }
    this._requiresGrad = v;
  }
  /** Sets requiresGrad in place and returns this (PyTorch's `requires_grad_`). */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }
  /** @internal set by the autograd engine on op outputs */
  _markNonLeaf(node: Node): void {
    this.gradFn = node;
    this._requiresGrad = true;
  }

  numel(): number {
    return numel(this.shape);
  }
  /** The size of one dim, or the whole shape. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return [...this.shape];
    return this.shape[normalizeDim('size', dim, this.ndim)]!;
  }
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  // ---- autograd ---------------------------------------------------------------------------
  /** Computes gradients of this tensor w.r.t. the graph leaves (scalar, or pass `gradient`). */
  backward(gradient?: Tensor, opts?: BackwardOptions): void {
    runBackward(this, gradient, opts);
  }
  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }
  /** Keep .grad on this non-leaf tensor during backward. */
  retainGrad(): this {
    if (!this.requiresGrad) throw new Error("retainGrad: can't retain the grad of a tensor that does not require grad");
    this.retainsGrad = true;
    return this;
  }
  /** Drops the accumulated gradient (`x.grad = null`). */
  zeroGrad(): void {
    this.grad = null;
  }

  // ---- reading data ------------------------------------------------------------------------
  /** The elements in row-major order, as a new typed array (synchronous). */
  toTypedArray(): TypedArray {
    const c = this.isContiguous() ? this : ops.contiguous(this.detach(), true);
    const all = c.storage.backend.read(c.storage);
    return all.slice(c.offset, c.offset + c.numel()) as TypedArray;
  }
  /** The elements as a typed array, asynchronously (works on every backend). */
  async data(): Promise<TypedArray> {
    const c = this.isContiguous() ? this : ops.contiguous(this.detach(), true);
    const all = await c.storage.backend.readAsync(c.storage);
    return all.slice(c.offset, c.offset + c.numel()) as TypedArray;
  }
  /** Nested JS arrays (like `tolist()`); bool tensors give booleans. */
  toArray(): NestedArray {
    const flat = this.toTypedArray();
    const isBool = this.dtype === 'bool';
    const shape = this.shape;
    if (shape.length === 0) return isBool ? flat[0] !== 0 : flat[0]!;
    let k = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[d]!; i++) {
        if (d === shape.length - 1) {
          const v = flat[k++]!;
          out.push(isBool ? v !== 0 : v);
        } else out.push(build(d + 1));
      }
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor as a number (bool: 1 or 0). */
  item(): number {
    if (this.numel() !== 1) {
      throw new Error(`item: only one-element tensors can be converted to a number, got shape [${this.shape.join(',')}] (${this.numel()} elements)`);
    }
    return this.toTypedArray()[0]!;
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** Releases the storage now (GPU memory); the tensor and every view of it become unusable. */
  dispose(): void {
    if (!this.storage.disposed) this.storage.backend.dispose(this.storage);
  }
  get isDisposed(): boolean {
    return this.storage.disposed;
  }

  // ---- conversion --------------------------------------------------------------------------
  /** `to('float64')` casts; `to('gpu')` moves; `to({ dtype, device })` does both. */
  to(target: DType | string | { dtype?: DType; device?: string }): Tensor {
    if (typeof target === 'string') {
      return isDType(target) ? ops.cast(this, target) : ops.toDevice(this, getBackend(target).name);
    }
    let t: Tensor = this;
    if (target.device !== undefined) t = ops.toDevice(t, target.device);
    if (target.dtype !== undefined) t = ops.cast(t, target.dtype);
    return t;
  }
  float(): Tensor { return ops.cast(this, 'float32'); }
  double(): Tensor { return ops.cast(this, 'float64'); }
  int(): Tensor { return ops.cast(this, 'int32'); }
  bool(): Tensor { return ops.cast(this, 'bool'); }
  cpu(): Tensor { return ops.toDevice(this, 'cpu'); }

  // ---- elementwise -------------------------------------------------------------------------
  add(other: TensorLike, alpha?: number): Tensor { return ops.add(this, alpha === undefined ? other : ops.mul(other, alpha)); }
  sub(other: TensorLike, alpha?: number): Tensor { return ops.sub(this, alpha === undefined ? other : ops.mul(other, alpha)); }
  mul(other: TensorLike): Tensor { return ops.mul(this, other); }
  div(other: TensorLike): Tensor { return ops.div(this, other); }
  pow(exponent: TensorLike): Tensor { return ops.pow(this, exponent); }
  maximum(other: TensorLike): Tensor { return ops.maximum(this, other); }
  minimum(other: TensorLike): Tensor { return ops.minimum(this, other); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor { return ops.relu(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return ops.gelu(this, approximate); }
  erf(): Tensor { return ops.erf(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  square(): Tensor { return ops.mul(this, this); }
  reciprocal(): Tensor { return ops.div(1, this); }
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  maskedFill(mask: Tensor, value: number): Tensor { return ops.maskedFill(this, mask, value); }
  where(condition: Tensor, other: TensorLike): Tensor { return ops.where(condition, this, other); }

  // comparisons and logic (not differentiable; bool results)
  eq(other: TensorLike): Tensor { return ops.eq(this, other); }
  ne(other: TensorLike): Tensor { return ops.ne(this, other); }
  lt(other: TensorLike): Tensor { return ops.lt(this, other); }
  le(other: TensorLike): Tensor { return ops.le(this, other); }
  gt(other: TensorLike): Tensor { return ops.gt(this, other); }
  ge(other: TensorLike): Tensor { return ops.ge(this, other); }
  logicalAnd(other: TensorLike): Tensor { return ops.logicalAnd(this, other); }
  logicalOr(other: TensorLike): Tensor { return ops.logicalOr(this, other); }
  logicalXor(other: TensorLike): Tensor { return ops.logicalXor(this, other); }
  logicalNot(): Tensor { return ops.logicalNot(this); }
  isnan(): Tensor { return ops.isnan(this); }
  /** True when every element equals `other`'s (same shape). */
  equal(other: Tensor): boolean { return ops.equal(this, other); }
  /** |a − b| ≤ atol + rtol·|b| everywhere (NaN never close). */
  allclose(other: Tensor, rtol = 1e-5, atol = 1e-8): boolean { return ops.allclose(this, other, rtol, atol); }

  // ---- reductions --------------------------------------------------------------------------
  sum(dim?: number | number[] | null, keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(dim?: number | number[] | null, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  /** The maximum over `dim` (all dims when omitted); ties share the gradient (torch.amax). */
  max(dim?: number | number[] | null, keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  min(dim?: number | number[] | null, keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  amax(dim?: number | number[] | null, keepdim = false): Tensor { return ops.max(this, dim, keepdim); }
  amin(dim?: number | number[] | null, keepdim = false): Tensor { return ops.min(this, dim, keepdim); }
  /** Variance with Bessel's correction by default (`correction = 1`), as torch.var. */
  var(dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.variance(this, dim, opts); }
  std(dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.std(this, dim, opts); }
  logsumexp(dim: number | number[], keepdim = false): Tensor { return ops.logsumexp(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return ops.argReduce('argmax', this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return ops.argReduce('argmin', this, dim, keepdim); }
  softmax(dim: number): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return ops.logSoftmax(this, dim); }

  // ---- linear algebra ----------------------------------------------------------------------
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }

  // ---- movement ----------------------------------------------------------------------------
  reshape(...shape: ShapeArgs): Tensor { return ops.reshape(this, shapeFromArgs(shape)); }
  /** Like reshape, but never copies: throws when the strides do not allow a view. */
  view(...shape: ShapeArgs): Tensor { return ops.view(this, shapeFromArgs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  permute(...dims: ShapeArgs): Tensor { return ops.permute(this, shapeFromArgs(dims)); }
  transpose(dim0: number, dim1: number): Tensor { return ops.transpose(this, dim0, dim1); }
  /** The transpose of a ≤2-D tensor. */
  get T(): Tensor { return this.ndim < 2 ? this : ops.permute(this, [...Array(this.ndim).keys()].reverse()); }
  /** Broadcast to a larger shape without copying (-1 keeps a dim). */
  expand(...shape: ShapeArgs): Tensor { return ops.expand(this, shapeFromArgs(shape)); }
  expandAs(other: Tensor): Tensor { return ops.expand(this, other.shape); }
  squeeze(dim?: number | number[]): Tensor { return ops.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  /** Python-style slice `x[..., start:end:step, ...]` along one dim (negative indices count from the end). */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor { return ops.slice(this, dim, start, end, step); }
  narrow(dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  /** `x[..., index, ...]`: removes `dim`. */
  select(dim: number, index: number): Tensor { return ops.select(this, dim, index); }
  split(splitSize: number | number[], dim = 0): Tensor[] { return ops.split(this, splitSize, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return ops.chunk(this, chunks, dim); }
  contiguous(): Tensor { return ops.contiguous(this); }
  /** A copy with its own storage (differentiable). */
  clone(): Tensor { return ops.contiguous(this, true); }
  gather(dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return ops.indexSelect(this, dim, index); }

  // ---- in place (for optimizers and initialisers; never on a leaf that requires grad while recording) ----
  copy_(src: TensorLike): this { ops.assign(this, src, 'copy_'); return this; }
  fill_(value: number): this { ops.assign(this, value, 'fill_'); return this; }
  zero_(): this { ops.assign(this, 0, 'zero_'); return this; }
  add_(other: TensorLike, alpha?: number): this { ops.assign(this, this.detach().add(other instanceof Tensor ? other.detach() : other, alpha), 'add_'); return this; }
  sub_(other: TensorLike, alpha?: number): this { ops.assign(this, this.detach().sub(other instanceof Tensor ? other.detach() : other, alpha), 'sub_'); return this; }
  mul_(other: TensorLike): this { ops.assign(this, this.detach().mul(other instanceof Tensor ? other.detach() : other), 'mul_'); return this; }
  div_(other: TensorLike): this { ops.assign(this, this.detach().div(other instanceof Tensor ? other.detach() : other), 'div_'); return this; }
  clamp_(min?: number | null, max?: number | null): this { ops.assign(this, this.detach().clamp(min, max), 'clamp_'); return this; }
}
