/**
 * Magnitude pruning (Han et al. 2015): exact per-layer / global counts, the pruned entries are the
 * smallest magnitudes, ties broken by position, masks fixed through AdamW fine-tuning with weight
 * decay (also with Adam moments from before pruning), the sparsity report, gzip'd size.
 */
import { describe, expect, it } from 'vitest';

import { compress, F, fromTypedArray, manualSeed, nn, optim, randn } from '../../src/index.js';

const { magnitudePrune, gzipSizes } = compress;

function mlp(): nn.Sequential {
  manualSeed(7);
  return new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU(), new nn.Linear(16, 8), new nn.ReLU(), new nn.Linear(8, 3));
}
const weights = (m: nn.Module) => [...m.modules()].filter((x): x is nn.Linear => x instanceof nn.Linear).map((l) => l.weight);
const zerosOf = (t: { toTypedArray(): ArrayLike<number> }) => Array.from(t.toTypedArray()).filter((v) => v === 0).length;

describe('magnitudePrune', () => {
  it("scope 'layer': each weight gets exactly ⌊s·numel⌋ zeros, all of magnitude ≤ every kept one", () => {
    const m = mlp();
    const before = weights(m).map((w) => Array.from(w.toTypedArray()));
    const masks = magnitudePrune(m, { sparsity: 0.5, scope: 'layer' });
    weights(m).forEach((w, k) => {
      const now = Array.from(w.toTypedArray());
      expect(zerosOf(w)).toBe(Math.floor(0.5 * now.length));
      const pruned = before[k]!.filter((_, i) => now[i] === 0).map(Math.abs);
      const kept = before[k]!.filter((_, i) => now[i] !== 0).map(Math.abs);
      expect(Math.max(...pruned)).toBeLessThanOrEqual(Math.min(...kept));
      expect(now.filter((v, i) => v !== 0 && v !== before[k]![i])).toEqual([]); // kept weights untouched
    });
    expect(masks.names).toEqual(['0.weight', '2.weight', '4.weight']);
    expect(masks.report().total.sparsity).toBeCloseTo((96 + 64 + 12) / (192 + 128 + 24), 12);
  });

  it("scope 'global': exactly ⌊s·Σnumel⌋ zeros over all layers, one threshold (layers end up with different sparsities)", () => {
    const m = mlp();
    const all = weights(m).flatMap((w) => Array.from(w.toTypedArray()).map(Math.abs)).sort((a, b) => a - b);
    const masks = magnitudePrune(m, { sparsity: 0.8 });
    const n = all.length;
    const { layers, total } = masks.report();
    expect(total.zeros).toBe(Math.floor(0.8 * n));
    const t = all[Math.floor(0.8 * n) - 1]!;
    for (const w of weights(m)) for (const v of w.toTypedArray()) if (v !== 0) expect(Math.abs(v)).toBeGreaterThanOrEqual(t);
    expect(new Set(layers.map((l) => l.sparsity.toFixed(3))).size).toBeGreaterThan(1);
    expect(masks.formatReport()).toMatch(/total\s+275 \/\s+344\s+79\.9 %/);
  });

  it('ties are broken by position, so the count is exact; sparsity 0 prunes nothing', () => {
    const lin = new nn.Linear(4, 2);
    lin.weight.detach().copy_(fromTypedArray(Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1]), [2, 4]));
    const seq = new nn.Sequential(lin);
    magnitudePrune(seq, { sparsity: 0.375 });
    expect(Array.from(lin.weight.toTypedArray())).toEqual([0, 0, 0, 1, 1, 1, 1, 1]);
    const m = mlp();
    expect(magnitudePrune(m, { sparsity: 0 }).report().total.zeros).toBe(0);
  });

  it('masks survive AdamW fine-tuning with weight decay: pruned weights stay exactly 0 (even with Adam moments from before pruning), the rest train', () => {
    const m = mlp();
    const x = randn([10, 12]);
    const y = fromTypedArray(Int32Array.from({ length: 10 }, (_, i) => i % 3), [10]);
    const opt = new optim.AdamW(m.parameters(), { lr: 0.05, weightDecay: 0.1 });
    const step = () => {
      opt.zeroGrad();
      const ce = F.crossEntropy(m.forward(x), y);
      ce.backward();
      opt.step();
      return ce.item();
    };
    for (let i = 0; i < 3; i++) step(); // moments are non-zero for every weight now
    const masks = magnitudePrune(m, { sparsity: 0.7 });
    masks.attach(opt);
    const zeroAt = weights(m).map((w) => Array.from(w.toTypedArray()).map((v) => v === 0));
    const kept0 = weights(m).map((w) => Array.from(w.toTypedArray()));
    const first = step();
    // the gradient of a pruned weight is masked to 0 by the hook
    weights(m).forEach((w, k) => Array.from(w.grad!.toTypedArray()).forEach((g, i) => { if (zeroAt[k]![i]) expect(Math.abs(g)).toBe(0); }));
    let last = first;
    for (let i = 0; i < 15; i++) last = step();
    weights(m).forEach((w, k) => {
      const now = Array.from(w.toTypedArray());
      now.forEach((v, i) => { if (zeroAt[k]![i]) expect(Math.abs(v)).toBe(0); /* ±0: W ⊙ M keeps the sign of a zeroed negative weight */ });
      expect(now.some((v, i) => !zeroAt[k]![i] && v !== kept0[k]![i])).toBe(true);
    });
    expect(masks.report().total.zeros).toBe(Math.floor(0.7 * 344));
    expect(last).toBeLessThan(first);
  });

  it("pruned weights gzip smaller than dense ones (what unstructured sparsity buys on CPU)", () => {
    manualSeed(1);
    const lin = new nn.Linear(128, 128);
    const dense = gzipSizes([lin.weight]);
    magnitudePrune(new nn.Sequential(lin), { sparsity: 0.8 });
    const sparse = gzipSizes([lin.weight]);
    expect(dense.raw).toBe(128 * 128 * 4);
    expect(sparse.raw).toBe(dense.raw);
    expect(dense.gzip / dense.raw).toBeGreaterThan(0.85); // random float32 barely compresses
    expect(sparse.gzip / sparse.raw).toBeLessThan(0.45);
  });

  it('rejects bad options', () => {
    expect(() => magnitudePrune(mlp(), { sparsity: 1 })).toThrow(/sparsity must be a number in \[0, 1\), got 1/);
    expect(() => magnitudePrune(mlp(), { sparsity: 0.5, scope: 'row' as 'layer' })).toThrow(/scope must be 'global' or 'layer'/);
    expect(() => magnitudePrune(mlp(), { sparsity: 0.5, modules: ['nope'] })).toThrow(/matches no nn.Linear layer/);
    expect(() => magnitudePrune(new nn.Sequential(new nn.ReLU()), { sparsity: 0.5 })).toThrow(/has no nn.Linear layer/);
  });
});

describe('gradual magnitude pruning (Zhu & Gupta 2017)', () => {
  const { cubicSparsity, GradualPruner } = compress;
  it('cubicSparsity follows s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³, held between events, s_i before t₀, s_f after', () => {
    const o = { initialSparsity: 0.1, finalSparsity: 0.9, startStep: 10, numSteps: 4, every: 5 };
    expect(cubicSparsity(0, o)).toBe(0.1);
    expect(cubicSparsity(10, o)).toBeCloseTo(0.1, 15);
    for (const [t, k] of [[15, 1], [17, 1], [20, 2], [25, 3], [30, 4], [99, 4]] as const) {
      expect(cubicSparsity(t, o)).toBeCloseTo(0.9 + (0.1 - 0.9) * (1 - k / 4) ** 3, 15);
    }
    expect(cubicSparsity(50, { finalSparsity: 0.8, numSteps: 10, every: 10 })).toBeCloseTo(0.7, 15);
    expect(() => cubicSparsity(0, { finalSparsity: 1, numSteps: 3 })).toThrow(/finalSparsity must be a number in \[0, 1\), got 1/);
    expect(() => cubicSparsity(0, { finalSparsity: 0.5, numSteps: 0 })).toThrow(/numSteps must be an integer ≥ 1, got 0/);
  });

  it('during AdamW training the sparsity rises on schedule, exactly ⌊s_t·N⌋ zeros, a pruned weight never comes back', () => {
    const m = mlp();
    manualSeed(3);
    const x = randn([32, 12]);
    const y = fromTypedArray(Int32Array.from({ length: 32 }, (_, i) => i % 3), [32], { dtype: 'int32' });
    const sched = { finalSparsity: 0.8, numSteps: 4, every: 3, startStep: 2 };
    const pruner = new GradualPruner(m, sched);
    const opt = pruner.attach(new optim.AdamW(m.parameters(), { lr: 0.05, weightDecay: 0.1 }));
    const N = 192 + 128 + 24;
    let prev: boolean[] = weights(m).flatMap((w) => Array.from(w.toTypedArray()).map((v) => v === 0));
    expect(prev.filter(Boolean).length).toBe(0); // s_i = 0 before t₀
    for (let t = 1; t <= 16; t++) {
      opt.zeroGrad();
      F.crossEntropy(m.forward(x), y).backward();
      opt.step();
      const zero = weights(m).flatMap((w) => Array.from(w.toTypedArray()).map((v) => v === 0));
      expect(zero.filter(Boolean).length, `step ${t}`).toBe(Math.floor(cubicSparsity(t, sched) * N));
      prev.forEach((z, i) => { if (z) expect(zero[i], `step ${t}, weight ${i} revived`).toBe(true); });
      prev = zero;
    }
    expect(pruner.sparsity).toBe(0.8);
    expect(pruner.masks.report().total.zeros).toBe(Math.floor(0.8 * N));
  });
});
