/**
 * The fused bias of nn.Linear: addmm(bias, a, b) = bias + a·b, on the CPU one GEMM that
 * accumulates onto rows pre-filled with the bias (CpuBackend.addmm), equals its composite twin
 * add(matmul(a, b), bias) in value and gradient; F.linear / nn.Linear, which now run through
 * addmm, give the outputs and gradients of the hand-written matmul + add.
 *
 * Tolerances: float64 1e-12 relative to Σ|terms| (the fused sum adds the bias first, the
 * composite last: the roundings differ); float32 (K + 2)·2⁻²³ of the same bound. Integer-valued
 * inputs are exact either way and must agree bitwise.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { addmm } from '../../src/autograd/ops.js';
import { CpuBackend } from '../../src/backends/cpu/index.js';
import { F, fromTypedArray, Generator, matmul, nn, registerBackend, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';

type FloatDType = 'float32' | 'float64';

/** A CPU backend without the fused kernel: addmm must fall back to matmul + add. */
class NoAddmmCpu extends CpuBackend {
  override readonly name = 'cpu-noaddmm' as 'cpu';
}
const noAddmm = new NoAddmmCpu();
Object.defineProperty(noAddmm, 'addmm', { value: undefined });
registerBackend('cpu-noaddmm', noAddmm);

function randT(gen: Generator, shape: number[], dtype: FloatDType, integer = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float64Array.from({ length: n }, () => (integer ? Math.round(gen.normal() * 4) : gen.normal()));
  return fromTypedArray(v, shape, { dtype });
}

/** |fused − composite| ≤ tol·(|bias| + Σₖ|a·b|) elementwise. */
function expectAddmmClose(got: Tensor, want: Tensor, bias: Tensor, a: Tensor, b: Tensor, dtype: FloatDType, what: string): void {
  const mag = matmul(a.abs(), b.abs()).add(bias.abs()).toTypedArray();
  const K = a.shape[1]!;
  const tol = dtype === 'float64' ? 1e-12 : (K + 2) * 2 ** -23;
  const g = got.toTypedArray(), w = want.toTypedArray();
  expect(got.shape).toEqual(want.shape);
  for (let e = 0; e < g.length; e++) {
    if (!(Math.abs(g[e]! - w[e]!) <= tol * mag[e]! + 1e-300)) throw new Error(`${what}: element ${e} = ${g[e]}, want ${w[e]}`);
  }
}

/** a [M, K] and b [K, N] as contiguous tensors or as transposed (stride-swapped) views. */
function operands(gen: Generator, M: number, K: number, N: number, dtype: FloatDType, aT: boolean, bT: boolean, integer = false) {
  const a = aT ? randT(gen, [K, M], dtype, integer).transpose(0, 1) : randT(gen, [M, K], dtype, integer);
  const b = bT ? randT(gen, [N, K], dtype, integer).transpose(0, 1) : randT(gen, [K, N], dtype, integer);
  return { a, b };
}

describe('addmm on the CPU == add(matmul(a, b), bias)', () => {
  it('values, random shapes (both GEMM sizes: naive and blocked), transposed operands, strided bias', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 40 }),
        fc.boolean(), fc.boolean(), fc.boolean(), fc.constantFrom<FloatDType>('float32', 'float64'), fc.nat(1000),
        (M, K, N, aT, bT, stepBias, dtype, seed) => {
          const gen = new Generator(seed);
          const { a, b } = operands(gen, M, K, N, dtype, aT, bT);
          // a bias read with stride 2 (every other element of a longer vector)
          const bias = stepBias ? randT(gen, [2 * N], dtype).reshape([N, 2]).select(1, 0) : randT(gen, [N], dtype);
          const fused = addmm(bias, a, b);
          expect(fused.gradFn).toBeNull(); // nothing requires grad: nothing recorded
          expectAddmmClose(fused, matmul(a, b).add(bias), bias, a, b, dtype, `${M}×${K}×${N} ${dtype}`);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('integer-valued inputs: bitwise equal (exact sums), and equal to the fallback without the kernel', () => {
    const gen = new Generator(5);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [M, K, N] of [[1, 1, 1], [3, 5, 7], [64, 48, 80], [130, 70, 9]] as const) {
        const { a, b } = operands(gen, M, K, N, dtype, true, false, true);
        const bias = randT(gen, [N], dtype, true);
        const want = matmul(a, b).add(bias).toTypedArray();
        expect(addmm(bias, a, b).toTypedArray()).toEqual(want);
        const other = addmm(bias.to('cpu-noaddmm'), a.to('cpu-noaddmm'), b.to('cpu-noaddmm'));
        expect(other.device).toBe('cpu-noaddmm');
        expect(other.toTypedArray()).toEqual(want);
      }
    }
  });

  it('gradients equal the composite (∂bias = Σ rows of g, ∂a = g·bᵀ, ∂b = aᵀ·g)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const gen = new Generator(9);
      const { a, b } = operands(gen, 37, 19, 23, dtype, false, true);
      const bias = randT(gen, [23], dtype);
      const gy = randT(gen, [37, 23], dtype);
      const run = (f: (t: Tensor, x: Tensor, y: Tensor) => Tensor) => {
        const [t, x, y] = [bias, a, b].map((v) => v.detach().requiresGrad_());
        f(t!, x!, y!).mul(gy).sum().backward();
        return [t!.grad!, x!.grad!, y!.grad!];
      };
      const fused = run((t, x, y) => addmm(t, x, y));
      const composite = run((t, x, y) => matmul(x, y).add(t));
      const tol = dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-5 };
      fused.forEach((g, i) => expectClose(g, composite[i]!, { ...tol, what: `${dtype} gradient of input ${i}` }));
    }
  });

  it('records an addmm node only where the fused kernel ran', () => {
    const gen = new Generator(1);
    const a = randT(gen, [2, 3], 'float64').requiresGrad_(), b = randT(gen, [3, 4], 'float64'), bias = randT(gen, [4], 'float64');
    expect(addmm(bias, a, b).gradFn?.opName).toBe('addmm');
    const ad = a.detach().to('cpu-noaddmm').requiresGrad_();
    expect(addmm(bias.to('cpu-noaddmm'), ad, b.to('cpu-noaddmm')).gradFn?.opName).toBe('add');
  });

  it('names the shapes or dtypes that do not fit', () => {
    const z = (shape: number[], dtype: FloatDType | 'int32' = 'float32') => fromTypedArray(new Float64Array(shape.reduce((p, d) => p * d, 1)), shape, { dtype });
    expect(() => addmm(z([4]), z([2, 3]), z([5, 4]))).toThrow(/addmm: cannot multiply \[2, ?3\] by \[5, ?4\]/);
    expect(() => addmm(z([5]), z([2, 3]), z([3, 4]))).toThrow(/bias must be 1-D of length N = 4.*bias \[5\]/);
    expect(() => addmm(z([2, 4]), z([2, 3]), z([3, 4]))).toThrow(/bias must be 1-D/);
    expect(() => addmm(z([4]), z([2, 2, 3]), z([3, 4]))).toThrow(/a and b must be 2-D matrices.*a \[2, ?2, ?3\]/);
    expect(() => addmm(z([4]), z([2, 3], 'int32'), z([3, 4], 'int32'))).toThrow(/floating-point a/);
    expect(() => addmm(z([4], 'float64'), z([2, 3]), z([3, 4]))).toThrow(/one dtype, got float64, float32 and float32/);
  });
});

describe('F.linear / nn.Linear through addmm == matmul + add by hand', () => {
  it('outputs and gradients of x, weight and bias (2-D and 3-D inputs)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const lead of [[64], [2, 7]]) {
        const gen = new Generator(3);
        const layer = new nn.Linear(33, 20, { dtype });
        const x0 = randT(gen, [...lead, 33], dtype);
        const gy = randT(gen, [...lead, 20], dtype);

        const x = x0.detach().requiresGrad_();
        const y = layer.forward(x);
        expect(y.shape).toEqual([...lead, 20]);
        if (lead.length === 1) expect(y.gradFn?.opName).toBe('addmm'); // the fused path ran
        y.mul(gy).sum().backward();

        // the composite: x2·Wᵀ + b with separate matmul and add
        const [xh, wh, bh] = [x0, layer.weight, layer.bias!].map((t) => t.detach().requiresGrad_());
        const yh = matmul(xh!.reshape([-1, 33]), wh!.transpose(0, 1)).add(bh!).reshape([...lead, 20]);
        yh.mul(gy).sum().backward();

        const tol = dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-5 };
        expectClose(y, yh, { ...tol, what: `${dtype} output` });
        expectClose(x.grad!, xh!.grad!, { ...tol, what: `${dtype} ∂x` });
        expectClose(layer.weight.grad!, wh!.grad!, { ...tol, what: `${dtype} ∂W` });
        expectClose(layer.bias!.grad!, bh!.grad!, { ...tol, what: `${dtype} ∂b` });
      }
    }
  });

  it('still takes the composite path for a bias of another dtype or shape, and without a bias', () => {
    const gen = new Generator(4);
    const x = randT(gen, [5, 3], 'float32'), w = randT(gen, [2, 3], 'float32');
    const want = matmul(x, w.transpose(0, 1));
    expectClose(F.linear(x, w), want, { rtol: 0, atol: 0 });
    const b64 = randT(gen, [2], 'float64');
    const y64 = F.linear(x, w, b64); // promotes, like torch's type promotion for add
    expect(y64.dtype).toBe('float64');
    expectClose(y64, want.to('float64').add(b64), { rtol: 0, atol: 0 });
    const b2 = randT(gen, [1, 2], 'float32'); // broadcasts
    expectClose(F.linear(x, w, b2), want.add(b2), { rtol: 0, atol: 0 });
  });
});
