/**
 * F.distillationLoss (Hinton et al. 2015): golden values and gradients vs PyTorch
 * (test/fixtures/compress/distill.json, made by gen_distill.py), and the edges: every position
 * ignored, T = 1, α = 0 / 1, −∞ logits, the T² scaling, argument errors. The gradient property
 * against float64 central differences is in test/nn/functional.property.test.ts.
 */
import { describe, expect, it } from 'vitest';

import { F, fromTypedArray, Tensor } from '../../src/index.js';
import { expectClose, fixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  name: string;
  params: { temperature: number; alpha: number; ignoreIndex: number; reduction: F.Reduction };
  inputs: { student: FixtureTensor; teacher: FixtureTensor; target: FixtureTensor };
  outputs: { loss: FixtureTensor };
  gy: { loss: FixtureTensor };
  grads: { student: FixtureTensor };
}

const f64 = (values: readonly number[], shape: readonly number[], requiresGrad = false): Tensor =>
  fromTypedArray(Float64Array.from(values), shape, { requiresGrad });
const i32 = (values: readonly number[], shape: readonly number[]): Tensor => fromTypedArray(Int32Array.from(values), shape);

describe('distillationLoss golden (PyTorch float64)', () => {
  const { cases } = loadFixture<{ cases: Case[] }>('compress/distill.json');
  it('has the cases', () => expect(cases.length).toBeGreaterThanOrEqual(9));
  for (const c of cases) {
    it(c.name, () => {
      const s = fixtureTensor(c.inputs.student, { requiresGrad: true });
      const t = fixtureTensor(c.inputs.teacher, { requiresGrad: true });
      const y = fixtureTensor(c.inputs.target, { dtype: 'int32' });
      const loss = F.distillationLoss(s, t, y, c.params);
      expectClose(loss, fixtureTensor(c.outputs.loss), { rtol: 1e-10, atol: 1e-12, what: `${c.name} loss` });
      loss.mul(fixtureTensor(c.gy.loss)).sum().backward();
      expectClose(s.grad!, fixtureTensor(c.grads.student), { rtol: 1e-9, atol: 1e-12, what: `${c.name} ∂/∂student` });
      expect(t.grad, 'the teacher must get no gradient').toBeNull();
    });
  }

  it('float32 logits agree with the float64 reference to float32 precision', () => {
    const c = cases[0]!;
    const s = fixtureTensor(c.inputs.student, { dtype: 'float32' });
    const t = fixtureTensor(c.inputs.teacher, { dtype: 'float32' });
    const loss = F.distillationLoss(s, t, fixtureTensor(c.inputs.target, { dtype: 'int32' }), c.params);
    expect(loss.dtype).toBe('float32');
    expectClose(loss, fixtureTensor(c.outputs.loss), { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('distillationLoss edges', () => {
  const zs = [1, -2, 0.5, 3, 0, -1, 2, 2, -0.5]; // (3, 3)
  const zt = [0.2, 1, -1, 2, 2.5, 0, -3, 1, 1];

  it('α = 0 is exactly crossEntropy; α = 1 is exactly T²·KL batchmean (F.klDiv), at T = 1 and T = 3', () => {
    const y = i32([2, 0, 1], [3]);
    for (const T of [1, 3]) {
      const s = f64(zs, [3, 3]);
      const t = f64(zt, [3, 3]);
      expectClose(F.distillationLoss(s, t, y, { temperature: T, alpha: 0 }), F.crossEntropy(s, y), { rtol: 1e-15 });
      const kl = F.klDiv(s.div(T).logSoftmax(-1), t.div(T).softmax(-1), { reduction: 'batchmean' }).mul(T * T);
      expectClose(F.distillationLoss(s, t, y, { temperature: T, alpha: 1 }), kl, { rtol: 1e-13 });
    }
  });

  it('student = teacher at α = 1 gives loss 0 and a zero gradient', () => {
    const s = f64(zs, [3, 3], true);
    const loss = F.distillationLoss(s, f64(zs, [3, 3]), i32([0, 1, 2], [3]), { alpha: 1, temperature: 2 });
    expect(Math.abs(loss.item())).toBeLessThan(1e-15);
    loss.backward();
    for (const g of s.grad!.toTypedArray()) expect(Math.abs(g)).toBeLessThan(1e-15);
  });

  it('every position ignored: mean is NaN with zero (finite) gradients, sum is 0, none is all 0 — as crossEntropy', () => {
    const y = i32([-100, -100, -100], [3]);
    const s = f64(zs, [3, 3], true);
    const mean = F.distillationLoss(s, f64(zt, [3, 3]), y);
    expect(Number.isNaN(mean.item())).toBe(true);
    expect(Number.isNaN(F.crossEntropy(f64(zs, [3, 3]), y).item())).toBe(true);
    mean.backward();
    expect([...s.grad!.toTypedArray()]).toEqual(Array(9).fill(0));
    expect(F.distillationLoss(s, f64(zt, [3, 3]), y, { reduction: 'sum' }).item()).toBe(0);
    expect([...F.distillationLoss(s, f64(zt, [3, 3]), y, { reduction: 'none' }).toTypedArray()]).toEqual([0, 0, 0]);
  });

  it('ignored positions contribute nothing, even with NaN / ±∞ logits there (padding); mean divides by the kept count', () => {
    const bad = [NaN, Infinity, -Infinity];
    const s = f64([...zs.slice(0, 6), ...bad], [1, 3, 3], true); // (B=1, L=3, C=3), position 2 is padding
    const t = f64([...zt.slice(0, 6), ...bad], [1, 3, 3]);
    const loss = F.distillationLoss(s, t, i32([1, 0, -100], [1, 3]), { temperature: 2, alpha: 0.5 });
    const ref = F.distillationLoss(f64(zs.slice(0, 6), [2, 3]), f64(zt.slice(0, 6), [2, 3]), i32([1, 0], [2]), { temperature: 2, alpha: 0.5 });
    expectClose(loss, ref, { rtol: 1e-15 });
    loss.backward();
    expect([...s.grad!.toTypedArray()].slice(6)).toEqual([0, 0, 0]);
    expect([...s.grad!.toTypedArray()].every(Number.isFinite)).toBe(true);
  });

  it('a teacher probability of exactly 0 (logit −∞) contributes 0·log 0 = 0; α = 0 ignores an infinite KL', () => {
    const t = f64([-Infinity, 1, 2], [1, 3]);
    const s = f64([0.3, 1, 2], [1, 3], true);
    const loss = F.distillationLoss(s, t, i32([1], [1]), { alpha: 1, temperature: 1 });
    const p = [Math.exp(1), Math.exp(2)].map((v, _i, a) => v / (a[0]! + a[1]!));
    const q = [0.3, 1, 2].map(Math.exp);
    const qs = q.reduce((a, b) => a + b);
    const want = p[0]! * Math.log(p[0]! / (q[1]! / qs)) + p[1]! * Math.log(p[1]! / (q[2]! / qs));
    expect(loss.item()).toBeCloseTo(want, 12);
    loss.backward();
    expect([...s.grad!.toTypedArray()].every(Number.isFinite)).toBe(true);
    // a student −∞ where the teacher has mass: KL = +∞; with α = 0 that term is not computed
    const sInf = f64([-Infinity, 1, 2], [1, 3]);
    expect(F.distillationLoss(sInf, f64([0, 1, 2], [1, 3]), i32([2], [1]), { alpha: 1 }).item()).toBe(Infinity);
    expect(Number.isFinite(F.distillationLoss(sInf, f64([0, 1, 2], [1, 3]), i32([2], [1]), { alpha: 0 }).item())).toBe(true);
  });

  it('T² keeps the soft-term gradient magnitude independent of T: T²·∂KL/∂z_s → ((z_s − z̄_s) − (z_t − z̄_t))/(C·N) as T grows', () => {
    const N = 3;
    const C = 3;
    const limit = zs.map((_, k) => {
      const r = Math.floor(k / C);
      const mean = (a: number[]) => a.slice(r * C, r * C + C).reduce((x, y) => x + y) / C;
      return (zs[k]! - mean(zs) - (zt[k]! - mean(zt))) / (C * N);
    });
    const gradAt = (T: number): number[] => {
      const s = f64(zs, [N, C], true);
      F.distillationLoss(s, f64(zt, [N, C]), i32([0, 1, 2], [N]), { alpha: 1, temperature: T }).backward();
      return [...s.grad!.toTypedArray()];
    };
    const err = (T: number) => Math.max(...gradAt(T).map((g, k) => Math.abs(g - limit[k]!)));
    expect(err(1000)).toBeLessThan(1e-3); // the next term of the expansion is O(1/T)
    expect(err(1000)).toBeLessThan(err(100) / 5);
    expect(err(100)).toBeLessThan(err(10) / 5);
    const norm = (g: number[]) => Math.hypot(...g);
    expect(norm(gradAt(20)) / norm(gradAt(200))).toBeGreaterThan(0.9);
    expect(norm(gradAt(20)) / norm(gradAt(200))).toBeLessThan(1.1);
  });

  it('throws clear errors for bad arguments', () => {
    const s = f64(zs, [3, 3]);
    const t = f64(zt, [3, 3]);
    const y = i32([0, 1, 2], [3]);
    expect(() => F.distillationLoss(s, t, y, { temperature: 0 })).toThrow(/temperature must be a finite number > 0, got 0/);
    expect(() => F.distillationLoss(s, t, y, { alpha: 1.5 })).toThrow(/alpha must be in \[0, 1\], got 1.5/);
    expect(() => F.distillationLoss(s, f64(zt.slice(0, 6), [2, 3]), y)).toThrow(/teacherLogits must have the student's shape \[3, ?3\]/);
    expect(() => F.distillationLoss(s, t, i32([0, 1], [2]))).toThrow(/target must have shape \[3\]/);
    expect(() => F.distillationLoss(s, t, i32([0, 1, 3], [3]))).toThrow(/target 3 is out of bounds/);
    expect(() => F.distillationLoss(s, t, f64([0, 1, 2], [3]))).toThrow(/target must be int32/);
    expect(() => F.distillationLoss(s, t, y, { reduction: 'batchmean' as F.Reduction })).toThrow(/reduction must be/);
  });
});
