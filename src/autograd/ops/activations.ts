/**
 * Smooth elementwise functions used by recent papers, each one opcode (backends/opcodes.ts, where
 * the scalar formula lives) and one declaration here:
 *
 *   log1p(x)  = ln(1 + x)                         ∂/∂x = 1/(1 + x)
 *   expm1(x)  = eˣ − 1                            ∂/∂x = eˣ = y + 1
 *   softplus  = ln(1 + e^(βx))/β   (Dugas et al. 2001; x when βx > threshold, as torch)
 *                                                 ∂/∂x = σ(βx)  (1 above the threshold)
 *   silu(x)   = x·σ(x)   (SiLU/swish: Elfwing et al. 2018; Ramachandran et al. 2017)
 *                                                 ∂/∂x = σ(x)·(1 + x·(1 − σ(x)))
 *   mish(x)   = x·tanh(softplus(x))   (Misra 2019)
 *                                                 ∂/∂x = tanh(sp) + x·σ(x)·(1 − tanh²(sp))
 */
import { defineOp } from '../define.js';
import { add, checkFloat, mapK, mul, sigmoid, sub, tanh, where, gt, div, scalarTensor } from '../ops.js';
import type { Tensor } from '../../tensor/tensor.js';

/** ln(1 + x), accurate for small x (torch.log1p). */
export const log1p = defineOp({
  name: 'log1p',
  method: true,
  doc: 'ln(1 + x), accurate for small x',
  gradient: 'y = ln(1 + x);  ∂L/∂x = g/(1 + x)',
  forward: 'log1p',
  backward: ({ inputs: [x] }, g): (Tensor | null)[] => [div(g, add(x!, 1))],
});

/** eˣ − 1, accurate for small x (torch.expm1). */
export const expm1 = defineOp({
  name: 'expm1',
  method: true,
  doc: 'eˣ − 1, accurate for small x',
  gradient: 'y = eˣ − 1;  ∂L/∂x = g·(y + 1)',
  forward: 'expm1',
  backward: ({ output: y }, g): (Tensor | null)[] => [mul(g, add(y, 1))],
});

/**
 * Softplus, ln(1 + e^(βx))/β — a smooth ReLU (torch.nn.functional.softplus); where βx > threshold
 * it returns x (as torch does, for numerical stability).
 * @example
 * softplus(tensor([-1, 0, 30])); // [0.3133, 0.6931, 30]
 */
export const softplus = defineOp({
  name: 'softplus',
  doc: 'ln(1 + e^(βx))/β, x where βx > threshold',
  gradient: 'y = ln(1 + e^(βx))/β;  ∂L/∂x = g·σ(βx) (g where βx > threshold)',
  forward: (ctx: { attrs: { beta: number; threshold: number } }, x: Tensor, beta = 1, threshold = 20): Tensor => {
    checkFloat('softplus', x);
    if (typeof beta !== 'number' || !Number.isFinite(beta) || beta === 0) throw new Error(`softplus: beta must be a finite non-zero number, got ${beta}`);
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new Error(`softplus: threshold must be a number, got ${threshold}`);
    ctx.attrs = { beta, threshold };
    const z = beta === 1 ? x : mul(x, beta);
    const sp = mapK('softplus', [z], x.dtype, 'softplus');
    const y = beta === 1 ? sp : div(sp, beta);
    return threshold === Infinity ? y : where(gt(z, threshold), x, y);
  },
  backward: ({ inputs: [x], attrs: { beta, threshold } }, g): (Tensor | null)[] => {
    const z = beta === 1 ? x! : mul(x!, beta);
    const d = sigmoid(z);
    return [mul(g, threshold === Infinity ? d : where(gt(z, threshold), scalarTensor(1, d.dtype, d.device), d))];
  },
});

/** SiLU / swish: x·σ(x) (torch.nn.functional.silu). */
export const silu = defineOp({
  name: 'silu',
  doc: 'x·σ(x) (SiLU, swish)',
  gradient: 'y = x·σ(x);  ∂L/∂x = g·σ(x)·(1 + x·(1 − σ(x)))',
  forward: 'silu',
  backward: ({ inputs: [x] }, g): (Tensor | null)[] => {
    const s = sigmoid(x!);
    return [mul(g, mul(s, add(1, mul(x!, sub(1, s)))))];
  },
});

/** Mish: x·tanh(softplus(x)) (torch.nn.functional.mish). */
export const mish = defineOp({
  name: 'mish',
  doc: 'x·tanh(softplus(x))',
  gradient: 'y = x·tanh(sp(x));  ∂L/∂x = g·(tanh(sp) + x·σ(x)·(1 − tanh²(sp)))',
  forward: 'mish',
  backward: ({ inputs: [x] }, g): (Tensor | null)[] => {
    const t = tanh(mapK('softplus', [x!], x!.dtype, 'mish'));
    return [mul(g, add(t, mul(mul(x!, sigmoid(x!)), sub(1, mul(t, t)))))];
  },
});
