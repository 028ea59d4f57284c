/**
 * The backward pass of reverse-mode automatic differentiation.
 *
 * Every differentiable op records a `Node` on its output (engine.ts). `backward()` walks the
 * graph once in reverse topological order (an explicit stack, no recursion: a chain of 100 000
 * ops is fine), calls each op's backward, and
 *   - un-broadcasts: a gradient whose shape is the broadcast output shape is summed back to
 *     its input's shape — here, in one place, never in an op;
 *   - accumulates: a tensor used twice receives the sum of both gradients (fan-out);
 *   - frees: saved tensors are dropped unless `retainGraph`, and a second backward through a
 *     freed node is a clear error; every storage the backward itself created (intermediate
 *     gradients, temporaries of the formulas) is disposed at the end — except the gradients
 *     it stored in `.grad` — so the CPU backend reuses those buffers in the next step and the
 *     GPU frees its textures, without waiting for the garbage collector.
 * Backward formulas and the sums here are Tensor methods, so they run on whichever backend holds
 * the data, and this module needs Tensor only as a type (no import cycle with tensor.ts).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Storage } from '../backends/index.js';
import { keep, withCreated } from '../tensor/scope.js';
import { timed } from '../core/profile.js';
import { noGrad, type BackwardContext, type GradHook, type Node } from './engine.js';
import { versionOf } from './version.js';

/** Throws when `t` (the node's tensor at versions[slot]) was modified in place after the forward. */
function checkVersion(node: Node, t: Tensor, slot: number, what: string): void {
  const then = node.versions[slot];
  if (t === undefined || then === undefined) return;
  const now = versionOf(t.storage);
  if (now !== then) {
    throw new Error(
      `backward: a tensor needed for the gradient of ${node.opName} was modified in place (its ${what} of shape ` +
        `[${t.shape.join(',')}] is at version ${now}; expected version ${then}, as in the forward pass). ` +
        'Clone the tensor before modifying it (x.clone().add_(…)), or use the out-of-place op (x.add(…)).',
    );
  }
}

/**
 * The node's tensor `t` as the backward sees it: a proxy that checks the version
 * (versions[slot]) when the backward reaches for the data (`storage`), but not for metadata
 * (shape, strides, dtype, device, …): a backward that only needs an input's shape (sum, expand,
 * reshape) never refuses, as PyTorch's ops that save no tensor.
 */
function guarded(node: Node, t: Tensor, slot: number, what: string): Tensor {
  return new Proxy(t, {
    get(target, prop, receiver) {
      if (prop === 'storage') {
        checkVersion(node, target, slot, what);
        return target.storage;
      }
      if (prop === 'dtype' || prop === 'device') return Reflect.get(target, prop, target) as unknown; // getters that read the storage for metadata
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** `ts` with each element guarded (versions from versions[base]). */
function versionChecked(node: Node, ts: readonly Tensor[], base: number, what: string): readonly Tensor[] {
  return ts.map((t, i) => guarded(node, t, base + i, what));
}

/**
 * Sums a gradient g, shaped like a broadcast output, back to an input's shape: over the leading
 * dims the input lacks and over every dim where the input has size 1 and g does not.
 *   g: [..., s₁, …, sₖ] → [d₁, …, dₖ]  (dᵢ = sᵢ or 1)
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new Error(`internal: cannot sum a gradient of shape [${g.shape.join(', ')}] to the larger shape [${shape.join(', ')}]`);
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length ? g.sum(dims, true) : g;
  return s.reshape(shape);
}

/** Fan-out: the sum of two gradients of one tensor. */
function addGrads(a: Tensor, b: Tensor): Tensor {
  return a.add(b);
}

/** ∂root/∂root = 1 for a one-element root, on the root's backend and in its dtype. */
function onesLike(root: Tensor): Tensor {
  // The root's own class builds the tensor, so this module imports Tensor only as a type.
  const TensorClass = root.constructor as typeof Tensor;
  return TensorClass.fromStorage(root.storage.backend.full(1, root.dtype, 1), root.shape);
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Runs gradient hooks in registration order: each sees the gradient so far; one that returns a
 * tensor replaces it (same shape; cast to the tensor's dtype).
 */
function runHooks(hooks: readonly GradHook[], g: Tensor, of: Tensor | null): Tensor {
  for (const h of [...hooks]) {
    const r = h(g);
    if (r === undefined || r === null) continue;
    if (typeof r !== 'object' || !('shape' in r) || !('storage' in r)) {
      throw new Error(`registerHook: a hook must return a Tensor or nothing, got ${typeof r}`);
    }
    if (!shapesEqual(r.shape, g.shape)) {
      throw new Error(`registerHook: a hook returned a gradient of shape [${r.shape.join(',')}], expected [${g.shape.join(',')}]${of ? ' (the tensor\'s shape)' : ''}`);
    }
    g = r.dtype === g.dtype ? r : r.to(g.dtype);
  }
  return g;
}

/** Reverse topological order of the nodes reachable from `root` (iterative DFS). */
function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1] = i + 1;
      const child = node.inputs[i]!.gradFn;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse(); // root first
}

/**
 * One step of a backward pass as an observer (trace.ts) sees it: the node whose formula just ran,
 * its output, the gradient that reached it (∂L/∂y, after hooks) and the gradient it sends to
 * each input (∂L/∂xᵢ after un-broadcasting and the dtype cast; null where none flows or the
 * input needs none). The tensors are the backward's own: read them during the call, never keep them.
 */
export interface BackwardStepEvent {
  readonly node: Node;
  /** The node's output tensor (null when it was only weakly held and is gone). */
  readonly output: Tensor | null;
  readonly gradOutput: Tensor;
  readonly gradInputs: readonly (Tensor | null)[];
}

/** Watches backward passes (`traceBackward`, `TENSORGRAD_TRACE=1`): called synchronously, in order. */
export interface BackwardObserver {
  /** A backward pass from `root` starts. */
  begin?(root: Tensor): void;
  /** One node's backward formula ran (nodes come in reverse topological order). */
  step(e: BackwardStepEvent): void;
  /** The pass from `root` ended (also when it threw). */
  end?(root: Tensor): void;
}

/** The active observers; empty in normal runs (then the backward does no extra work). */
export const backwardObservers = new Set<BackwardObserver>();

/** The .grad tensors that backward() created, with the number of the backward run that did. */
const backwardGrads = new WeakMap<Tensor, number>();
let backwardRuns = 0;

/**
 * Frees the storage of `t` when it is a gradient that backward() created and stored as a
 * .grad — what `zeroGrad()` (set to none) drops. On the CPU such storages live in the wasm arena
 * (backends/cpu/arena.ts), whose filling the garbage collector does not see, so they go back
 * at once instead of whenever a collection happens to run. Anything else is left alone.
 * @internal
 */
export function releaseBackwardGrad(t: Tensor | null): void {
  if (t === null || !backwardGrads.has(t)) return;
  backwardGrads.delete(t);
  if (!t.storage.disposed) t.storage.backend.dispose(t.storage);
}

export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
}

/** Computes ∂root/∂leaf for every leaf that requires grad, accumulating into `leaf.grad`. */
export function runBackward(root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions = {}): void {
  const run = ++backwardRuns;
  if (!root.requiresGrad) {
    throw new Error('backward: element 0 of tensors does not require grad and does not have a grad_fn (did you create it under noGrad, or forget requiresGrad?)');
  }
  let g: Tensor;
  if (gradient === undefined) {
    if (root.numel() !== 1) {
      throw new Error(`backward: grad can be implicitly created only for scalar outputs, got shape [${root.shape.join(',')}]; pass a gradient of that shape`);
    }
    g = onesLike(root);
  } else {
    if (!shapesEqual(gradient.shape, root.shape)) {
      throw new Error(`backward: gradient has shape [${gradient.shape.join(',')}] but the output has shape [${root.shape.join(',')}]`);
    }
    g = gradient.detach();
    if (g.dtype !== root.dtype) g = g.to(root.dtype); // grads take the dtype of what they are grads of
  }
  const retain = opts.retainGraph ?? false;
  const stored: Tensor[] = []; // tensors whose .grad this backward set
  const storedStorages = new Set<unknown>();
  let createdSoFar: ReadonlySet<unknown> = new Set();
  const accumulateLeaf = (t: Tensor, gt: Tensor): void => {
    // .grad += g. A gradient this backward created, dense in its own storage and not yet any
    // other tensor's .grad, becomes .grad as it is (the formulas never write in place, so
    // flowing on elsewhere only reads it); anything else is copied, so that no two .grads
    // — and no .grad and a user's tensor — ever share memory.
    const owned = createdSoFar.has(gt.storage) && !storedStorages.has(gt.storage) && gt.isContiguous() &&
      gt.offset === 0 && gt.numel() === gt.storage.size;
    const old = t.grad;
    t.grad = old ? addGrads(old, gt) : owned ? gt.detach() : gt.contiguous() === gt ? gt.clone() : gt.contiguous();
    // accumulation over backward runs (micro-batches) replaces .grad: the old one, if an earlier
    // run created it, is freed now rather than by the garbage collector (releaseBackwardGrad);
    // one from this run may still be referenced by this run (hooks, the trace)
    if (old !== null && !old.requiresGrad && backwardGrads.get(old) !== run) releaseBackwardGrad(old);
    backwardGrads.set(t.grad, run);
    stored.push(t);
    storedStorages.add(t.grad.storage);
  };
  // Leaves with hooks: their gradient is summed first, the hooks see the total (as torch's
  // AccumulateGrad pre-hooks), then it is accumulated into .grad.
  const hookedLeaves = new Map<Tensor, Tensor>();
  const toLeaf = (t: Tensor, gt: Tensor): void => {
    if (!t._gradHooks?.length) return accumulateLeaf(t, gt);
    const prev = hookedLeaves.get(t);
    hookedLeaves.set(t, prev ? addGrads(prev, gt) : gt);
  };
  const observers = backwardObservers.size > 0 ? [...backwardObservers] : null;
  let created: ReadonlySet<Storage>;
  if (observers) for (const o of observers) o.begin?.(root);
  try {
    ({ created } = withCreated((c) => noGrad(() => {
      createdSoFar = c;
      if (!root.gradFn) {
        toLeaf(root, g);
      } else {
        backwardFrom(root.gradFn);
      }
      for (const [t, gt] of hookedLeaves) accumulateLeaf(t, runHooks(t._gradHooks!, gt, t));
    })));
  } finally {
    if (observers) for (const o of observers) o.end?.(root);
  }
  function backwardFrom(rootNode: Node): void {
    const grads = new Map<Node, Tensor>([[rootNode, g]]);
    for (const node of topoOrder(rootNode)) {
      let gOut = grads.get(node);
      grads.delete(node);
      if (gOut === undefined) continue; // no gradient reached this node
      if (node.released) {
        throw new Error(
          `backward: trying to backward through the graph a second time (op '${node.opName}'): the saved tensors were freed ` +
            'after the first backward. Pass { retainGraph: true } to the first backward() if you need to call it again.',
        );
      }
      const output = node.output instanceof WeakRef ? node.output.deref() : node.output;
      // the output's hooks see its total gradient; a non-leaf that called retainGrad() keeps it (after the hooks)
      if (node.hooks?.length) gOut = runHooks(node.hooks, gOut, output ?? null);
      if (output?.retainsGrad) accumulateLeaf(output, gOut);
      // inputs, output and saved tensors are checked against their recorded versions when the
      // backward reads them (so an op whose gradient does not need a tensor, like add, never refuses)
      const n = node.inputs.length;
      const ctx: BackwardContext<unknown> = {
        inputs: versionChecked(node, node.inputs, 0, 'input'),
        output: output ? guarded(node, output, n, 'output') : (output as unknown as Tensor),
        saved: versionChecked(node, node.saved, n + 1, 'saved tensor'),
        attrs: node.attrs,
        needsGrad: node.inputs.map((t) => t.requiresGrad),
      };
      const inGrads = timed(`backward:${node.opName}`, () => node.backwardFn(ctx, gOut));
      const sent: (Tensor | null)[] | null = observers ? node.inputs.map(() => null) : null;
      for (let i = 0; i < node.inputs.length; i++) {
        const inp = node.inputs[i]!;
        let gi = inGrads[i];
        if (!inp.requiresGrad || gi === null || gi === undefined) continue;
        // Un-broadcast (the one place it happens) and match the input's dtype.
        if (!shapesEqual(gi.shape, inp.shape)) gi = sumToShape(gi, inp.shape);
        if (gi.dtype !== inp.dtype) gi = gi.to(inp.dtype);
        if (sent) sent[i] = gi;
        if (inp.gradFn) {
          const prev = grads.get(inp.gradFn);
          grads.set(inp.gradFn, prev ? addGrads(prev, gi) : gi);
        } else {
          toLeaf(inp, gi);
        }
      }
      if (observers) for (const o of observers) o.step({ node, output: output ?? null, gradOutput: gOut, gradInputs: sent! });
      if (!retain) node.release();
    }
  }
  // Everything created above is unreachable from user code except the stored gradients, which
  // belong to their tensors (parameters, usually older than any enclosing tidy) and so are
  // exempted from tidy as well: `tidy(() => loss.backward())` leaves usable .grad behind.
  const kept = new Set<unknown>();
  for (const t of stored) {
    kept.add(t.grad!.storage);
    keep(t.grad!);
  }
  for (const s of created) if (!kept.has(s) && !s.disposed) s.backend.dispose(s);
}
