/**
 * The op-level golden cases that the browser test (test/browser/run.ts) runs inside the page and
 * in Node, with this one function on both sides: softmax, logSoftmax, GELU, logsumexp,
 * layerNorm, the losses and scaled dot-product attention from test/fixtures/golden (PyTorch
 * float64 references). The runner compares the page's numbers with Node's (bit for bit) and both
 * with PyTorch's (the golden tests' tolerances).
 */
import { F, fromTypedArray, gelu, logSoftmax, logsumexp, softmax, type Tensor } from '../src/browser.js';
import type { FixtureTensor, GoldenCase, GoldenResult } from './protocol.js';

function decode(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`golden: unexpected value ${JSON.stringify(v)}`);
}

/** A fixture tensor: floats as float64 (requiring grad when asked), integers as int32, bools as bool. */
export function fixtureTensor(ft: FixtureTensor, requiresGrad = false): Tensor {
  const values = ft.data.map(decode);
  if (ft.dtype === 'bool') return fromTypedArray(Uint8Array.from(values), ft.shape, { dtype: 'bool' });
  if (!ft.dtype.startsWith('float') && !requiresGrad) return fromTypedArray(Int32Array.from(values), ft.shape, { dtype: 'int32' });
  return fromTypedArray(Float64Array.from(values), ft.shape, { dtype: 'float64', requiresGrad });
}

function apply(c: GoldenCase, x: Record<string, Tensor>): Record<string, Tensor> {
  const p = c.params as Record<string, never>;
  switch (c.op) {
    case 'softmax': return { y: softmax(x.x!, p.dim) };
    case 'log_softmax': return { y: logSoftmax(x.x!, p.dim) };
    case 'gelu': return { y: gelu(x.x!, { approximate: p.approximate }) };
    case 'logsumexp': return { y: logsumexp(x.x!, p.dim, p.keepdim) };
    case 'layer_norm': return { y: F.layerNorm(x.x!, p.normalized_shape, { weight: x.weight, bias: x.bias, eps: p.eps }) };
    case 'cross_entropy':
      return { y: F.crossEntropy(x.input!, x.target!, { weight: x.weight, ignoreIndex: p.ignore_index, labelSmoothing: p.label_smoothing, reduction: p.reduction }) };
    case 'nll_loss': return { y: F.nllLoss(x.input!, x.target!, { weight: x.weight, ignoreIndex: p.ignore_index, reduction: p.reduction }) };
    case 'mse_loss': return { y: F.mseLoss(x.input!, x.target!, { reduction: p.reduction }) };
    case 'attention': {
      const kind = String(p.mask_kind);
      const { output, weights } = F.attentionWithWeights(x.q!, x.k!, x.v!, {
        attnMask: x.mask ?? x.keep_mask ?? null, isCausal: kind.includes('causal'), scale: p.scale,
      });
      return { y: output, probs: weights };
    }
    default:
      throw new Error(`golden: no runner for op ${c.op}`);
  }
}

const plain = (t: Tensor) => ({ shape: [...t.shape], data: Array.from(t.toTypedArray(), Number) });

/** Runs one case: outputs, then the gradients of Σ_k sum(y_k ⊙ gy_k) for `gradNames`. */
export function runGoldenCase(c: GoldenCase): GoldenResult {
  try {
    const x: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(c.inputs)) x[k] = fixtureTensor(v, c.gradNames.includes(k));
    const y = apply(c, x);
    const outputs = Object.fromEntries(Object.entries(y).map(([k, t]) => [k, plain(t)]));
    let total: Tensor | null = null;
    for (const [k, gy] of Object.entries(c.gy)) {
      const term = y[k]!.mul(fixtureTensor(gy)).sum();
      total = total ? total.add(term) : term;
    }
    const grads: GoldenResult['grads'] = {};
    if (total) {
      total.backward();
      for (const k of c.gradNames) {
        const g = x[k]!.grad;
        if (g) grads[k] = plain(g);
      }
    }
    return { name: c.name, outputs, grads };
  } catch (e) {
    return { name: c.name, outputs: {}, grads: {}, error: e instanceof Error ? e.message : String(e) };
  }
}
