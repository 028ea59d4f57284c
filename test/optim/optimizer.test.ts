/**
 * Tests of the Optimizer machinery and of SGD / Adam / AdamW beyond the golden trajectories:
 * parameter groups, null gradients, in-place updates, stateDict round trips, argument checks,
 * and bit-exact agreement with the plain-number references of test/optim/reference.ts.
 */
import { describe, expect, it } from 'vitest';
import { fromTypedArray, manualSeed, randn, tensor, tidy, zeros, type Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { errorOf, expectEqual } from '../helpers.js';
import { referenceAdam, referenceSGD } from './reference.js';

const f64 = (data: number[], requiresGrad = true): Tensor => tensor(data, { dtype: 'float64', requiresGrad });
const vals = (t: Tensor): number[] => Array.from(t.toTypedArray());

/** A smooth, non-quadratic objective over several parameters (so every optimizer has work to do). */
function objective(ps: Tensor[]): Tensor {
  let total: Tensor | null = null;
  ps.forEach((p, i) => {
    const term = p.sin().mul(i + 1).sum().add(p.mul(p).mul(0.5).sum());
    total = total ? total.add(term) : term;
  });
  return total!;
}

function trainSteps(opt: optim.Optimizer, ps: Tensor[], n: number, sched?: optim.LRScheduler): void {
  for (let k = 0; k < n; k++) {
    opt.zeroGrad();
    objective(ps).backward();
    opt.step();
    sched?.step();
  }
}

function makeParams(seed: number): Tensor[] {
  manualSeed(seed);
  return [randn([3], { dtype: 'float64' }), randn([2, 3], { dtype: 'float64' }), randn([4], { dtype: 'float64' })].map((t) => {
    t.requiresGrad = true;
    return t;
  });
}

const cloneParams = (ps: Tensor[]): Tensor[] => ps.map((p) => p.detach().clone().requiresGrad_(true));

type Factory = (params: optim.ParamsArg) => optim.Optimizer;
const FACTORIES: [string, Factory][] = [
  ['SGD (nesterov, weight decay)', (p) => new optim.SGD(p as Iterable<Tensor>, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['SGD (momentum, dampening)', (p) => new optim.SGD(p as Iterable<Tensor>, { lr: 0.05, momentum: 0.8, dampening: 0.3 })],
  ['Adam (amsgrad, L2)', (p) => new optim.Adam(p as Iterable<Tensor>, { lr: 0.05, amsgrad: true, weightDecay: 0.1 })],
  ['AdamW', (p) => new optim.AdamW(p as Iterable<Tensor>, { lr: 0.05, weightDecay: 0.1 })],
  [
    'AdamW with two groups',
    (p) => {
      const ps = [...(p as Iterable<Tensor>)];
      return new optim.AdamW([{ params: ps.slice(0, 2) }, { params: ps.slice(2), weightDecay: 0, lr: 0.01 }], { lr: 0.05 });
    },
  ],
];

describe('stateDict / loadStateDict', () => {
  for (const [name, make] of FACTORIES) {
    it(`${name}: save after 2 steps, load into a fresh optimizer, continue → bit-identical to an uninterrupted run`, () => {
      const a = makeParams(7);
      const optA = make(a);
      trainSteps(optA, a, 2);
      const saved = optA.stateDict();
      const b = cloneParams(a);
      trainSteps(optA, a, 3); // uninterrupted: 5 steps in all

      const optB = make(b);
      optB.loadStateDict(saved);
      trainSteps(optB, b, 3);
      a.forEach((p, i) => expectEqual(b[i]!, p, `${name} param ${i}`));
      for (const [i, p] of a.entries()) {
        const sa = optA.state.get(p)!;
        const sb = optB.state.get(b[i]!)!;
        expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
        for (const k of Object.keys(sa)) {
          if (typeof sa[k] === 'number') expect(sb[k]).toBe(sa[k]);
          else expectEqual(sb[k] as Tensor, sa[k] as Tensor, `${name} state ${i}.${k}`);
        }
      }
    });
  }

  it("uses PyTorch's layout: parameter indices across groups, hyperparameters per group", () => {
    const [p0, p1, p2] = makeParams(1);
    const opt = new optim.Adam([{ params: [p0!, p1!] }, { params: [p2!], lr: 0.5 }], { lr: 0.1, betas: [0.8, 0.9] });
    trainSteps(opt, [p0!, p1!, p2!], 1);
    const sd = opt.stateDict();
    expect(sd.paramGroups).toEqual([
      { lr: 0.1, betas: [0.8, 0.9], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0, 1] },
      { lr: 0.5, betas: [0.8, 0.9], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [2] },
    ]);
    expect(Object.keys(sd.state)).toEqual(['0', '1', '2']);
    expect(sd.state[2]!.step).toBe(1);
    expect(sd.paramGroups[0]!.betas).not.toBe(opt.paramGroups[0]!.betas); // copied
  });

  it('clones state tensors both ways', () => {
    const [p] = makeParams(2);
    const opt = new optim.SGD([p!], { lr: 0.1, momentum: 0.9 });
    trainSteps(opt, [p!], 1);
    const sd = opt.stateDict();
    const savedBuf = sd.state[0]!.momentumBuffer as Tensor;
    const before = vals(savedBuf);
    trainSteps(opt, [p!], 1); // mutates the live buffer in place
    expect(vals(savedBuf)).toEqual(before);
    opt.loadStateDict(sd);
    const live = opt.state.get(p!)!.momentumBuffer as Tensor;
    expect(live).not.toBe(savedBuf);
    savedBuf.requiresGrad = false;
    savedBuf.fill_(123);
    expect(vals(live)).toEqual(before);
  });

  it('restores hyperparameters (e.g. a scheduled lr) and initialLr', () => {
    const a = makeParams(3);
    const optA = new optim.AdamW(a, { lr: 0.1 });
    const sched = new optim.StepLR(optA, 1, 0.5);
    trainSteps(optA, a, 2, sched);
    expect(optA.paramGroups[0]!.lr).toBe(0.025);
    const b = cloneParams(a);
    const optB = new optim.AdamW(b, { lr: 0.1 });
    optB.loadStateDict(optA.stateDict());
    expect(optB.paramGroups[0]!.lr).toBe(0.025);
    expect(optB.paramGroups[0]!.initialLr).toBe(0.1);
    expect(optB.paramGroups[0]!.params).toEqual(b); // the new optimizer's own parameters
  });

  it('casts loaded state to the parameter dtype', () => {
    const p64 = f64([1, 2]);
    const opt64 = new optim.Adam([p64], { lr: 0.1 });
    trainSteps(opt64, [p64], 1);
    const p32 = tensor([1, 2], { requiresGrad: true });
    const opt32 = new optim.Adam([p32], { lr: 0.1 });
    opt32.loadStateDict(opt64.stateDict());
    expect((opt32.state.get(p32)!.expAvg as Tensor).dtype).toBe('float32');
  });

  it('rejects state dicts that do not fit, naming what differs, and changes nothing', () => {
    const [p0, p1] = makeParams(4);
    const opt = new optim.Adam([p0!, p1!], { lr: 0.1 });
    trainSteps(opt, [p0!, p1!], 1);
    const sd = opt.stateDict();
    const stateBefore = opt.state.get(p0!);

    const twoGroups = new optim.Adam([{ params: [p0!] }, { params: [p1!] }]);
    expect(errorOf(() => twoGroups.loadStateDict(sd))).toMatch(/the state dict has 1 parameter group\(s\) but this optimizer has 2/);

    const oneParam = new optim.Adam([p0!]);
    expect(errorOf(() => oneParam.loadStateDict(sd))).toMatch(/paramGroups\[0\] has 2 parameter\(s\) but this optimizer's paramGroups\[0\] has 1/);

    const swapped = new optim.Adam([p1!, p0!]); // shapes [2,3] and [3] the other way round
    expect(errorOf(() => swapped.loadStateDict(sd))).toMatch(/stateDict\.state\[0\]\.expAvg has shape \[3\] but parameter 0 has shape \[2,3\]/);

    const sgd = new optim.SGD([p0!, p1!], { lr: 0.1 });
    expect(errorOf(() => sgd.loadStateDict(sd))).toMatch(/does not hold SGD's hyperparameters; missing 'momentum'.*unknown 'betas'.*different optimizer/);

    const badLr = { ...sd, paramGroups: [{ ...sd.paramGroups[0]!, lr: -1 }] };
    expect(errorOf(() => opt.loadStateDict(badLr))).toMatch(/Adam: invalid stateDict\.paramGroups\[0\]\.lr: expected a finite number ≥ 0, got -1/);

    const badStep = { ...sd, state: { ...sd.state, 0: { ...sd.state[0]!, step: 1.5 } } };
    expect(errorOf(() => opt.loadStateDict(badStep))).toMatch(/stateDict\.state\[0\]\.step: expected an integer ≥ 0, got 1\.5/);

    const missing = { ...sd, state: { ...sd.state, 0: { step: 1, expAvg: sd.state[0]!.expAvg! } } };
    expect(errorOf(() => opt.loadStateDict(missing))).toMatch(/stateDict\.state\[0\] lacks 'expAvgSq'/);

    const unknownEntry = { ...sd, state: { ...sd.state, 1: { ...sd.state[1]!, momentumBuffer: sd.state[1]!.expAvg! } } };
    expect(errorOf(() => opt.loadStateDict(unknownEntry))).toMatch(/unknown state entry 'momentumBuffer' in stateDict\.state\[1\]/);

    const strayIndex = { ...sd, state: { ...sd.state, 5: sd.state[0]! } };
    expect(errorOf(() => opt.loadStateDict(strayIndex))).toMatch(/stateDict\.state\[5\] is for parameter index 5, which no group/);

    expect(errorOf(() => opt.loadStateDict(null as never))).toMatch(/Adam\.loadStateDict: invalid stateDict: expected an object/);
    expect(opt.state.get(p0!)).toBe(stateBefore); // nothing changed by the failed loads
  });
});

describe('parameter groups', () => {
  it('each group uses its own lr and weight decay (SGD, checked against the formula)', () => {
    const w = f64([1, -2]);
    const bias = f64([0.5]);
    const opt = new optim.SGD([{ params: [w], weightDecay: 0.1 }, { params: [bias], lr: 0.01 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.weightDecay, g.momentum])).toEqual([[0.1, 0.1, 0], [0.01, 0, 0]]);
    w.grad = f64([0.3, 0.4], false);
    bias.grad = f64([2], false);
    opt.step();
    // w ← w − 0.1·(g + 0.1·w); bias ← bias − 0.01·g
    expect(vals(w)).toEqual([1 + (0.3 + 1 * 0.1) * -0.1, -2 + (0.4 + -2 * 0.1) * -0.1]);
    expect(vals(bias)).toEqual([0.5 + 2 * -0.01]);
  });

  it('AdamW with no decay on biases equals two separate AdamW optimizers', () => {
    const a = makeParams(11);
    const b = cloneParams(a);
    const grouped = new optim.AdamW([{ params: [a[0]!, a[1]!] }, { params: [a[2]!], weightDecay: 0 }], { lr: 0.03, weightDecay: 0.2 });
    const decay = new optim.AdamW([b[0]!, b[1]!], { lr: 0.03, weightDecay: 0.2 });
    const noDecay = new optim.AdamW([b[2]!], { lr: 0.03, weightDecay: 0 });
    for (let k = 0; k < 4; k++) {
      grouped.zeroGrad();
      objective(a).backward();
      grouped.step();
      decay.zeroGrad();
      noDecay.zeroGrad();
      objective(b).backward();
      decay.step();
      noDecay.step();
    }
    a.forEach((p, i) => expectEqual(p, b[i]!, `param ${i}`));
  });

  it('addParamGroup fills in defaults and copies arrays', () => {
    const [p0, p1] = makeParams(5);
    const opt = new optim.Adam([p0!], { lr: 0.2, betas: [0.5, 0.6] });
    opt.addParamGroup({ params: [p1!], eps: 1e-3 });
    const g = opt.paramGroups[1]!;
    expect(g).toMatchObject({ lr: 0.2, betas: [0.5, 0.6], eps: 1e-3, weightDecay: 0, amsgrad: false, maximize: false });
    expect(g.betas).not.toBe(opt.paramGroups[0]!.betas);
    expect(g.params[0]).toBe(p1);
    expect(errorOf(() => opt.addParamGroup({ params: [p0!] }))).toMatch(
      /Adam: some parameters appear in more than one parameter group: paramGroups\[2\]\.params\[0\] is also paramGroups\[0\]\.params\[0\]/,
    );
  });

  it('accepts any iterable of parameters (e.g. a generator) and a single tensor in a group', () => {
    const [p0, p1] = makeParams(6);
    function* gen(): Generator<Tensor> {
      yield p0!;
      yield p1!;
    }
    expect(new optim.SGD(gen(), { lr: 1 }).paramGroups[0]!.params).toEqual([p0, p1]);
    expect(new optim.SGD([{ params: p0! }], { lr: 1 }).paramGroups[0]!.params).toEqual([p0]);
  });
});

describe('step', () => {
  it('skips parameters whose grad is null entirely (no weight decay, no state)', () => {
    for (const make of [
      (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.5 }),
      (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, weightDecay: 0.5 }),
      (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1, weightDecay: 0.5 }),
    ]) {
      const used = f64([1, 2]);
      const unused = f64([3, 4]);
      const opt = make([used, unused]);
      used.grad = f64([1, 1], false);
      opt.step();
      opt.step();
      expect(vals(unused)).toEqual([3, 4]);
      expect(opt.state.has(unused)).toBe(false);
      expect(vals(used)).not.toEqual([1, 2]);
      // When its grad appears, the parameter starts from step 1 as in a fresh optimizer.
      unused.grad = f64([0.5, -0.5], false);
      used.grad = null;
      opt.step();
      const fresh = f64([3, 4]);
      const freshOpt = make([fresh]);
      fresh.grad = f64([0.5, -0.5], false);
      freshOpt.step();
      expectEqual(unused, fresh);
      if (!(opt instanceof optim.SGD)) expect(opt.state.get(unused)!.step).toBe(1);
    }
  });

  it('updates the parameter tensors in place, without recording a graph', () => {
    const p = f64([1, 2, 3]);
    const storage = p.storage;
    const opt = new optim.AdamW([p], { lr: 0.1 });
    objective([p]).backward();
    opt.step();
    expect(p.storage).toBe(storage);
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
    expect(p.gradFn).toBeNull();
    expect(vals(p)).not.toEqual([1, 2, 3]);
  });

  it('keeps its state alive across an enclosing tidy() (state tensors are kept, temporaries freed)', () => {
    for (const make of [
      (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9 }),
      (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.05, amsgrad: true }),
    ]) {
      const a = makeParams(12);
      const b = cloneParams(a);
      const optA = make(a);
      const optB = make(b);
      trainSteps(optA, a, 3);
      tidy(() => trainSteps(optB, b, 1));
      const saved = optB.stateDict();
      tidy(() => optB.loadStateDict(saved)); // loaded copies survive the scope too
      tidy(() => trainSteps(optB, b, 2));
      a.forEach((p, i) => expectEqual(b[i]!, p));
      for (const st of optB.state.values()) for (const v of Object.values(st)) if (typeof v !== 'number') expect(v.isDisposed).toBe(false);
    }
  });

  it('runs a closure with grad recording and returns its loss', () => {
    const p = f64([1, -1]);
    const opt = new optim.SGD([p], { lr: 0.25 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = p.mul(p).sum();
      l.backward();
      return l.item();
    });
    expect(loss).toBe(2);
    expect(vals(p)).toEqual([0.5, -0.5]); // p − 0.25·2p
    expect(opt.step()).toBeUndefined();
  });

  it('works on float32 parameters, keeping float32 state', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 0.1 });
    p.grad = tensor([0.5, -0.5]);
    opt.step();
    expect(p.dtype).toBe('float32');
    expect((opt.state.get(p)!.expAvgSq as Tensor).dtype).toBe('float32');
    // The first Adam step moves every coordinate by ≈ lr·sign(g).
    const v = vals(p);
    expect(v[0]).toBeCloseTo(0.9, 6);
    expect(v[1]).toBeCloseTo(2.1, 6);
  });

  it('re-checks hyperparameters changed by hand between steps', () => {
    const p = f64([1, 2]);
    const opt = new optim.Adam([p], { lr: 0.1 });
    p.grad = f64([1, 1], false);
    opt.paramGroups[0]!.betas[1] = 1.5;
    expect(errorOf(() => opt.step())).toBe('Adam: invalid paramGroups[0].betas[1]: expected a finite number in [0, 1), got 1.5');
    expect(vals(p)).toEqual([1, 2]);
  });

  it('rejects a grad whose shape does not match its parameter', () => {
    const p = f64([1, 2]);
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.grad = f64([1, 2, 3], false);
    expect(errorOf(() => opt.step())).toMatch(/SGD\.step: paramGroups\[0\]\.params\[0\] has shape \[2\].* but its \.grad has shape \[3\]/);
  });

  it('maximize equals minimizing the negated objective', () => {
    for (const [maxOpt, minOpt] of [
      [(ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.5, weightDecay: 0.1, maximize: true }), (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.5, weightDecay: 0.1 })],
      [(ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, weightDecay: 0.1, maximize: true }), (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, weightDecay: 0.1 })],
      [(ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1, maximize: true }), (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1 })],
    ] as const) {
      const a = makeParams(8);
      const b = cloneParams(a);
      const oa = maxOpt(a);
      const ob = minOpt(b);
      for (let k = 0; k < 3; k++) {
        oa.zeroGrad();
        objective(a).neg().backward();
        oa.step();
        ob.zeroGrad();
        objective(b).backward();
        ob.step();
      }
      a.forEach((p, i) => expectEqual(p, b[i]!));
    }
  });
});

describe('zeroGrad', () => {
  it('sets grads to null by default, or to zeros in place', () => {
    const p = f64([1, 2]);
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.mul(p).sum().backward();
    const g = p.grad!;
    opt.zeroGrad(false);
    expect(p.grad).toBe(g);
    expect(vals(g)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    expect(errorOf(() => opt.zeroGrad('yes' as never))).toMatch(/SGD\.zeroGrad: invalid setToNone: expected a boolean, got "yes"/);
  });
});

describe('bit-exact agreement with the plain-number references (float64)', () => {
  const p0 = [0.3, -1.2, 2.5, 0, -0.7];
  const grads = [
    [0.1, -0.5, 2, 0, -3],
    [-0.2, 0.4, 1.5, 1e-3, 2],
    [0.05, 0.6, -1, -2e-3, 0.5],
    [0.3, -0.1, 0.2, 0, -0.25],
  ];
  function run(opt: optim.Optimizer, p: Tensor): number[][] {
    return grads.map((g) => {
      p.grad = f64(g, false);
      opt.step();
      return vals(p);
    });
  }

  it('SGD, every combination of momentum / dampening / nesterov / weight decay / maximize', () => {
    for (const momentum of [0, 0.9])
      for (const dampening of [0, 0.25])
        for (const nesterov of [false, true])
          for (const weightDecay of [0, 0.3])
            for (const maximize of [false, true]) {
              if (nesterov && (momentum === 0 || dampening !== 0)) continue;
              const h = { lr: 0.07, momentum, dampening, nesterov, weightDecay, maximize };
              const p = f64(p0);
              expect(run(new optim.SGD([p], h), p), JSON.stringify(h)).toEqual(referenceSGD(p0, grads, h));
            }
  });

  it('Adam and AdamW, with and without amsgrad / weight decay / maximize', () => {
    for (const decoupled of [false, true])
      for (const amsgrad of [false, true])
        for (const weightDecay of [0, 0.2])
          for (const maximize of [false, true]) {
            const h = { lr: 0.05, betas: [0.85, 0.99] as [number, number], eps: 1e-6, weightDecay, amsgrad, maximize };
            const p = f64(p0);
            const opt = decoupled ? new optim.AdamW([p], h) : new optim.Adam([p], h);
            const ref = referenceAdam(p0, grads, { ...h, decoupled });
            expect(run(opt, p), JSON.stringify({ decoupled, ...h })).toEqual(ref.params);
            const st = opt.state.get(p)!;
            expect(st.step).toBe(grads.length);
            expect(vals(st.expAvg as Tensor)).toEqual(ref.expAvg);
            expect(vals(st.expAvgSq as Tensor)).toEqual(ref.expAvgSq);
            if (amsgrad) expect(vals(st.maxExpAvgSq as Tensor)).toEqual(ref.maxExpAvgSq);
            else expect(st.maxExpAvgSq).toBeUndefined();
          }
  });
});

describe('argument validation', () => {
  const p = (): Tensor => f64([1, 2]);
  const cases: [string, () => unknown, RegExp][] = [
    ['SGD lr < 0', () => new optim.SGD([p()], { lr: -0.1 }), /^SGD: invalid lr: expected a finite number ≥ 0, got -0\.1$/],
    ['SGD lr NaN', () => new optim.SGD([p()], { lr: NaN }), /^SGD: invalid lr: expected a finite number ≥ 0, got NaN$/],
    ['SGD without lr', () => new optim.SGD([p()], {} as never), /^SGD: invalid lr: expected a finite number ≥ 0 \(SGD has no default learning rate\), got undefined$/],
    ['SGD momentum < 0', () => new optim.SGD([p()], { lr: 1, momentum: -1 }), /^SGD: invalid momentum: expected a finite number ≥ 0, got -1$/],
    ['SGD weightDecay < 0', () => new optim.SGD([p()], { lr: 1, weightDecay: -1e-4 }), /^SGD: invalid weightDecay: expected a finite number ≥ 0, got -0\.0001$/],
    ['SGD nesterov without momentum', () => new optim.SGD([p()], { lr: 1, nesterov: true }), /^SGD: invalid nesterov: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum 0 and dampening 0$/],
    ['SGD nesterov with dampening', () => new optim.SGD([p()], { lr: 1, momentum: 0.9, dampening: 0.1, nesterov: true }), /requires a momentum > 0 and zero dampening, got momentum 0\.9 and dampening 0\.1/],
    ['SGD nesterov not boolean', () => new optim.SGD([p()], { lr: 1, nesterov: 1 as never }), /^SGD: invalid nesterov: expected a boolean, got 1$/],
    ['snake_case option', () => new optim.SGD([p()], { lr: 1, weight_decay: 0.1 } as never), /^SGD: unknown option 'weight_decay' in options \(expected some of 'lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'\)$/],
    ['Adam lr < 0', () => new optim.Adam([p()], { lr: -1 }), /^Adam: invalid lr: expected a finite number ≥ 0, got -1$/],
    ['Adam beta1 = 1', () => new optim.Adam([p()], { betas: [1, 0.999] }), /^Adam: invalid betas\[0\]: expected a finite number in \[0, 1\), got 1$/],
    ['Adam beta2 < 0', () => new optim.Adam([p()], { betas: [0.9, -0.5] }), /^Adam: invalid betas\[1\]: expected a finite number in \[0, 1\), got -0\.5$/],
    ['Adam betas not a pair', () => new optim.Adam([p()], { betas: [0.9] as never }), /^Adam: invalid betas: expected a pair \[beta1, beta2\], got \[0\.9\]$/],
    ['Adam eps < 0', () => new optim.Adam([p()], { eps: -1e-8 }), /^Adam: invalid eps: expected a finite number ≥ 0, got -1e-8$/],
    ['Adam weightDecay < 0', () => new optim.Adam([p()], { weightDecay: -0.01 }), /^Adam: invalid weightDecay: expected a finite number ≥ 0, got -0\.01$/],
    ['AdamW amsgrad not boolean', () => new optim.AdamW([p()], { amsgrad: 'no' as never }), /^AdamW: invalid amsgrad: expected a boolean, got "no"$/],
    ['AdamW weightDecay < 0', () => new optim.AdamW([p()], { weightDecay: -1 }), /^AdamW: invalid weightDecay: expected a finite number ≥ 0, got -1$/],
    ['bad value in a group', () => new optim.AdamW([{ params: [p()] }, { params: [p()], lr: -2 }]), /^AdamW: invalid paramGroups\[1\]\.lr: expected a finite number ≥ 0, got -2$/],
    ['empty parameter list', () => new optim.Adam([]), /^Adam: got an empty parameter list/],
    ['only empty groups', () => new optim.Adam([{ params: [] }]), /^Adam: got an empty parameter list \(every one of the 1 parameter groups is empty\)$/],
    ['a tensor instead of a list', () => new optim.Adam(p() as never), /^Adam: invalid params: expected an iterable of Tensors or of parameter groups/],
    ['a parameter in two groups', () => { const q = p(); return new optim.AdamW([{ params: [q] }, { params: [q] }]); }, /^AdamW: some parameters appear in more than one parameter group: paramGroups\[1\]\.params\[0\] is also paramGroups\[0\]\.params\[0\]$/],
    ['a parameter twice in a group', () => { const q = p(); return new optim.SGD([q, q], { lr: 1 }); }, /^SGD: paramGroups\[0\]\.params\[1\] is the same tensor as paramGroups\[0\]\.params\[0\]; a parameter may appear only once$/],
    ['a non-leaf tensor', () => new optim.SGD([p().mul(2)], { lr: 1 }), /^SGD: can't optimize a non-leaf Tensor \(paramGroups\[0\]\.params\[0\] was computed/],
    ['an integer tensor', () => new optim.SGD([tensor([1, 2], { dtype: 'int32' })], { lr: 1 }), /^SGD: invalid paramGroups\[0\]\.params\[0\]\.dtype: expected a floating-point dtype \('float32' or 'float64'\), got "int32"$/],
    ['not a tensor', () => new optim.SGD([p(), [1, 2]] as never, { lr: 1 }), /^SGD: invalid params\[1\]: expected a Tensor/],
    ['group without params', () => new optim.SGD([{ lr: 1 }] as never, { lr: 1 }), /^SGD: paramGroups\[0\] has no 'params'/],
    ['unknown group key', () => new optim.SGD([{ params: [p()], weight_decay: 0 }] as never, { lr: 1 }), /^SGD: unknown key 'weight_decay' in paramGroups\[0\] \(expected 'params' and some of 'initialLr', 'lr', 'momentum'/],
    ['closure not a function', () => new optim.SGD([p()], { lr: 1 }).step(42 as never), /^SGD\.step: invalid closure: expected a function that re-evaluates the model and returns the loss, got 42$/],
  ];
  for (const [what, fn, re] of cases) {
    it(what, () => {
      expect(errorOf(fn)).toMatch(re);
    });
  }
});

describe('defaults', () => {
  it("match PyTorch's", () => {
    const q = zeros([1], { requiresGrad: true });
    expect(new optim.SGD([q], { lr: 0.1 }).defaults).toEqual({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false });
    expect(new optim.Adam([q]).defaults).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
    expect(new optim.AdamW([q]).defaults).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false });
  });

  it('toString lists the groups', () => {
    const q = zeros([1], { requiresGrad: true });
    expect(String(new optim.SGD([q], { lr: 0.1 }))).toContain('Parameter Group 0\n    params: 1 tensor(s)\n    lr: 0.1');
  });
});

describe('training converges', () => {
  it('every optimizer drives a least-squares loss down', () => {
    manualSeed(0);
    const X = randn([32, 4], { dtype: 'float64' });
    const wTrue = fromTypedArray(Float64Array.of(1, -2, 0.5, 3), [4, 1], { dtype: 'float64' });
    const y = X.matmul(wTrue);
    for (const make of [
      (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9 }),
      (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1 }),
      (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1, weightDecay: 1e-4 }),
    ]) {
      const w = zeros([4, 1], { dtype: 'float64', requiresGrad: true });
      const opt = make([w]);
      const lossOf = (): Tensor => X.matmul(w).sub(y).pow(2).mean();
      const first = lossOf().item();
      for (let k = 0; k < 200; k++) {
        opt.zeroGrad();
        lossOf().backward();
        opt.step();
      }
      expect(lossOf().item()).toBeLessThan(first * 1e-3);
    }
  });
});
