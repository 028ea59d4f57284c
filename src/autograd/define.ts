/**
 * The op table: every differentiable op is declared once, with `defineOp` (a primitive: forward
 * + backward) or `defineComposite` (built from other ops; its gradient comes for free).
 *
 * A declaration holds everything about an op in one place — its name, its forward (a function, or
 * an elementwise opcode of backends/opcodes.ts), its gradient as maths (`gradient`), whether it is
 * a Tensor method (`method`) and its docs — in the spirit of PyTorch's derivatives.yaml, tinygrad's
 * mlops and candle's op.rs. `OPS` and `COMPOSITES` list them; the property-test registry
 * (test/autograd/ops.property.test.ts) fails for any name without a gradient property, and
 * tensor/methods.ts attaches every declaration with `method: true` to Tensor.
 *
 * `defineOp` is also the public custom-op API — the `torch.autograd.Function` of this framework:
 *
 *   forward(ctx, ...args)  runs with recording off; `ctx.save(...)` keeps tensors for the
 *                          backward, `ctx.attrs = …` keeps anything else
 *   backward(ctx, g)       gets ctx.inputs (the tensor arguments, in order; tensors inside array
 *                          arguments count too), ctx.output, ctx.saved, ctx.attrs, ctx.needsGrad,
 *                          and the incoming gradient g = ∂L/∂y; returns ∂L/∂input for each input
 *                          (null where none flows), in the output's (broadcast) shape if
 *                          convenient — the engine sums gradients back to each input's shape
 *
 * A node is recorded when recording is on, some tensor input requires grad and the output is
 * floating point.
 */
import type { UnaryOp } from '../backends/opcodes.js';
import { isFloatingDType } from '../core/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { disposedError } from '../tensor/scope.js';
import { isGradEnabled, Node, setGradEnabled, type BackwardContext, type BackwardFn } from './engine.js';

/** What a declared op's forward can use: keep tensors and values for the backward. */
export interface ForwardContext<A> {
  /** Keeps tensors for the backward (`ctx.saved` there). */
  save(...tensors: Tensor[]): void;
  /** Any non-tensor values the backward needs (`ctx.attrs` there). */
  attrs: A;
}

/** The common fields of an op declaration. */
export interface OpInfo {
  /** The op's name (unique): the key in `OPS`/`COMPOSITES`, the node name in errors and profiles. */
  readonly name: string;
  /**
   * The op's gradient formula as maths, e.g. `'y = eˣ;  ∂L/∂x = g·y'`: documentation, shown in
   * ARCHITECTURE.md, by `traceBackward` (each step's `formula`) and in the graph views.
   */
  readonly gradient?: string;
  /** Attach as a Tensor method (`x.name(...rest)` = `name(x, ...rest)`), as PyTorch has one. */
  readonly method?: boolean;
  /** One line of documentation. */
  readonly doc?: string;
}

/** A primitive: a forward function (or an elementwise opcode) and its backward. */
export interface OpSpec<Args extends unknown[], A> extends OpInfo {
  /**
   * `(ctx, ...args) => output`, run with recording off; or the name of a unary opcode of
   * backends/opcodes.ts for a float elementwise op of one tensor (`y[i] = f(x[i])`).
   */
  readonly forward: ((ctx: ForwardContext<A>, ...args: Args) => Tensor) | UnaryOp;
  /** `(ctx, g) => [∂L/∂input₀, ∂L/∂input₁, …]` (null where none flows). */
  readonly backward: BackwardFn<A>;
}

/** A composite: built from other ops, so its gradient needs no formula. */
export interface CompositeSpec<F extends (...args: any[]) => any> extends OpInfo {
  /**
   * The composite's implementation, written with other ops (each recorded as it runs, so autograd differentiates through them); `defineComposite` returns this very function with `.spec` attached.
   */
  readonly forward: F;
}

/** A declared primitive: call it like a function; its declaration is `.spec`. */
export type Op<Args extends unknown[]> = ((...args: Args) => Tensor) & { readonly spec: OpSpec<Args, any> };
/** A declared composite: the function itself, with its declaration as `.spec`. */
export type Composite<F extends (...args: any[]) => any> = F & { readonly spec: CompositeSpec<F> };

/** Every differentiable primitive, by name. */
export const OPS = new Map<string, OpSpec<any, any>>();
/** Differentiable functions built from the primitives, by name. */
export const COMPOSITES = new Map<string, CompositeSpec<any>>();

function checkName(fn: string, name: unknown): void {
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new Error(`${fn}: name must be an identifier-like string, got ${JSON.stringify(name)}`);
  }
  if (OPS.has(name) || COMPOSITES.has(name)) throw new Error(`${fn}: op '${name}' defined twice`);
}

/** The tensors among an op's arguments (array arguments searched one level deep), in order. */
function tensorArgs(args: readonly unknown[]): Tensor[] {
  const out: Tensor[] = [];
  for (const a of args) {
    if (a instanceof Tensor) out.push(a);
    else if (Array.isArray(a)) for (const e of a) if (e instanceof Tensor) out.push(e);
  }
  return out;
}

/** Opcode forwards are installed by autograd/ops.ts (it owns the elementwise kernel launcher). */
export const opcodeForward = {
  run: null as unknown as (opcode: UnaryOp, name: string, x: Tensor) => Tensor,
};

/**
 * Declares a differentiable op from its forward and backward — PyTorch's
 * `torch.autograd.Function` — and enters it in the op table (`OPS`). Returns the op as a
 * function.
 *
 * @example
 * import { defineOp, gradcheck, randn, type Tensor } from 'tensorgrad';
 * // y = x³;  ∂L/∂x = g·3x²
 * const cube = defineOp({
 *   name: 'cube',
 *   gradient: 'y = x³;  ∂L/∂x = g·3x²',
 *   forward: (ctx, x: Tensor) => x.mul(x).mul(x),
 *   backward: ({ inputs: [x] }, g) => [g.mul(x!.mul(x!).mul(3))],
 * });
 * const x = randn([4], { dtype: 'float64', requiresGrad: true });
 * gradcheck((t) => cube(t), [x]); // true: the backward matches central differences
 */
export function defineOp<M extends boolean = false>(spec: OpSpec<[x: Tensor], undefined> & { forward: UnaryOp; method?: M }): Op<[x: Tensor]> & { readonly spec: { readonly method?: M } };
export function defineOp<Args extends unknown[], A = undefined, M extends boolean = false>(spec: OpSpec<Args, A> & { method?: M }): Op<Args> & { readonly spec: { readonly method?: M } };
export function defineOp<Args extends unknown[], A = undefined>(spec: OpSpec<Args, A>): Op<Args> {
  checkName('defineOp', spec?.name);
  if (typeof spec.backward !== 'function') throw new Error(`defineOp: '${spec.name}' needs a backward function (ctx, g) => grads, got ${typeof spec.backward}`);
  if (typeof spec.forward !== 'function' && typeof spec.forward !== 'string') {
    throw new Error(`defineOp: '${spec.name}' needs a forward function (ctx, ...args) => Tensor or an opcode name, got ${typeof spec.forward}`);
  }
  const { name, backward } = spec;
  const forward = typeof spec.forward === 'string'
    ? ((opcode: UnaryOp) => (_ctx: ForwardContext<A>, x: unknown) => {
      if (!(x instanceof Tensor)) throw new Error(`${name}: expected a tensor, got ${typeof x}`);
      return opcodeForward.run(opcode, name, x);
    })(spec.forward) as unknown as (ctx: ForwardContext<A>, ...args: Args) => Tensor
    : spec.forward;
  // the per-call cost matters: the views (reshape, permute, slice, …) are declared here and run
  // inside most backward passes — so one scan of the arguments, no closures per call
  const op = (...args: Args): Tensor => {
    const inputs = tensorArgs(args);
    for (let i = 0; i < inputs.length; i++) { // freed by tidy/dispose: name the op and which argument
      const t = inputs[i]!;
      if (t.storage.disposed) throw disposedError(name, t, inputs.length > 1 ? `argument ${i}` : 'its input');
    }
    const saved: Tensor[] = [];
    const ctx: ForwardContext<A> = { save: (...ts) => { saved.push(...ts); }, attrs: undefined as A };
    const recording = isGradEnabled();
    let out: Tensor;
    if (recording) {
      setGradEnabled(false); // noGrad(), inlined
      try {
        out = forward(ctx, ...args);
      } finally {
        setGradEnabled(true);
      }
    } else {
      out = forward(ctx, ...args);
    }
    if (!(out instanceof Tensor)) throw new Error(`${name}: forward must return a Tensor, got ${typeof out}`);
    if (!recording || !isFloatingDType(out.dtype)) return out;
    let anyGrad = false;
    for (let i = 0; i < inputs.length; i++) if (inputs[i]!.requiresGrad) { anyGrad = true; break; }
    if (!anyGrad) return out;
    // an op whose forward returned one of its inputs (a no-op) must not overwrite that tensor's node
    const y = inputs.includes(out) ? new Tensor(out.storage, out.shape, out.strides, out.offset) : out;
    y._markNonLeaf(new Node(name, inputs, y, saved, ctx.attrs, backward as BackwardFn<unknown>));
    return y;
  };
  Object.defineProperty(op, 'name', { value: name });
  Object.defineProperty(op, 'spec', { value: spec });
  OPS.set(name, spec);
  return op as Op<Args>;
}

/**
 * Enters an op built from other ops in the op table (`COMPOSITES`): its gradient is the
 * composition's, so it only needs the forward. Returns the forward itself (with `.spec`).
  * @example
  * ```ts
  * const softsign = defineComposite({
  *   name: 'softsignExample',
  *   doc: 'x / (1 + |x|)',
  *   forward: (x: Tensor): Tensor => x.div(x.abs().add(1)), // recorded op by op: no backward to write
  * });
  * const x = tensor([1, -3], { requiresGrad: true });
  * softsign(x).sum().backward();
  * x.grad!.toArray();                      // [0.25, 0.0625] = 1/(1 + |x|)²
  * ```
 */
export function defineComposite<F extends (...args: any[]) => any, M extends boolean = false>(spec: CompositeSpec<F> & { method?: M }): Composite<F> & { readonly spec: { readonly method?: M } } {
  checkName('defineComposite', spec?.name);
  if (typeof spec.forward !== 'function') throw new Error(`defineComposite: '${spec.name}' needs a forward function, got ${typeof spec.forward}`);
  COMPOSITES.set(spec.name, spec);
  const f = spec.forward as Composite<F>;
  Object.defineProperty(f, 'spec', { value: spec });
  return f as Composite<F> & { readonly spec: { readonly method?: M } };
}

export type { BackwardContext, BackwardFn };
