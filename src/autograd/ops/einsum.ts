/**
 * einsum (Einstein summation), torch.einsum semantics: `einsum('ij,jk->ik', a, b)`.
 *
 * The equation is parsed once into a plan; executing it uses only differentiable ops, so the
 * gradient is the composition's:
 *   1. per operand: repeated letters take a diagonal (x ⊙ identity mask, summed: 'ii->i', traces),
 *      letters used nowhere else and not in the output are summed out;
 *   2. operands are combined left to right: shared letters that are still needed become batch
 *      dims, shared letters that are not are contracted — permute to [batch, left, k] and
 *      [batch, k, right], reshape, one batched matmul, reshape back;
 *   3. the remaining letters not in the output are summed, the rest permuted into output order.
 * '...' stands for the broadcast dims (right-aligned across operands); without '->' the output is
 * '...' followed by the letters used exactly once, in alphabetical order (upper case first).
 * Size-1 dims broadcast against the same letter's size elsewhere.
 */
import { defineComposite } from '../define.js';
import { eyeOn } from './host.js';
import { fmtShape } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { expand, matmul, mul, permute, reshape, sum } from '../ops.js';

/** A label: a letter, or '…k' for the k-th broadcast dim counted from the right of '...'. */
type Label = string;

interface Plan {
  inputs: Label[][];
  output: Label[];
}

const LETTER = /[A-Za-z]/;

function parseTerm(term: string, which: string): { labels: string[]; ellipsisAt: number } {
  const labels: string[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const ch = term[i]!;
    if (ch === '.') {
      if (term.slice(i, i + 3) !== '...') throw new Error(`einsum: ${which} '${term}' has a '.' that is not part of an ellipsis '...'`);
      if (ellipsisAt >= 0) throw new Error(`einsum: ${which} '${term}' has more than one ellipsis '...'`);
      ellipsisAt = labels.length;
      i += 2;
    } else if (LETTER.test(ch)) labels.push(ch);
    else throw new Error(`einsum: invalid subscript '${ch}' in ${which} '${term}': subscripts must be letters A-Z, a-z (or '...')`);
  }
  return { labels, ellipsisAt };
}

/** Parses an equation against the operands' ranks into per-operand labels and output labels. */
function parseEinsum(equation: string, ranks: readonly number[]): Plan {
  if (typeof equation !== 'string') throw new Error(`einsum: equation must be a string, got ${typeof equation}`);
  const eq = equation.replace(/\s+/g, '');
  const arrows = eq.split('->');
  if (arrows.length > 2) throw new Error(`einsum: equation '${equation}' has more than one '->'`);
  const lhs = arrows[0]!;
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) {
    throw new Error(`einsum: equation '${equation}' has ${terms.length} operand term${terms.length === 1 ? '' : 's'} but ${ranks.length} operand${ranks.length === 1 ? ' was' : 's were'} given`);
  }
  let nEll = 0;
  const parsed = terms.map((t, i) => {
    const p = parseTerm(t, `operand ${i} term`);
    const r = ranks[i]!;
    if (p.ellipsisAt < 0 && p.labels.length !== r) {
      throw new Error(`einsum: operand ${i} has ${r} dimension${r === 1 ? '' : 's'} but its term '${t}' names ${p.labels.length}`);
    }
    if (p.ellipsisAt >= 0 && p.labels.length > r) {
      throw new Error(`einsum: operand ${i} has ${r} dimension${r === 1 ? '' : 's'} but its term '${t}' names ${p.labels.length} besides '...'`);
    }
    if (p.ellipsisAt >= 0) nEll = Math.max(nEll, r - p.labels.length);
    return p;
  });
  const ell = (k: number): Label[] => Array.from({ length: k }, (_, j) => `…${k - 1 - j}`);
  const inputs = parsed.map((p, i) => {
    if (p.ellipsisAt < 0) return p.labels;
    const k = ranks[i]! - p.labels.length;
    return [...p.labels.slice(0, p.ellipsisAt), ...ell(k), ...p.labels.slice(p.ellipsisAt)];
  });
  const hasEllipsis = parsed.some((p) => p.ellipsisAt >= 0);
  let output: Label[];
  if (arrows.length === 2) {
    const o = parseTerm(arrows[1]!, 'output');
    const seen = new Set<string>();
    for (const l of o.labels) {
      if (seen.has(l)) throw new Error(`einsum: output subscript '${l}' appears more than once in '${arrows[1]}'`);
      seen.add(l);
      if (!terms.some((t) => t.includes(l))) throw new Error(`einsum: output subscript '${l}' does not appear in any operand term of '${equation}'`);
    }
    if (o.ellipsisAt >= 0 && !hasEllipsis) throw new Error(`einsum: the output has '...' but no operand term of '${equation}' does`);
    if (o.ellipsisAt < 0 && hasEllipsis && nEll > 0) throw new Error(`einsum: operand terms of '${equation}' use '...' (covering ${nEll} dims), so the output must include '...' too`);
    output = o.ellipsisAt < 0 ? o.labels : [...o.labels.slice(0, o.ellipsisAt), ...ell(nEll), ...o.labels.slice(o.ellipsisAt)];
  } else {
    const counts = new Map<string, number>();
    for (const t of parsed) for (const l of t.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l).sort();
    output = [...ell(nEll), ...once];
  }
  return { inputs, output };
}

interface Term {
  t: Tensor;
  labels: Label[];
}

/** Takes the diagonal over repeated labels of one operand: x ⊙ δ summed over the repeat. */
function diagonalize(term: Term, i: number): Term {
  let { t, labels } = term;
  for (;;) {
    const dup = labels.findIndex((l, j) => labels.indexOf(l) !== j);
    if (dup < 0) return { t, labels };
    const first = labels.indexOf(labels[dup]!);
    const n = t.shape[first]!;
    if (t.shape[dup] !== n) {
      throw new Error(`einsum: subscript '${labels[dup]}' is repeated in operand ${i} for dims of different sizes (${n} and ${t.shape[dup]}, shape ${fmtShape(t.shape)})`);
    }
    // mask δ[a, b] shaped to line up with dims (first, dup); multiply, sum out dup
    const shape = t.shape.map((_, j) => (j === first || j === dup ? n : 1));
    const eyeT = eyeOn(n, t.dtype, t.device);
    t = sum(mul(t, reshape(eyeT, shape)), dup);
    labels = labels.filter((_, j) => j !== dup);
  }
}

/** Sums out labels of a term that no other term and not the output needs. */
function sumUnneeded(term: Term, needed: Set<Label>): Term {
  const drop = term.labels.map((l, j) => (needed.has(l) ? -1 : j)).filter((j) => j >= 0);
  if (drop.length === 0) return term;
  return { t: sum(term.t, drop), labels: term.labels.filter((l) => needed.has(l)) };
}

/** Combines two terms with one batched matmul. */
function contract(a: Term, b: Term, keep: Set<Label>): Term {
  const inB = new Set(b.labels), inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const kdim = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const left = a.labels.filter((l) => !inB.has(l));
  const right = b.labels.filter((l) => !inA.has(l));
  const size = (l: Label) => Math.max(a.t.shape[a.labels.indexOf(l)] ?? 1, b.t.shape[b.labels.indexOf(l)] ?? 1);
  const arrange = (x: Term, order: Label[]): Tensor => {
    const p = permute(x.t, order.map((l) => x.labels.indexOf(l)));
    return expand(p, order.map(size)); // shared size-1 dims broadcast
  };
  const prodOf = (ls: Label[]) => ls.reduce((p, l) => p * size(l), 1);
  const B = batch.map(size), M = prodOf(left), K = prodOf(kdim), N = prodOf(right);
  const at = reshape(arrange(a, [...batch, ...left, ...kdim]), [...B, M, K]); // (batch…, M, K)
  const bt = reshape(arrange(b, [...batch, ...kdim, ...right]), [...B, K, N]); // (batch…, K, N)
  const y = matmul(at, bt); // (batch…, M, N)
  return { t: reshape(y, [...B, ...left.map(size), ...right.map(size)]), labels: [...batch, ...left, ...right] };
}

/**
 * Einstein summation over the operands, as torch.einsum: e.g. 'ij,jk->ik' (matmul), 'bij,bjk->bik'
 * (batched), 'ii->' (trace), 'ii->i' (diagonal), 'i,j->ij' (outer), '...ij->...ji' (batched
 * transpose), 'ij' (implicit output: letters used once, alphabetically).
 * @example
 * einsum('ij,j->i', randn([2, 3]), randn([3])); // matrix–vector product, shape [2]
 */
export const einsum = defineComposite({
  name: 'einsum',
  doc: "Einstein summation, e.g. einsum('ij,jk->ik', a, b)",
  forward: (equation: string, ...operands: (Tensor | readonly Tensor[])[]): Tensor => {
    const ops = (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
    if (ops.length === 0) throw new Error('einsum: expected at least one operand');
    ops.forEach((o, i) => {
      if (!(o instanceof Tensor)) throw new Error(`einsum: operand ${i} must be a tensor, got ${o === null ? 'null' : typeof o}`);
    });
    const plan = parseEinsum(equation, ops.map((o) => o.ndim));
    // check that each label has one size (or 1, which broadcasts)
    const sizes = new Map<Label, number>();
    plan.inputs.forEach((ls, i) => ls.forEach((l, j) => {
      const s = ops[i]!.shape[j]!;
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1) sizes.set(l, s);
      else if (s !== 1 && s !== prev) {
        const k = ls.indexOf(l);
        if (k < j) {
          throw new Error(`einsum: subscript '${l}' is repeated in operand ${i} for dims of different sizes (${ops[i]!.shape[k]} and ${s}, shape ${fmtShape(ops[i]!.shape)})`);
        }
        const what = l.startsWith('…') ? 'a broadcast dim of ...' : `subscript '${l}'`;
        throw new Error(`einsum: ${what} has size ${s} in operand ${i} (shape ${fmtShape(ops[i]!.shape)}) but size ${prev} elsewhere`);
      }
    }));
    let terms: Term[] = ops.map((t, i) => diagonalize({ t, labels: plan.inputs[i]! }, i));
    const out = new Set(plan.output);
    const neededBy = (skip: number) => {
      const s = new Set<Label>(out);
      terms.forEach((tm, j) => { if (j !== skip) tm.labels.forEach((l) => s.add(l)); });
      return s;
    };
    terms = terms.map((tm, i) => sumUnneeded(tm, neededBy(i)));
    let acc = terms[0]!;
    for (let i = 1; i < terms.length; i++) {
      const later = new Set<Label>(out);
      for (let j = i + 1; j < terms.length; j++) terms[j]!.labels.forEach((l) => later.add(l));
      acc = contract(acc, terms[i]!, later);
    }
    acc = sumUnneeded(acc, out);
    // output order; labels of the output that no operand dim carries after broadcasting are size 1 already
    let y = permute(acc.t, plan.output.map((l) => acc.labels.indexOf(l)));
    const target = plan.output.map((l) => sizes.get(l) ?? 1);
    if (y.shape.some((s, i) => s !== target[i])) y = expand(y, target);
    return y;
  },
});


