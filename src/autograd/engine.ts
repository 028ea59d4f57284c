/**
 * Graph recording for reverse-mode automatic differentiation: the grad mode (noGrad,
 * enableGrad) and the `Node` every differentiable op attaches to its output — the op's name,
 * the input tensors, whatever the backward formula needs (`saved`, `attrs`) and the formula
 * itself (written beside its forward in ops.ts). The backward pass over these nodes is
 * backward.ts; this module knows nothing of it.
 */
import type { Tensor } from '../tensor/tensor.js';
import { versionOf } from './version.js';

let gradEnabled = true;

/**
 * Whether ops currently record the graph (false inside `noGrad`), as torch.is_grad_enabled.
 * @example
 * ```ts
 * isGradEnabled();                        // true
 * noGrad(() => isGradEnabled());          // false
 * ```
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with graph recording off (like `with torch.no_grad():`).
 * @example
 * ```ts
 * const w = randn([3], { requiresGrad: true });
 * const y = noGrad(() => w.mul(2));       // evaluation or a manual update: nothing recorded
 * y.requiresGrad;                         // false
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs `fn` with graph recording on, e.g. inside a `noGrad` block.
 * @example
 * ```ts
 * const w = randn([3], { requiresGrad: true });
 * const y = noGrad(() => enableGrad(() => w.mul(2)));
 * y.requiresGrad;                         // true: recorded inside enableGrad
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Switches recording on or off globally (`torch.set_grad_enabled`).
 * @example
 * ```ts
 * setGradEnabled(false);                  // e.g. a whole evaluation script
 * const y = randn([3], { requiresGrad: true }).mul(2);
 * y.requiresGrad;                         // false
 * setGradEnabled(true);
 * ```
 */
export function setGradEnabled(on: boolean): void {
  gradEnabled = on;
}

/** What an op's backward sees: the inputs, the output, the tensors it saved and its attributes. */
export interface BackwardContext<A> {
  /** The op's tensor inputs, in call order (gradients are returned in the same order). */
  readonly inputs: readonly Tensor[];
  /** The tensor the forward produced. */
  readonly output: Tensor;
  /** Tensors the forward chose to keep for the backward (e.g. a dropout mask), in the order `ctx.save` received them. */
  readonly saved: readonly Tensor[];
  /** The op's non-tensor attributes (dims, scale, …) as the forward recorded them. */
  readonly attrs: A;
  /** needsGrad[i]: whether input i wants a gradient (skip work when false). */
  readonly needsGrad: readonly boolean[];
}

/** Gradient of each input (null where none flows), shaped like the output or broadcast-compatible. */
export type BackwardFn<A> = (ctx: BackwardContext<A>, grad: Tensor) => readonly (Tensor | null)[];

/** A gradient hook (`tensor.registerHook`): sees ∂L/∂tensor; returning a tensor replaces it. */
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

export class Node {
  released = false;
  /** Hooks registered on this node's output tensor (run on its total gradient, in order). */
  hooks: GradHook[] | null = null;
  /**
   * The version counters (version.ts) of the inputs, then the output, then the saved tensors,
   * when the node was recorded: backward refuses to read a tensor that was modified in place since.
   */
  readonly versions: readonly number[];
  constructor(
    readonly opName: string,
    public inputs: Tensor[],
    public output: WeakRef<Tensor> | Tensor | null,
    public saved: Tensor[],
    readonly attrs: unknown,
    readonly backwardFn: BackwardFn<unknown>,
  ) {
    const out = output instanceof WeakRef ? output.deref() : output;
    this.versions = [...inputs, ...(out ? [out] : []), ...saved].map((t) => versionOf(t.storage));
  }

  release(): void {
    this.released = true;
    this.saved = [];
    this.output = null;
  }
}
