/**
 * Reverse-mode automatic differentiation.
 *
 * Every differentiable op records a `Node` on its output: the op (whose backward formula sits
 * beside its forward in ops.ts), the input tensors and whatever the backward needs (`saved`).
 * `backward()` walks the graph once in reverse topological order (an explicit stack, no
 * recursion: a chain of 100 000 ops is fine), calls each op's backward, and
 *   - un-broadcasts: a gradient whose shape is the broadcast output shape is summed back to
 *     its input's shape — here, in one place, never in an op;
 *   - accumulates: a tensor used twice receives the sum of both gradients (fan-out);
 *   - frees: saved tensors are dropped unless `retainGraph`, and a second backward through a
 *     freed node is a clear error; every storage the backward itself created (intermediate
 *     gradients, temporaries of the formulas) is disposed at the end — except the gradients
 *     it stored in `.grad` — so the CPU backend reuses those buffers in the next step and the
 *     GPU frees its textures, without waiting for the garbage collector.
 * Backward formulas are written with Tensor ops, so they run on whichever backend holds the data.
 */
import type { Tensor } from '../tensor/tensor.js';
import { keep, withCreated } from '../tensor/scope.js';
import { timed } from '../core/profile.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` with graph recording off (like `with torch.no_grad():`). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with graph recording on, e.g. inside a `noGrad` block. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Switches recording on or off globally (`torch.set_grad_enabled`). */
export function setGradEnabled(on: boolean): void {
  gradEnabled = on;
}

/** What an op's backward sees: the inputs, the output, the tensors it saved and its attributes. */
export interface BackwardContext<A> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly saved: readonly Tensor[];
  readonly attrs: A;
  /** needsGrad[i]: whether input i wants a gradient (skip work when false). */
  readonly needsGrad: readonly boolean[];
}

/** Gradient of each input (null where none flows), shaped like the output or broadcast-compatible. */
export type BackwardFn<A> = (ctx: BackwardContext<A>, grad: Tensor) => readonly (Tensor | null)[];

export class Node {
  released = false;
  constructor(
    readonly opName: string,
    public inputs: Tensor[],
    public output: WeakRef<Tensor> | Tensor | null,
    public saved: Tensor[],
    readonly attrs: unknown,
    readonly backwardFn: BackwardFn<unknown>,
  ) {}

  release(): void {
    this.released = true;
    this.saved = [];
    this.output = null;
  }
}

/**
 * Hooks filled in by tensor.ts (avoids an import cycle): un-broadcast, add, dtype cast.
 */
export const engineHooks = {
  sumToShape: null as unknown as (g: Tensor, shape: readonly number[]) => Tensor,
  add: null as unknown as (a: Tensor, b: Tensor) => Tensor,
  ones: null as unknown as (like: Tensor) => Tensor,
};

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
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

export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
}

/** Computes ∂root/∂leaf for every leaf that requires grad, accumulating into `leaf.grad`. */
export function runBackward(root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error('backward: element 0 of tensors does not require grad and does not have a grad_fn (did you create it under noGrad, or forget requiresGrad?)');
  }
  let g: Tensor;
  if (gradient === undefined) {
    if (root.numel() !== 1) {
      throw new Error(`backward: grad can be implicitly created only for scalar outputs, got shape [${root.shape.join(',')}]; pass a gradient of that shape`);
    }
    g = engineHooks.ones(root);
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
    t.grad = t.grad ? engineHooks.add(t.grad, gt) : owned ? gt.detach() : gt.contiguous() === gt ? gt.clone() : gt.contiguous();
    stored.push(t);
    storedStorages.add(t.grad.storage);
  };
  const { created } = withCreated((c) => noGrad(() => {
    createdSoFar = c;
    if (!root.gradFn) {
      accumulateLeaf(root, g);
      return;
    }
    if (root.retainsGrad) accumulateLeaf(root, g); // a non-leaf root that called retainGrad() keeps ∂root/∂root
    const grads = new Map<Node, Tensor>([[root.gradFn, g]]);
    for (const node of topoOrder(root.gradFn)) {
      const gOut = grads.get(node);
      grads.delete(node);
      if (gOut === undefined) continue; // no gradient reached this node
      if (node.released) {
        throw new Error(
          `backward: trying to backward through the graph a second time (op '${node.opName}'): the saved tensors were freed ` +
            'after the first backward. Pass { retainGraph: true } to the first backward() if you need to call it again.',
        );
      }
      const output = node.output instanceof WeakRef ? node.output.deref() : node.output;
      const ctx: BackwardContext<unknown> = {
        inputs: node.inputs,
        output: output as Tensor,
        saved: node.saved,
        attrs: node.attrs,
        needsGrad: node.inputs.map((t) => t.requiresGrad),
      };
      const inGrads = timed(`backward:${node.opName}`, () => node.backwardFn(ctx, gOut));
      for (let i = 0; i < node.inputs.length; i++) {
        const inp = node.inputs[i]!;
        let gi = inGrads[i];
        if (!inp.requiresGrad || gi === null || gi === undefined) continue;
        // Un-broadcast (the one place it happens) and match the input's dtype.
        if (!shapesEqual(gi.shape, inp.shape)) gi = engineHooks.sumToShape(gi, inp.shape);
        if (gi.dtype !== inp.dtype) gi = gi.to(inp.dtype);
        if (inp.gradFn) {
          const prev = grads.get(inp.gradFn);
          grads.set(inp.gradFn, prev ? engineHooks.add(prev, gi) : gi);
          if (inp.retainsGrad) accumulateLeaf(inp, gi);
        } else {
          accumulateLeaf(inp, gi);
        }
      }
      if (!retain) node.release();
    }
  }));
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
