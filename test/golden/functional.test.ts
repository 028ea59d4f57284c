/**
 * Golden tests: softmax, logSoftmax, gelu (erf and tanh forms) and logsumexp against PyTorch
 * float64 (test/fixtures/golden/functional.json, made by gen_golden.py; schema in README.md).
 *
 * For every case: y = op(x) is compared with `outputs.y`, and ∂ sum(y ⊙ gy) / ∂x from backward
 * with `grads.x`. Everything runs in float64.
 *
 * Tolerances: rtol 1e-12 with atol 1e-15 for values of order 1. PyTorch's CPU kernels sum in
 * another order (vectorised), so agreement is to a few ulps, not bit-exact (README,
 * "Numerically delicate cases"). The extreme-row cases hold outputs of order 1e4 (logSoftmax,
 * logsumexp) and probabilities that underflow to 0, so the absolute tolerance is scaled by the
 * largest magnitude of the compared tensor: atol = 1e-15·max|expected|, i.e. a few ulps of the
 * largest entry, which is the accuracy float64 arithmetic can give there.
 *
 * One looser case: the gradient of logsumexp over the ±1e4 rows. PyTorch's backward computes
 * exp(x − logsumexp(x)) with x ≈ −1e4 and logsumexp ≈ −9998.39, a subtraction that loses up to
 * ulp(1e4) ≈ 1.8e-12 in the exponent, so the reference itself is only good to ~2e-12 relative
 * (we measure 7.5e-13 against it); rtol 5e-12 there.
 */
import { describe, expect, it } from 'vitest';

import { gelu, logSoftmax, logsumexp, softmax, type Tensor } from '../../src/index.js';
import { expectClose, fixtureTensor, fixtureValues, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  name: string;
  op: 'softmax' | 'log_softmax' | 'gelu' | 'logsumexp';
  ref: string;
  params: { dim?: number | number[]; keepdim?: boolean; approximate?: 'none' | 'tanh' };
  inputs: { x: FixtureTensor };
  outputs: { y: FixtureTensor };
  gy: { y: FixtureTensor };
  grads: { x: FixtureTensor };
}

const fixture = loadFixture<{ meta: { dtype: string }; cases: Case[] }>('golden/functional.json');

function apply(c: Case, x: Tensor): Tensor {
  switch (c.op) {
    case 'softmax': return softmax(x, c.params.dim as number);
    case 'log_softmax': return logSoftmax(x, c.params.dim as number);
    case 'gelu': return gelu(x, { approximate: c.params.approximate! });
    case 'logsumexp': return logsumexp(x, c.params.dim as number[], c.params.keepdim!);
  }
}

const RTOL = 1e-12;
const ATOL_SCALE = 1e-15;

/** Looser relative tolerances for gradients whose reference is less accurate (see the header). */
const GRAD_RTOL: Record<string, number> = {
  'logsumexp_extreme_rows_dim-1_keepdimfalse': 5e-12,
  'logsumexp_extreme_rows_dim-1_keepdimtrue': 5e-12,
};

function tolerance(expected: FixtureTensor, rtol = RTOL): { rtol: number; atol: number } {
  const maxAbs = fixtureValues(expected).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { rtol, atol: ATOL_SCALE * Math.max(1, maxAbs) };
}

describe('functional golden values (PyTorch float64)', () => {
  it('the fixture is float64 and holds every op', () => {
    expect(fixture.meta.dtype).toBe('float64');
    expect(new Set(fixture.cases.map((c) => c.op))).toEqual(new Set(['softmax', 'log_softmax', 'gelu', 'logsumexp']));
    expect(fixture.cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      const x = fixtureTensor(c.inputs.x, { requiresGrad: true, name: `${c.name}.x` });
      const y = apply(c, x);
      expect(y.dtype).toBe('float64');
      expectClose(y, fixtureTensor(c.outputs.y), { ...tolerance(c.outputs.y), what: `${c.name} y` });
      y.mul(fixtureTensor(c.gy.y)).sum().backward();
      expect(x.grad).not.toBeNull();
      expectClose(x.grad!, fixtureTensor(c.grads.x), { ...tolerance(c.grads.x, GRAD_RTOL[c.name]), what: `${c.name} grad x` });
    });
  }

  it('extreme rows: a row of all −1e4 gives a uniform softmax of exactly 0.2 and logsumexp −1e4 + log 5', () => {
    const c = fixture.cases.find((k) => k.name === 'softmax_extreme_rows_dim-1')!;
    const x = fixtureTensor(c.inputs.x);
    const rows = x.toArray() as number[][];
    const r = rows.findIndex((row) => row.every((v) => v === -1e4));
    expect(r).toBeGreaterThanOrEqual(0);
    expect(softmax(x, -1).select(0, r).toArray()).toEqual([0.2, 0.2, 0.2, 0.2, 0.2]);
    expectClose(logsumexp(x, [-1]).select(0, r), -1e4 + Math.log(5), { rtol: 1e-15, atol: 0 });
  });
});
