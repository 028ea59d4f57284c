/**
 * The Tensor: a strided view (shape, strides, offset) onto a backend's storage, plus the
 * autograd fields (requiresGrad, grad, gradFn).
 *
 * This file holds the data and autograd fields; the op methods (`x.add(y)`, `x.reshape(…)`, …)
 * are attached in one place, tensor/methods.ts, so that this module imports no op (no import
 * cycle with autograd/). Views (reshape of contiguous data, permute, transpose,
 * expand, slice, squeeze, unsqueeze) share storage; `contiguous()` and `clone()` copy.
 */
import type { Storage } from '../backends/index.js';
import type { GradHook, Node } from '../autograd/engine.js';
import { runBackward, type BackwardOptions } from '../autograd/backward.js';
import { isFloatingDType, type DType, type TypedArray } from '../core/dtype.js';
import { contiguousStrides, isContiguous, numel, normalizeDim } from '../core/shape.js';
import { formatTensor } from './print.js';
import { disposedError, trackStorage } from './scope.js';
import { versionOf } from '../autograd/version.js';

/** A plain number or boolean, where an op also takes a tensor. */
export type Scalar = number | boolean;
/** A tensor, or a number or boolean that ops treat as a 0-d tensor. */
export type TensorLike = Tensor | number | boolean;
/** Nested JS arrays of numbers or booleans, as `tensor()` takes and `toArray()` returns. */
export type NestedArray = number | boolean | NestedArray[];

/** Shapes may be given as an array or as separate numbers: `x.reshape([2, 3])` or `x.reshape(2, 3)`. */
export type ShapeArgs = [readonly number[]] | number[];

export function shapeFromArgs(args: ShapeArgs): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/**
 * An n-dimensional array on a backend (cpu or gpu) with reverse-mode autograd, as torch.Tensor:
 * a storage viewed through shape, strides and offset, plus `requiresGrad`, `.grad` and the
 * `gradFn` node that produced it. Create tensors with `tensor`, `zeros`, `randn`, …; the math
 * methods (`x.add(y)`, `x.matmul(w)`, …) are attached by tensor/methods.ts.
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = x.matmul(x).sum();
 * y.backward();
 * x.grad; // ∂y/∂x
 */
export class Tensor {
  /** The backend memory holding the elements (shared by views). */
  readonly storage: Storage;
  /** The size of each dim (frozen). */
  readonly shape: readonly number[];
  /** Elements to skip per step along each dim (frozen; 0 along broadcast dims). */
  readonly strides: readonly number[];
  /** The index of the first element in the storage. */
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

  /** The element type: 'float32', 'float64', 'int32' or 'bool'. */
  get dtype(): DType {
    return this.storage.dtype;
  }
  /** The backend's name: 'cpu', 'gpu', … */
  get device(): string {
    return this.storage.backend.name;
  }
  /** The number of dims (0 for a scalar). */
  get ndim(): number {
    return this.shape.length;
  }
  /** How many in-place writes this tensor's storage (shared by its views) has seen, as PyTorch's `_version`. */
  get _version(): number {
    return versionOf(this.storage);
  }
  /** True when no op made this tensor (created by the user, or detached): backward accumulates into its `.grad`. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Whether ops record this tensor's graph so backward computes its gradient (only floating-point tensors; settable on leaves). */
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

  /** The number of elements (the product of the shape). */
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
  /** Whether the elements lie in dense row-major order (views from transpose, expand or a step slice may not). */
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
  /** @internal hooks of a leaf (a non-leaf's live on its gradFn) */
  _gradHooks: GradHook[] | null = null;

  /**
   * Registers a gradient hook (PyTorch's `Tensor.register_hook`): during backward, `fn` receives
   * ∂L/∂this (the total over every use); returning a tensor of the same shape replaces it — in
   * `.grad` for a leaf, in what flows on for a non-leaf. Returns a handle whose `remove()`
   * unregisters it.
   * @example
   * import { randn } from 'tensorgrad';
   * const w = randn([3], { requiresGrad: true });
   * const h = w.registerHook((g) => g.clamp(-1, 1)); // clip this parameter's gradient
   * w.mul(10).sum().backward(); // w.grad = [1, 1, 1]
   * h.remove();
   */
  registerHook(fn: GradHook): { remove(): void } {
    if (typeof fn !== 'function') throw new Error(`registerHook: expected a function (grad) => Tensor | void, got ${typeof fn}`);
    if (!this.requiresGrad) throw new Error("registerHook: cannot register a hook on a tensor that doesn't require gradient");
    const list = this.gradFn ? (this.gradFn.hooks ??= []) : (this._gradHooks ??= []);
    list.push(fn);
    return {
      remove: () => {
        const i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  /** Drops the accumulated gradient (`x.grad = null`). */
  zeroGrad(): void {
    this.grad = null;
  }

  // ---- reading data ------------------------------------------------------------------------
  /** The elements in row-major order, as a new typed array (synchronous). */
  toTypedArray(): TypedArray {
    if (this.storage.disposed) throw disposedError('toTypedArray', this, 'the tensor');
    if (this.isContiguous()) return this.storage.backend.read(this.storage).slice(this.offset, this.offset + this.numel()) as TypedArray;
    const s = this.denseCopy();
    try {
      return s.backend.read(s).slice() as TypedArray;
    } finally {
      s.backend.dispose(s);
    }
  }
  /** The elements as a typed array, asynchronously (works on every backend). */
  async data(): Promise<TypedArray> {
    if (this.storage.disposed) throw disposedError('data', this, 'the tensor');
    if (this.isContiguous()) return (await this.storage.backend.readAsync(this.storage)).slice(this.offset, this.offset + this.numel()) as TypedArray;
    const s = this.denseCopy();
    try {
      return (await s.backend.readAsync(s)).slice() as TypedArray;
    } finally {
      s.backend.dispose(s);
    }
  }
  /** A row-major copy of the elements in a new (untracked) storage of the same backend. */
  private denseCopy(): Storage {
    const b = this.storage.backend;
    const s = b.full(this.numel(), this.dtype, 0);
    b.copy({ storage: s, shape: this.shape, strides: contiguousStrides(this.shape), offset: 0 }, this);
    return s;
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
  /** The values formatted as PyTorch prints them (`tensor([[1., 2.]])`). */
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
  /** Whether the storage was released (by `dispose()` or `tidy`): the tensor is then unusable. */
  get isDisposed(): boolean {
    return this.storage.disposed;
  }

}
