/**
 * The autograd graph as data, DOT, Mermaid and a self-contained SVG/HTML — micrograd's
 * `draw_dot` (Karpathy 2020) for tensors.
 *
 * `graph(loss)` walks the recorded graph back from `loss` (through each tensor's `gradFn` and the
 * node's inputs, as backward does) and returns every tensor (shape, dtype, whether it requires
 * grad, its gradient norm once backward ran) and every op (name, the gradient formula of the op
 * table, its inputs and output). The walk works before and after `backward()`: a node drops its
 * saved tensors when backward frees it, never its inputs.
 *
 * Gradient norms: a leaf's come from its `.grad` (and so does a non-leaf's that called
 * `retainGrad()`); an intermediate tensor's gradient lives only during the backward, so pass the
 * trace of that backward (`graph(loss, { trace: traceBackward(loss) })`) to see them too.
 *
 * This module and its renderer (graph-svg.ts) use no Node API: they run in a browser as they are.
 */
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Node } from './engine.js';
import { OPS } from './define.js';
import type { BackwardTrace } from './trace.js';
import { renderGraphHtml, renderGraphSvg, type SvgOptions } from './graph-svg.js';
import { tensorLines } from './graph-format.js';

// ---- identities shared by the graph and the trace ---------------------------------------------

const ids = new WeakMap<object, number>();
let nextId = 1;

/**
 * A stable number for a tensor or a graph node (the same object always gets the same number;
 * tensors and nodes never share one), so a {@link BackwardTrace} step and the graph's op match.
  * @example
  * ```ts
  * const x = tensor([1, 2]);
  * objectId(x) === objectId(x);            // true: stable for the object's lifetime
  * objectId(x) !== objectId(tensor([1, 2])); // true
  * ```
 */
export function objectId(o: Tensor | Node): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

/**
 * The gradient formula of an op in the op table (`gradient` of its declaration), or null.
 * @example
 * ```ts
 * gradientFormula('mul');                 // 'y = a·b;  ∂L/∂a = g·b, ∂L/∂b = g·a'
 * gradientFormula('noSuchOp');            // null
 * ```
 */
export function gradientFormula(opName: string): string | null {
  return OPS.get(opName)?.gradient ?? null;
}

/** Names for tensors: an object or a Map or pairs, e.g. `model.namedParameters()`. */
export type TensorNames = Record<string, Tensor> | Map<string, Tensor> | Iterable<readonly [string, Tensor]>;

/** Tensor → name from a {@link TensorNames} (the first name wins when one tensor has two). */
export function nameMap(names: TensorNames | undefined): Map<Tensor, string> {
  const out = new Map<Tensor, string>();
  if (names === undefined || names === null) return out;
  const pairs: Iterable<readonly [string, Tensor]> = names instanceof Map
    ? names.entries()
    : Symbol.iterator in (names as object)
      ? (names as Iterable<readonly [string, Tensor]>)
      : Object.entries(names as Record<string, Tensor>);
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'object' || pair[1] === null) {
      throw new Error(`graph: names must map strings to tensors (an object, a Map or [name, tensor] pairs), got an entry ${describe(pair)}`);
    }
    if (!out.has(pair[1])) out.set(pair[1], pair[0]);
  }
  return out;
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v)?.slice(0, 60) ?? String(v);
  } catch {
    return String(v);
  }
}

// ---- the graph as data ------------------------------------------------------------------------

/** A tensor of the graph. */
export interface GraphTensor {
  /** Always 'tensor' (tells tensors from ops in a mixed list). */
  readonly kind: 'tensor';
  /** {@link objectId} of the tensor. */
  readonly id: number;
  /** Its name (from `names`), or null. */
  readonly name: string | null;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its dtype. */
  readonly dtype: DType;
  /** Whether it requires grad (a leaf that does is a parameter: its box is bold and marked ∇). */
  readonly requiresGrad: boolean;
  /** No op made it (an input, a parameter or a constant). */
  readonly isLeaf: boolean;
  /** 'output' (the root), 'parameter' (a leaf that requires grad), 'input' (a leaf that does not) or 'intermediate'. */
  readonly role: 'output' | 'parameter' | 'input' | 'intermediate';
  /** The values, for a tensor of at most `maxValues` elements that is still alive; else null. */
  readonly values: readonly number[] | null;
  /** ‖∂L/∂t‖₂ (leaf: from `.grad`; intermediate: from the trace or a retained grad), or null when unknown. */
  readonly gradNorm: number | null;
  /** The gradient's values for a small tensor (as `values`), or null. */
  readonly gradValues: readonly number[] | null;
  /** The op that produced it ({@link GraphOp.id}), or null for a leaf. */
  readonly producer: number | null;
}

/** An op (a recorded node) of the graph. */
export interface GraphOp {
  /** Always 'op'. */
  readonly kind: 'op';
  /** {@link objectId} of the node (the `opId` of its {@link BackwardStep}). */
  readonly id: number;
  /** The op's name in the op table, e.g. 'mul'. */
  readonly op: string;
  /** Its gradient formula from the op table, or null (an op outside the table). */
  readonly formula: string | null;
  /** Its tensor inputs' ids, in argument order (a tensor used twice appears twice). */
  readonly inputs: readonly number[];
  /** The output tensor's id. */
  readonly output: number;
}

/** A directed edge: tensor → op (an input) or op → tensor (its output). */
export interface GraphEdge {
  /** The source's id (a tensor for an input edge, an op for an output edge). */
  readonly from: number;
  /** The target's id. */
  readonly to: number;
  /** For a tensor → op edge, the input's position; for op → tensor, -1. */
  readonly slot: number;
}

/** Options of {@link graph}. */
export interface GraphOptions {
  /** Names to show: `{ x1, w1 }`, a Map, or `model.namedParameters()`. */
  names?: TensorNames;
  /** The trace of the backward of this graph: gives intermediate tensors their gradient norms. */
  trace?: BackwardTrace;
  /** Show values (and gradient values) of tensors with at most this many elements (default 4; 0: none). */
  maxValues?: number;
  /** Refuse graphs with more nodes than this (default 20 000), as a guard against drawing a whole model by mistake. */
  maxNodes?: number;
}

/** The autograd graph of one root: data plus renderers. */
export interface AutogradGraph {
  /** The root tensor's id. */
  readonly root: number;
  /** Every tensor, root first then in the order of the walk (depth first, inputs in order). */
  readonly tensors: readonly GraphTensor[];
  /** Every op, in the same walk order (the root's producer first). */
  readonly ops: readonly GraphOp[];
  /** Every edge: tensor → op for each op input, op → tensor for its output. */
  readonly edges: readonly GraphEdge[];
  /** A tensor or an op by id. */
  get(id: number): GraphTensor | GraphOp | undefined;
  /** Graphviz DOT (`dot -Tsvg`), left to right like micrograd's draw_dot. */
  toDot(): string;
  /** A Mermaid flowchart (renders in GitHub Markdown inside a ```mermaid block). */
  toMermaid(): string;
  /** A self-contained SVG, laid out here (layered, left to right; no Graphviz needed). */
  toSvg(opts?: SvgOptions): string;
  /** A self-contained HTML page: the SVG, and a backward stepper when the graph has a trace. */
  toHtml(opts?: SvgOptions & { title?: string }): string;
}

/** ‖v‖₂ of a tensor's values, accumulated in float64. */
export function l2norm(t: Tensor): number {
  const a = t.toTypedArray();
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

function smallValues(t: Tensor, max: number): number[] | null {
  if (max <= 0 || t.numel() > max || t.storage.disposed) return null;
  return Array.from(t.toTypedArray(), Number);
}

/**
 * The autograd graph that produced `root`: its ops, tensors (shapes, dtypes, which require grad,
 * gradient norms after backward) and edges, with `.toDot()`, `.toMermaid()`, `.toSvg()` and
 * `.toHtml()`.
 *
 * @example
 * import { graph, tensor } from 'tensorgrad';
 * const x = tensor([2], { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward();
 * const g = graph(y, { names: { x, y } });
 * g.ops.map((o) => o.op);   // ['sum', 'mul']
 * g.toDot();                // digraph autograd { rankdir=LR; … }
 */
export function graph(root: Tensor, opts: GraphOptions = {}): AutogradGraph {
  if (root === null || typeof root !== 'object' || !('gradFn' in root) || !('shape' in root)) {
    throw new Error(`graph: expected a Tensor (e.g. a loss), got ${root === null ? 'null' : typeof root}`);
  }
  const maxValues = opts.maxValues ?? 4;
  const maxNodes = opts.maxNodes ?? 20_000;
  if (!Number.isInteger(maxValues) || maxValues < 0) throw new Error(`graph: maxValues must be a non-negative integer, got ${maxValues}`);
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new Error(`graph: maxNodes must be a positive integer, got ${maxNodes}`);
  const names = nameMap(opts.names);
  const trace = opts.trace;

  const tensors: GraphTensor[] = [];
  const ops: GraphOp[] = [];
  const edges: GraphEdge[] = [];
  const seenT = new Set<Tensor>();
  const seenN = new Set<Node>();
  const stack: Tensor[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seenT.has(t)) continue;
    seenT.add(t);
    if (seenT.size + seenN.size > maxNodes) {
      throw new Error(`graph: the graph has more than maxNodes = ${maxNodes} tensors and ops; draw a smaller part (e.g. one layer) or raise maxNodes`);
    }
    const id = objectId(t);
    const node = t.gradFn;
    const fromTrace = trace?.gradOf(id);
    const retained = t.grad && (t.isLeaf || t.retainsGrad) && !t.grad.storage.disposed ? t.grad : null;
    const gradNorm = retained ? l2norm(retained) : fromTrace ? fromTrace.norm : null;
    const gradValues = retained ? smallValues(retained, maxValues) : fromTrace?.values ?? null;
    tensors.push({
      kind: 'tensor', id, name: names.get(t) ?? null, shape: [...t.shape], dtype: t.dtype, requiresGrad: t.requiresGrad,
      isLeaf: node === null,
      role: t === root ? 'output' : node ? 'intermediate' : t.requiresGrad ? 'parameter' : 'input',
      values: smallValues(t, maxValues), gradNorm, gradValues: gradValues && gradValues.length <= maxValues ? gradValues : null,
      producer: node ? objectId(node) : null,
    });
    if (!node || seenN.has(node)) continue;
    seenN.add(node);
    const nid = objectId(node);
    ops.push({ kind: 'op', id: nid, op: node.opName, formula: gradientFormula(node.opName), inputs: node.inputs.map((x) => objectId(x)), output: id });
    edges.push({ from: nid, to: id, slot: -1 });
    node.inputs.forEach((x, slot) => edges.push({ from: objectId(x), to: nid, slot }));
    // push in reverse so that input 0 is walked first
    for (let i = node.inputs.length - 1; i >= 0; i--) stack.push(node.inputs[i]!);
  }
  const byId = new Map<number, GraphTensor | GraphOp>();
  for (const t of tensors) byId.set(t.id, t);
  for (const o of ops) byId.set(o.id, o);
  const g: AutogradGraph = {
    root: objectId(root), tensors, ops, edges,
    get: (id) => byId.get(id),
    toDot: () => toDot(g),
    toMermaid: () => toMermaid(g),
    toSvg: (o) => renderGraphSvg(g, o),
    toHtml: (o) => renderGraphHtml(g, trace ?? null, o),
  };
  return g;
}

// ---- DOT and Mermaid --------------------------------------------------------------------------

function dotString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

const FILL: Record<GraphTensor['role'], string> = {
  output: '#fde2c8', parameter: '#d4f0d4', input: '#eeeeee', intermediate: '#ffffff',
};

function toDot(g: AutogradGraph): string {
  const out = ['digraph autograd {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];'];
  for (const t of g.tensors) {
    const label = tensorLines(t).join('\n');
    out.push(`  t${t.id} [shape=box, style="rounded,filled${t.requiresGrad && t.isLeaf ? ',bold' : ''}", fillcolor=${dotString(FILL[t.role])}, label=${dotString(label)}];`);
  }
  for (const o of g.ops) {
    out.push(`  op${o.id} [shape=ellipse, style=filled, fillcolor="#dbe8fb", label=${dotString(o.op)}${o.formula ? `, tooltip=${dotString(o.formula)}` : ''}];`);
  }
  for (const e of g.edges) {
    out.push(e.slot < 0 ? `  op${e.from} -> t${e.to};` : `  t${e.from} -> op${e.to};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/** Mermaid label text: quotes and markup characters as entity codes, lines joined with <br/>. */
function mermaidLabel(lines: string[]): string {
  const esc = (s: string) => s.replace(/[#"<>&`]/g, (c) => `#${c.charCodeAt(0)};`);
  return '"' + lines.map(esc).join('<br/>') + '"';
}

function toMermaid(g: AutogradGraph): string {
  const out = ['flowchart LR'];
  for (const t of g.tensors) out.push(`  t${t.id}[${mermaidLabel(tensorLines(t))}]`);
  for (const o of g.ops) out.push(`  op${o.id}((${mermaidLabel([o.op])}))`);
  for (const e of g.edges) out.push(e.slot < 0 ? `  op${e.from} --> t${e.to}` : `  t${e.from} --> op${e.to}`);
  const classes: Record<string, string[]> = { output: [], parameter: [], input: [] };
  for (const t of g.tensors) if (t.role !== 'intermediate') classes[t.role]!.push(`t${t.id}`);
  out.push('  classDef output fill:#fde2c8,stroke:#c07020;', '  classDef parameter fill:#d4f0d4,stroke:#2a7a2a;', '  classDef input fill:#eeeeee,stroke:#888888;', '  classDef op fill:#dbe8fb,stroke:#4a6fa5;');
  for (const [cls, members] of Object.entries(classes)) if (members.length) out.push(`  class ${members.join(',')} ${cls};`);
  if (g.ops.length) out.push(`  class ${g.ops.map((o) => `op${o.id}`).join(',')} op;`);
  return out.join('\n') + '\n';
}
