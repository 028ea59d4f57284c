/**
 * The autograd engine (src/autograd/engine.ts records the graph, backward.ts runs it) on hand-computed values: fan-out accumulation,
 * un-broadcasting, accumulation across backward calls, recording switches, retainGraph /
 * retainGrad, deep graphs, in-place guards and gradient dtypes.
 */
import { describe, expect, it } from 'vitest';

import {
  add, enableGrad, isGradEnabled, noGrad, ones, setGradEnabled, Tensor, tensor, zeros,
} from '../../src/index.js';
import { expectClose, errorOf } from '../helpers.js';

const f64 = (data: Parameters<typeof tensor>[0], requiresGrad = true): Tensor => tensor(data, { dtype: 'float64', requiresGrad });

describe('gradient accumulation', () => {
  it('fan-out: y = x·x + x gives dy/dx = 2x + 1', () => {
    const x = f64([-1.5, 0, 2, 3.25]);
    x.mul(x).add(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([-2, 1, 5, 7.5]);
  });

  it('a diamond: a = 2x, b = x², y = a·b = 2x³ gives dy/dx = 6x²', () => {
    const x = f64([1, -2, 0.5]);
    const a = x.mul(2);
    const b = x.mul(x);
    a.mul(b).sum().backward();
    expect(x.grad!.toArray()).toEqual([6, 24, 1.5]);
  });

  it('a tensor used many times receives the sum of every path', () => {
    const x = f64(3);
    let y = x;
    for (let i = 0; i < 5; i++) y = y.add(x); // y = 6x
    y.backward();
    expect(x.grad!.item()).toBe(6);
  });

  it('grads accumulate across two backward calls, zeroGrad resets them', () => {
    const x = f64([1, 2]);
    x.mul(3).sum().backward();
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([3 + 2, 3 + 4]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.mul(5).sum().backward();
    expect(x.grad!.toArray()).toEqual([5, 5]);
  });

  it('inputs that do not require grad get no grad', () => {
    const x = f64([1, 2]);
    const c = f64([3, 4], false);
    x.mul(c).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 4]);
    expect(c.grad).toBeNull();
  });

  it('the leaf grad is a fresh tensor, not an alias of the gradient passed in', () => {
    const x = f64([1, 2]);
    const g = f64([10, 20], false);
    x.backward(g);
    expect(x.grad!.toArray()).toEqual([10, 20]);
    expect(x.grad!.storage).not.toBe(g.storage);
    noGrad(() => g.fill_(0));
    expect(x.grad!.toArray()).toEqual([10, 20]);
  });
});

describe('un-broadcasting', () => {
  it('[3,1] + [1,4]: each input receives the gradient summed over its broadcast dims', () => {
    const a = f64([[1], [2], [3]]);
    const b = f64([[10, 20, 30, 40]]);
    const gy = tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], { dtype: 'float64' });
    add(a, b).backward(gy);
    expect(a.grad!.shape).toEqual([3, 1]);
    expect(a.grad!.toArray()).toEqual([[10], [26], [42]]); // row sums
    expect(b.grad!.shape).toEqual([1, 4]);
    expect(b.grad!.toArray()).toEqual([[15, 18, 21, 24]]); // column sums
  });

  it('scalar + tensor: the 0-d input gets the total', () => {
    const s = f64(2);
    const t = f64([[1, 2], [3, 4]]);
    s.add(t).mul(t).sum().backward(); // y = Σ (s + t)·t
    expect(s.grad!.shape).toEqual([]);
    expect(s.grad!.item()).toBe(10); // Σ t
    expect(t.grad!.toArray()).toEqual([[4, 6], [8, 10]]); // s + 2t
  });

  it('leading dims are summed away: [4] against [2,3,4]', () => {
    const b = f64([1, 2, 3, 4]);
    const x = f64(Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => [1, 1, 1, 1])), false);
    x.mul(b).sum().backward();
    expect(b.grad!.toArray()).toEqual([6, 6, 6, 6]);
  });

  it('mul by a broadcast operand: grad of [2,1] from [2,3]', () => {
    const a = f64([[2], [3]]);
    const b = f64([[1, 2, 3], [4, 5, 6]]);
    a.mul(b).sum().backward();
    expect(a.grad!.toArray()).toEqual([[6], [15]]);
    expect(b.grad!.toArray()).toEqual([[2, 2, 2], [3, 3, 3]]);
  });
});

describe('recording switches', () => {
  it('noGrad stops recording; enableGrad nested inside turns it back on; both restore', () => {
    const x = f64([1, 2]);
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const y = x.mul(2);
      expect(y.requiresGrad).toBe(false);
      expect(y.gradFn).toBeNull();
      enableGrad(() => {
        expect(isGradEnabled()).toBe(true);
        expect(x.mul(2).requiresGrad).toBe(true);
        noGrad(() => expect(x.mul(2).requiresGrad).toBe(false));
        expect(isGradEnabled()).toBe(true);
      });
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
  });

  it('noGrad restores the previous state when its function throws', () => {
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });

  it('noGrad returns the function value', () => {
    expect(noGrad(() => 42)).toBe(42);
  });

  it('setGradEnabled switches globally', () => {
    try {
      setGradEnabled(false);
      expect(f64([1]).mul(2).requiresGrad).toBe(false);
    } finally {
      setGradEnabled(true);
    }
    expect(f64([1]).mul(2).requiresGrad).toBe(true);
  });

  it('backward on a result computed under noGrad is a clear error', () => {
    const x = f64([1, 2]);
    const y = noGrad(() => x.mul(2).sum());
    expect(() => y.backward()).toThrow(/does not require grad/);
  });

  it('detach shares data but cuts the graph', () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(2);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    expect(d.storage).toBe(y.storage);
    // gradient flows only through the attached path: z = y·detach(y) → dz/dx = 2·detach(y)
    y.mul(d).sum().backward();
    expect(x.grad!.toArray()).toEqual([4, 8, 12]);
  });
});

describe('errors', () => {
  it('requiresGrad on an int or bool tensor', () => {
    expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(
      'requiresGrad: only floating-point tensors can require gradients, got dtype int32',
    );
    const b = tensor([true]);
    expect(() => { b.requiresGrad = true; }).toThrow(/got dtype bool/);
  });

  it('turning requiresGrad off on a non-leaf', () => {
    const y = f64([1]).mul(2);
    expect(() => { y.requiresGrad = false; }).toThrow(/only change requiresGrad of leaf tensors/);
  });

  it('backward on a non-scalar without a gradient', () => {
    const y = f64([1, 2, 3]).mul(2);
    expect(errorOf(() => y.backward())).toBe(
      'backward: grad can be implicitly created only for scalar outputs, got shape [3]; pass a gradient of that shape',
    );
  });

  it('backward with a gradient of the wrong shape', () => {
    const y = f64([[1, 2, 3]]).mul(2);
    expect(errorOf(() => y.backward(zeros([3], { dtype: 'float64' })))).toBe(
      'backward: gradient has shape [3] but the output has shape [1,3]',
    );
  });

  it('backward with an explicit gradient weights the outputs', () => {
    const x = f64([1, 2, 3]);
    x.mul(x).backward(tensor([1, 0, -1], { dtype: 'float64' }));
    expect(x.grad!.toArray()).toEqual([2, 0, -6]);
  });
});

describe('retainGraph and retainGrad', () => {
  it('a second backward without retainGraph throws an error that mentions retainGraph', () => {
    const x = f64([1, 2]);
    const y = x.mul(x).sum();
    y.backward();
    expect(() => y.backward()).toThrow(/retainGraph/);
  });

  it('with retainGraph the second backward runs and the grads double', () => {
    const x = f64([1, 2]);
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    expect(x.grad!.toArray()).toEqual([2, 4]);
    y.backward();
    expect(x.grad!.toArray()).toEqual([4, 8]);
    // the last backward did not retain: a third one fails
    expect(() => y.backward()).toThrow(/second time/);
  });

  it('backward frees the saved tensors of the graph', () => {
    const x = f64([1, 2]);
    const y = x.mul(x);
    const node = y.gradFn!;
    y.sum().backward();
    expect(node.released).toBe(true);
    expect(node.saved).toEqual([]);
  });

  it('retainGrad keeps the grad of a non-leaf; other non-leaves keep none', () => {
    const x = f64([1, 2, 3]);
    const h = x.mul(2).retainGrad();
    const k = h.mul(h); // fan-out through h
    const other = k.add(1);
    other.sum().backward();
    expect(h.grad!.toArray()).toEqual([4, 8, 12]); // 2h
    expect(x.grad!.toArray()).toEqual([8, 16, 24]); // 2h·2
    expect(k.grad).toBeNull();
    expect(h.isLeaf).toBe(false);
  });

  it('retainGrad on the root keeps ∂root/∂root = 1', () => {
    const y = f64([1, 2]).mul(2).sum().retainGrad();
    y.backward();
    expect(y.grad!.item()).toBe(1);
  });

  it('retainGrad on a tensor that does not require grad is an error', () => {
    expect(() => f64([1], false).retainGrad()).toThrow(/does not require grad/);
  });
});

describe('deep graphs', () => {
  it('a chain of 100 000 ops backpropagates without overflowing the stack', () => {
    const x = f64(1);
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.mul(1.000001);
    y.backward();
    expectClose(x.grad!.item(), Math.pow(1.000001, 100_000), { rtol: 1e-12, what: 'd/dx of x·1.000001^100000' });
  });
});

describe('in-place ops', () => {
  it('on a leaf that requires grad they error, unless inside noGrad', () => {
    const x = f64([1, 2]);
    expect(() => x.add_(1)).toThrow(
      'add_: a leaf tensor that requires grad is being used in an in-place operation; wrap the update in noGrad()',
    );
    for (const f of [() => x.mul_(2), () => x.sub_(1), () => x.div_(2), () => x.fill_(0), () => x.zero_(), () => x.copy_(tensor([1, 1])), () => x.clamp_(0, 1)]) {
      expect(f).toThrow(/in-place operation/);
    }
    expect(x.toArray()).toEqual([1, 2]); // nothing was written
    noGrad(() => x.add_(1).mul_(2));
    expect(x.toArray()).toEqual([4, 6]);
    expect(x.requiresGrad).toBe(true);
  });

  it('on a tensor that is part of a recorded graph they error', () => {
    const y = f64([1, 2]).mul(2);
    expect(() => y.add_(1)).toThrow(/part of a recorded graph/);
  });

  it('on tensors that do not require grad they just work', () => {
    const t = tensor([1, 2, 3]);
    t.add_(tensor([1, 1, 1]), 2).mul_(3);
    expect(t.toArray()).toEqual([9, 12, 15]);
  });
});

describe('gradient dtypes', () => {
  it('a float32 leaf gets a float32 grad, even through float64 ops', () => {
    const x = tensor([1, 2], { requiresGrad: true }); // float32
    const w = tensor([0.5, 0.25], { dtype: 'float64' });
    const y = x.mul(w).sum();
    expect(y.dtype).toBe('float64');
    y.backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.toArray()).toEqual([0.5, 0.25]);
  });

  it('a float64 leaf gets a float64 grad', () => {
    const x = f64([1, 2]);
    x.mul(3).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
  });

  it('a float64 leaf used by a float32 op (cast) gets a float64 grad', () => {
    const x = f64([1, 2]);
    x.float().mul(ones([2])).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(x.grad!.toArray()).toEqual([1, 1]);
  });

  it('an explicit gradient of another dtype is cast to the output dtype', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.backward(tensor([3, 4], { dtype: 'float64' }));
    expect(x.grad!.dtype).toBe('float32');
  });
});
