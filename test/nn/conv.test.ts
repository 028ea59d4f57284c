/**
 * nn.Conv1d / MaxPool1d / AvgPool1d: the layers are the functional ops with their parameters
 * (shapes and init as torch), and a TextCNN (Kim 2014) built from them trains.
 */
import { describe, expect, it } from 'vitest';

import { cat, F, manualSeed, nn, optim, randn, tensor, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';

describe('nn.Conv1d and pooling layers', () => {
  it('Conv1d holds weight (C_out, C_in/groups, K) and bias, initialised U(±1/√fan_in), and is F.conv1d', () => {
    manualSeed(1);
    const conv = new nn.Conv1d(4, 6, 3, { padding: 1, groups: 2 });
    expect(conv.weight.shape).toEqual([6, 2, 3]);
    expect(conv.bias!.shape).toEqual([6]);
    const bound = 1 / Math.sqrt(2 * 3);
    for (const p of [conv.weight, conv.bias!]) {
      expect(Math.max(...(p.toTypedArray() as Float32Array).map(Math.abs))).toBeLessThanOrEqual(bound);
    }
    expect(Object.keys(conv.stateDict())).toEqual(['weight', 'bias']);
    const x = randn([2, 4, 7]);
    expectClose(conv.forward(x), F.conv1d(x, conv.weight, conv.bias, { padding: 1, groups: 2 }), { rtol: 0, atol: 0, what: 'Conv1d = F.conv1d' });
    expect(new nn.Conv1d(3, 5, 2, { bias: false }).bias).toBeNull();
    expect(() => new nn.Conv1d(3, 4, 2, { groups: 2 })).toThrow(/divisible by groups \(2\)/);
    expect(() => new nn.Conv1d(3, 4, 0)).toThrow(/kernelSize must be a positive integer, got 0/);
  });
  it('pooling layers default the stride to the kernel size', () => {
    const x = tensor([[[1, 5, 2, 4, 3, 0]]]);
    expect(new nn.MaxPool1d(2).forward(x).toArray()).toEqual([[[5, 4, 3]]]);
    expect(new nn.AvgPool1d(3).forward(x).toArray()).toEqual([[[8 / 3, 7 / 3]]].map((r) => r.map((c) => c.map(Math.fround))));
  });
  it('a TextCNN (embeddings → Conv1d widths 2, 3 → ReLU → max over time → Linear) learns a toy task', () => {
    manualSeed(2);
    const V = 12, E = 8, T = 7;
    const emb = new nn.Embedding(V, E);
    const convs = [new nn.Conv1d(E, 6, 2), new nn.Conv1d(E, 6, 3)];
    const fc = new nn.Linear(12, 2);
    const forward = (ids: Tensor): Tensor => {
      const h = emb.forward(ids).transpose(1, 2); // (B, T, E) → (B, E, T)
      const feats = convs.map((c) => c.forward(h).relu().amax(-1)); // (B, 6) each: max over time
      return fc.forward(cat(feats, 1)); // (B, 12) → (B, 2)
    };
    // class 1 iff token 3 occurs anywhere in the sequence
    const rows = Array.from({ length: 16 }, (_, b) => Array.from({ length: T }, (_, t) => (b * 5 + t * 7) % V === 3 ? 4 : (b * 5 + t * 7) % V));
    rows.forEach((r, b) => { if (b % 2 === 0) r[(b * 3) % T] = 3; });
    const ids = tensor(rows, { dtype: 'int32' });
    const y = tensor(rows.map((r) => (r.includes(3) ? 1 : 0)), { dtype: 'int32' });
    const params = [...emb.parameters(), ...convs.flatMap((c) => [...c.parameters()]), ...fc.parameters()];
    const opt = new optim.Adam(params, { lr: 0.05 });
    let first = 0, last = 0;
    for (let step = 0; step < 40; step++) {
      const loss = F.crossEntropy(forward(ids), y);
      if (step === 0) first = loss.item();
      last = loss.item();
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    expect(last).toBeLessThan(first * 0.3);
    expect(convs[0]!.weight.grad).not.toBeNull();
  });
});
