/**
 * Hooks: tensor.registerHook (inspect or replace a gradient; leaves see the total, non-leaves
 * change what flows on; retainGrad keeps the hooked value; handles remove) and
 * module.registerForwardHook (see or replace a module's output).
 */
import { describe, expect, it } from 'vitest';

import { nn, tensor, type Tensor } from '../../src/index.js';

describe('tensor.registerHook', () => {
  it('sees the total gradient of a leaf once and can replace it', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const seen: number[][] = [];
    x.registerHook((g) => { seen.push(g.toArray() as number[]); });
    const h2 = x.registerHook((g) => g.mul(10));
    x.mul(2).add(x.mul(x)).sum().backward(); // ∂/∂x = 2 + 2x
    expect(seen).toEqual([[4, 6, 8]]); // once, with the sum over both uses
    expect(x.grad!.toArray()).toEqual([40, 60, 80]);
    h2.remove();
    x.grad = null;
    x.mul(2).sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 2, 2]);
  });
  it('on a non-leaf changes what flows to the inputs, and retainGrad keeps the hooked value', () => {
    const x = tensor([1, -2], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(3);
    y.retainGrad();
    y.registerHook((g) => g.neg());
    y.mul(y).sum().backward(); // ∂/∂y = 2y = [6, −12] → hooked [−6, 12]
    expect(y.grad!.toArray()).toEqual([-6, 12]);
    expect(x.grad!.toArray()).toEqual([-18, 36]);
  });
  it('runs on the root too, and hooks run in registration order', () => {
    const x = tensor([2], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(x);
    const order: string[] = [];
    y.registerHook((g) => { order.push('a'); return g.mul(2); });
    y.registerHook((g) => { order.push(`b${g.item()}`); });
    y.sum().backward();
    expect(order).toEqual(['a', 'b2']);
    expect(x.grad!.item()).toBe(8); // 2 · 2x
  });
  it('rejects bad hooks and tensors without gradients', () => {
    expect(() => tensor([1]).registerHook(() => undefined)).toThrow(/doesn't require gradient/);
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.registerHook(5 as unknown as () => undefined)).toThrow(/expected a function/);
    x.registerHook(() => tensor([1, 2, 3]));
    expect(() => x.sum().backward()).toThrow(/returned a gradient of shape \[3\], expected \[2\]/);
  });
});

describe('module.registerForwardHook', () => {
  it('sees every forward and can replace the output; remove() stops it', () => {
    const lin = new nn.Linear(3, 2);
    const outs: Tensor[] = [];
    const h = lin.registerForwardHook((m, args, out) => {
      expect(m).toBe(lin);
      expect((args[0] as Tensor).shape).toEqual([4, 3]);
      outs.push(out);
    });
    const x = tensor(Array.from({ length: 4 }, () => [1, 2, 3]));
    const y = lin.forward(x);
    expect(outs).toHaveLength(1);
    expect(outs[0]).toBe(y);
    const h2 = lin.registerForwardHook((_m, _a, out: Tensor) => out.mul(0));
    expect(lin.forward(x).abs().sum().item()).toBe(0);
    h2.remove();
    h.remove();
    expect(lin.forward(x).allclose(y)).toBe(true);
    expect(outs).toHaveLength(2);
    // the hook wrapper is not a parameter, a buffer or a state-dict entry
    expect(Object.keys(lin.stateDict())).toEqual(['weight', 'bias']);
  });
  it('works inside a model (the hooked layer is called by its parent)', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU());
    let calls = 0;
    [...seq.children()][1]!.registerForwardHook(() => { calls++; });
    seq.forward(tensor([[1, -1]]));
    expect(calls).toBe(1);
  });
});
