/**
 * Version counters (issue #11 item 16): an in-place write after the forward pass into a tensor
 * that the backward needs raises, as PyTorch's "one of the variables needed for gradient
 * computation has been modified by an inplace operation"; writes into tensors the backward
 * does not read (add's operands) stay allowed, as in PyTorch.
 */
import { describe, expect, it } from 'vitest';

import { noGrad, optim, tensor } from '../../src/index.js';

const MODIFIED = /a tensor needed for the gradient of (\w+) was modified in place/;

describe('version counters', () => {
  it('x.mul(w) then x.add_(10): backward throws naming mul (the issue\'s case; was w.grad = [11, 11])', () => {
    const x = tensor([1, 1]);
    const w = tensor([2, 3], { requiresGrad: true });
    const y = x.mul(w).sum();
    x.add_(10);
    expect(() => y.backward()).toThrow(/gradient of mul was modified in place \(its input of shape \[2\] is at version 1; expected version 0/);
  });

  it('counts writes per storage, shared by views, like torch _version', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const v = x.reshape([4]);
    expect(x._version).toBe(0);
    v.mul_(2);
    expect(x._version).toBe(1);
    x.select(0, 1).fill_(0);
    expect(v._version).toBe(2);
    expect(x.clone()._version).toBe(0);
  });

  it('a write through a view of a saved input is caught too', () => {
    const x = tensor([1, 2, 3]);
    const w = tensor([1, 1, 1], { requiresGrad: true });
    const y = w.mul(x).sum();
    x.slice(0, 0, 1).zero_();
    expect(() => y.backward()).toThrow(MODIFIED);
  });

  it('an op whose gradient does not read the modified tensor still works (add), as in PyTorch', () => {
    const x = tensor([1, 1]);
    const w = tensor([2, 3], { requiresGrad: true });
    const y = x.add(w).sum();
    x.add_(10);
    y.backward();
    expect(Array.from(w.grad!.toTypedArray())).toEqual([1, 1]);
  });

  it('a modified output that the backward reads (exp) is caught', () => {
    const w = tensor([0, 1], { requiresGrad: true });
    const e = w.exp();
    const y = e.sum();
    noGrad(() => e.mul_(2));
    expect(() => y.backward()).toThrow(/gradient of exp .*output/);
  });

  it('an optimizer step between two backwards of a retained graph is caught (params are written in place)', () => {
    for (const make of [(p: ReturnType<typeof tensor>) => new optim.AdamW([p], { lr: 0.1 }), (p: ReturnType<typeof tensor>) => new optim.SGD([p], { lr: 0.1 })]) {
      const w = tensor([0.5, -1], { requiresGrad: true });
      const opt = make(w);
      const y = w.mul(w).sum();
      y.backward(undefined, { retainGraph: true });
      opt.step();
      expect(() => y.backward()).toThrow(/gradient of mul was modified in place/);
    }
  });

  it('modifying a tensor before the forward, or after the backward, is fine', () => {
    const x = tensor([1, 2]);
    x.add_(1);
    const w = tensor([1, 1], { requiresGrad: true });
    const y = x.mul(w).sum();
    y.backward();
    x.add_(1);
    expect(Array.from(w.grad!.toTypedArray())).toEqual([2, 3]);
  });
});
