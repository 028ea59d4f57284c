/**
 * The backward pass, step by step: which op's gradient formula ran, in which order (reverse
 * topological — each op after every op that uses its output), and the gradients that went in and
 * came out (shapes and ‖·‖₂ norms). Backpropagation (Rumelhart, Hinton & Williams 1986) as a list
 * one can read in a terminal or step through in a page.
 *
 *   traceBackward(loss)        runs loss.backward() and returns the steps (a {@link BackwardTrace})
 *   TENSORGRAD_TRACE=1         prints every backward pass's steps to stderr as it ends
 *
 * Notation: y is the op's output, g = ∂L/∂y the gradient that reached it, ∂L/∂xᵢ what it sends to
 * input i (after un-broadcasting to xᵢ's shape). The formulas come from the op table (the
 * `gradient` field of each declaration, define.ts). No Node API here: it runs in a browser too
 * (there the environment variable is simply absent).
 */
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { backwardObservers, type BackwardObserver, type BackwardOptions } from './backward.js';
import { gradientFormula, l2norm, nameMap, objectId, type TensorNames } from './graph.js';
import { fmtNum, fmtShapeDtype } from './graph-format.js';

/** A gradient as the trace keeps it: shape, dtype, ‖·‖₂ and, for a small one, its values. */
export interface GradSummary {
  /** The gradient's shape (the tensor's). */
  readonly shape: readonly number[];
  /** The gradient's dtype (the tensor's). */
  readonly dtype: DType;
  /** ‖g‖₂, accumulated in float64. */
  readonly norm: number;
  /** The values when the gradient has at most `maxValues` elements; else null. */
  readonly values: readonly number[] | null;
}

/** One input's share of a backward step: ∂L/∂xᵢ. */
export interface StepInput {
  /** The input's position among the op's tensor arguments. */
  readonly slot: number;
  /** {@link objectId} of the input tensor (a {@link GraphTensor} id). */
  readonly tensorId: number;
  /** The input's name (from `names`), or null. */
  readonly name: string | null;
  /** The input's shape. */
  readonly shape: readonly number[];
  /** The input is a leaf: this gradient is accumulated into its `.grad`. */
  readonly toLeaf: boolean;
  /** ∂L/∂xᵢ, or null where no gradient flows (the input does not require grad). */
  readonly grad: GradSummary | null;
}

/** One node's backward: the formula that ran and the gradients in and out. */
export interface BackwardStep {
  /** 0-based position in the pass. */
  readonly index: number;
  /** The op's name, e.g. 'tanh'. */
  readonly op: string;
  /** {@link objectId} of the node (a {@link GraphOp} id). */
  readonly opId: number;
  /** The gradient formula from the op table, or null for an op outside it. */
  readonly formula: string | null;
  /** The output tensor's id (null when it was only weakly held and is gone), name and shape. */
  readonly output: { readonly tensorId: number | null; readonly name: string | null; readonly shape: readonly number[]; readonly dtype: DType };
  /** g = ∂L/∂y, the gradient that reached the op (the sum over every use of its output). */
  readonly gradOutput: GradSummary;
  /** ∂L/∂xᵢ for each tensor input, in argument order. */
  readonly inputs: readonly StepInput[];
}

/** A recorded backward pass: its steps in execution order. */
export interface BackwardTrace {
  /** {@link objectId} of the root (the loss). */
  readonly root: number;
  /** The steps in the order they ran (reverse topological). */
  readonly steps: readonly BackwardStep[];
  /** The gradient the pass computed for a tensor: an intermediate's g, a leaf's accumulated `.grad` after the pass. */
  gradOf(tensorId: number): GradSummary | undefined;
  /** The steps as text for a terminal (one block per step). */
  format(): string;
}

/** Options of {@link traceBackward}. */
export interface TraceOptions extends BackwardOptions {
  /** The gradient of the root (needed when it is not a scalar), as `backward(gradient)`. */
  gradient?: Tensor;
  /** Names to show: `{ x1, w1 }`, a Map, or `model.namedParameters()`. */
  names?: TensorNames;
  /** Keep the values of gradients with at most this many elements (default 4; 0: none). */
  maxValues?: number;
}

function summarize(g: Tensor, maxValues: number): GradSummary {
  const values = maxValues > 0 && g.numel() <= maxValues ? Array.from(g.toTypedArray(), Number) : null;
  return { shape: [...g.shape], dtype: g.dtype, norm: l2norm(g), values };
}

/** Records one backward pass (the observer behind traceBackward and TENSORGRAD_TRACE). */
class Recorder implements BackwardObserver {
  readonly steps: BackwardStep[] = [];
  readonly grads = new Map<number, GradSummary>();
  root: Tensor | null = null;
  private readonly leaves = new Map<number, Tensor>();
  private depth = 0;
  constructor(private readonly names: Map<Tensor, string>, private readonly maxValues: number, private readonly onEnd?: (r: Recorder) => void) {}

  begin(root: Tensor): void {
    // a backward inside a hook or formula is not part of this pass: only the outermost is recorded
    if (this.depth++ > 0) return;
    this.root = root;
    this.steps.length = 0;
    this.grads.clear();
    this.leaves.clear();
  }

  step(e: Parameters<BackwardObserver['step']>[0]): void {
    if (this.depth !== 1) return;
    const { node, output, gradOutput, gradInputs } = e;
    const gOut = summarize(gradOutput, this.maxValues);
    if (output) this.grads.set(objectId(output), gOut);
    const inputs = node.inputs.map((x, slot): StepInput => {
      const gi = gradInputs[slot] ?? null;
      if (x.gradFn === null && x.requiresGrad) this.leaves.set(objectId(x), x);
      return {
        slot, tensorId: objectId(x), name: this.names.get(x) ?? null, shape: [...x.shape], toLeaf: x.gradFn === null,
        grad: gi ? summarize(gi, this.maxValues) : null,
      };
    });
    this.steps.push({
      index: this.steps.length, op: node.opName, opId: objectId(node), formula: gradientFormula(node.opName),
      output: {
        tensorId: output ? objectId(output) : null, name: output ? this.names.get(output) ?? null : null,
        shape: [...gradOutput.shape], dtype: gradOutput.dtype,
      },
      gradOutput: gOut, inputs,
    });
  }

  end(root: Tensor): void {
    if (--this.depth > 0) return;
    // leaves: the gradient is their .grad after the pass (summed over uses, after hooks)
    for (const [id, t] of this.leaves) if (t.grad && !t.grad.storage.disposed) this.grads.set(id, summarize(t.grad, this.maxValues));
    if (!root.gradFn && root.grad && !root.grad.storage.disposed) this.grads.set(objectId(root), summarize(root.grad, this.maxValues));
    this.onEnd?.(this);
  }

  result(): BackwardTrace {
    const steps = [...this.steps];
    const grads = new Map(this.grads);
    const root = this.root!;
    const names = this.names;
    return {
      root: objectId(root), steps,
      gradOf: (id) => grads.get(id),
      format: () => formatTrace(root, steps, names),
    };
  }
}

/**
 * Runs `root.backward()` and returns its steps in the order they ran — reverse topological:
 * each op comes after every op that consumed its output — each with the op's gradient formula and
 * the gradient shapes and norms in and out. The gradients land in `.grad` as with `backward()`.
 *
 * @example
 * import { traceBackward, tensor } from 'tensorgrad';
 * const x = tensor([0.5], { requiresGrad: true });
 * const trace = traceBackward(x.tanh().sum(), { names: { x } });
 * trace.steps.map((s) => s.op);   // ['sum', 'tanh']
 * trace.steps[1]!.formula;        // 'y = tanh x;  ∂L/∂x = g·(1 − y²)'
 * console.log(trace.format());
 */
export function traceBackward(root: Tensor, opts: TraceOptions = {}): BackwardTrace {
  if (root === null || typeof root !== 'object' || typeof (root as Tensor).backward !== 'function') {
    throw new Error(`traceBackward: expected a Tensor (e.g. a loss), got ${root === null ? 'null' : typeof root}`);
  }
  const maxValues = opts.maxValues ?? 4;
  if (!Number.isInteger(maxValues) || maxValues < 0) throw new Error(`traceBackward: maxValues must be a non-negative integer, got ${maxValues}`);
  const rec = new Recorder(nameMap(opts.names), maxValues);
  backwardObservers.add(rec);
  try {
    root.backward(opts.gradient, opts.retainGraph === undefined ? {} : { retainGraph: opts.retainGraph });
  } finally {
    backwardObservers.delete(rec);
  }
  return rec.result();
}

function who(name: string | null, id: number | null, shape: readonly number[], dtype: string): string {
  return `${name ?? (id === null ? '(gone)' : `t${id}`)} ${fmtShapeDtype(shape, dtype)}`;
}

function fmtGrad(g: GradSummary): string {
  if (g.values && g.values.length === 1 && g.shape.length === 0) return fmtNum(g.values[0]!);
  return `‖·‖ ${fmtNum(g.norm)}`;
}

/** The text of a trace (what `TENSORGRAD_TRACE=1` prints). */
function formatTrace(root: Tensor, steps: readonly BackwardStep[], names: Map<Tensor, string>): string {
  const lines = [
    `backward from ${who(names.get(root) ?? null, objectId(root), root.shape, root.dtype)}: ${steps.length} step${steps.length === 1 ? '' : 's'} ` +
      '(reverse topological order; g = ∂L/∂y reaching the op, ∂L/∂x sent to each input)',
  ];
  const w = String(steps.length).length;
  for (const s of steps) {
    lines.push(`${String(s.index + 1).padStart(w + 2)}. ${s.op} → ${who(s.output.name, s.output.tensorId, s.output.shape, s.output.dtype)}   g: ${fmtGrad(s.gradOutput)}`);
    const pad = ' '.repeat(w + 4);
    lines.push(`${pad}${s.formula ?? '(no formula in the op table)'}`);
    for (const i of s.inputs) {
      const target = `${i.name ?? `t${i.tensorId}`} [${i.shape.join(',')}]${i.toLeaf ? ' (leaf)' : ''}`;
      lines.push(`${pad}∂L/∂x${sub(i.slot)} → ${target}: ${i.grad ? fmtGrad(i.grad) : 'none (does not require grad)'}`);
    }
  }
  return lines.join('\n');
}

const SUBSCRIPTS = '₀₁₂₃₄₅₆₇₈₉';
function sub(n: number): string {
  return String(n).replace(/\d/g, (d) => SUBSCRIPTS[Number(d)]!);
}

// ---- TENSORGRAD_TRACE=1: print every backward -------------------------------------------------

/** Whether the environment asks for traces (`TENSORGRAD_TRACE` set, not '' or '0'); false in a browser. */
function traceRequested(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.TENSORGRAD_TRACE;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

let printer: Recorder | null = null;

/**
 * Prints every backward pass's trace (to stderr via `console.error`) — what `TENSORGRAD_TRACE=1`
 * switches on at load; `setBackwardTracePrinting(false)` switches it off.
  * @example
  * ```ts
  * setBackwardTracePrinting(true);         // as TENSORGRAD_TRACE=1
  * tensor([1, 2], { requiresGrad: true }).square().sum().backward(); // prints the steps to stderr
  * setBackwardTracePrinting(false);
  * ```
 */
export function setBackwardTracePrinting(on: boolean): void {
  if (on && !printer) {
    printer = new Recorder(new Map(), 4, (r) => console.error(r.result().format()));
    backwardObservers.add(printer);
  } else if (!on && printer) {
    backwardObservers.delete(printer);
    printer = null;
  }
}

if (traceRequested()) setBackwardTracePrinting(true);
