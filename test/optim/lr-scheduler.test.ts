/**
 * Tests of the LR schedulers beyond the golden lrs: PyTorch's construction semantics
 * (initialLr, the initial step), per-group lambdas, stateDict round trips and resuming,
 * HF's schedule formulas at their landmarks, and argument checks.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { errorOf, expectClose } from '../helpers.js';

const param = (): Tensor => tensor([1, 2], { dtype: 'float64', requiresGrad: true });
const sgd = (lr = 0.1): optim.SGD => new optim.SGD([param()], { lr });

/** The lr in effect for steps 0..n−1. */
function lrsOf(opt: optim.Optimizer, sched: optim.LRScheduler, n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(opt.paramGroups.map((g) => g.lr));
    opt.step();
    sched.step();
  }
  return out;
}

describe('LRScheduler construction', () => {
  it('records initialLr, uses it as baseLrs and applies the step-0 value at once', () => {
    const opt = sgd(0.2);
    const sched = new optim.LambdaLR(opt, (s) => 0.5 + s);
    expect(opt.paramGroups[0]!.initialLr).toBe(0.2);
    expect(sched.baseLrs).toEqual([0.2]);
    expect(sched.lastEpoch).toBe(0);
    expect(sched.getLastLr()).toEqual([0.1]);
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
  });

  it('a second scheduler keeps the first initialLr (PyTorch setdefault)', () => {
    const opt = sgd(0.2);
    new optim.LambdaLR(opt, () => 0.5);
    const second = new optim.LambdaLR(opt, () => 2);
    expect(second.baseLrs).toEqual([0.2]);
    expect(opt.paramGroups[0]!.lr).toBe(0.4);
  });

  it('resuming with lastEpoch needs initialLr in every group', () => {
    expect(errorOf(() => new optim.StepLR(sgd(), 2, 0.5, 3))).toMatch(/^StepLR: paramGroups\[0\] has no 'initialLr', needed to resume with lastEpoch 3/);
    const opt = sgd(0.8);
    opt.paramGroups[0]!.initialLr = 0.8;
    const sched = optim.getLinearScheduleWithWarmup(opt, 2, 10, 5); // next step is 6
    expect(sched.lastEpoch).toBe(6);
    expectClose(sched.getLastLr(), [0.8 * (4 / 8)], { rtol: 1e-15 });
  });

  it('a subclass that forgets initialStep() gets a clear error; one that calls it works', () => {
    class Broken extends optim.LRScheduler {
      getLr(): number[] {
        return this.baseLrs;
      }
    }
    expect(errorOf(() => new Broken(sgd()).step())).toMatch(/^Broken: the subclass constructor must call this\.initialStep\(\)/);
    class Halving extends optim.LRScheduler {
      constructor(o: optim.Optimizer) {
        super(o);
        this.initialStep();
      }
      getLr(): number[] {
        return this.baseLrs.map((lr) => lr * 0.5 ** this.lastEpoch);
      }
    }
    const opt = sgd(1);
    expect(lrsOf(opt, new Halving(opt), 3)).toEqual([[1], [0.5], [0.25]]);
  });
});

describe('LambdaLR', () => {
  it('one lambda per group', () => {
    const opt = new optim.SGD([{ params: [param()] }, { params: [param()], lr: 1 }], { lr: 0.1 });
    const sched = new optim.LambdaLR(opt, [(s) => s + 1, (s) => 0.5 ** s]);
    expect(lrsOf(opt, sched, 3)).toEqual([[0.1, 1], [0.2, 0.5], [0.30000000000000004, 0.25]]);
  });

  it('validates its arguments and the lambda results', () => {
    const two = new optim.SGD([{ params: [param()] }, { params: [param()] }], { lr: 0.1 });
    expect(errorOf(() => new optim.LambdaLR(two, [() => 1]))).toBe('LambdaLR: invalid lrLambda: expected an array of 2 functions (one per parameter group), got [a function]');
    expect(errorOf(() => new optim.LambdaLR(sgd(), 0.5 as never))).toBe('LambdaLR: invalid lrLambda: expected a function (step) => multiplier, or an array of them, got 0.5');
    expect(errorOf(() => new optim.LambdaLR({} as never, () => 1))).toBe('LambdaLR: invalid optimizer: expected an Optimizer, got an object');
    expect(errorOf(() => new optim.LambdaLR(sgd(), () => 1, -2))).toBe('LambdaLR: invalid lastEpoch: expected an integer ≥ -1, got -2');
    const opt = sgd();
    const sched = new optim.LambdaLR(opt, (s) => (s < 2 ? 1 : NaN));
    sched.step();
    expect(errorOf(() => sched.step())).toBe('LambdaLR: invalid lrLambda(2): expected a finite number, got NaN');
    expect(errorOf(() => new optim.LambdaLR(sgd(), () => -1))).toBe('LambdaLR: invalid lr of paramGroups[0] at step 0: expected a finite number ≥ 0, got -0.1');
  });
});

describe('StepLR', () => {
  it('multiplies by gamma every stepSize steps', () => {
    const opt = sgd(1);
    expect(lrsOf(opt, new optim.StepLR(opt, 2, 0.1), 6).map(([lr]) => lr)).toEqual([1, 1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]);
  });

  it('validates stepSize and gamma', () => {
    expect(errorOf(() => new optim.StepLR(sgd(), 0))).toBe('StepLR: invalid stepSize: expected an integer ≥ 1, got 0');
    expect(errorOf(() => new optim.StepLR(sgd(), 2.5))).toBe('StepLR: invalid stepSize: expected an integer ≥ 1, got 2.5');
    expect(errorOf(() => new optim.StepLR(sgd(), 2, -0.5))).toBe('StepLR: invalid gamma: expected a finite number ≥ 0, got -0.5');
  });
});

describe('HF warmup schedules', () => {
  it('linear: 0 at step 0, the base lr at the end of warmup, 0 at numTrainingSteps and after', () => {
    const opt = sgd(0.5);
    const lrs = lrsOf(opt, optim.getLinearScheduleWithWarmup(opt, 4, 12), 15).map(([lr]) => lr!);
    expect(lrs[0]).toBe(0);
    expect(lrs[2]).toBe(0.25); // 0.5 · 2/4
    expect(lrs[4]).toBe(0.5);
    expect(lrs[8]).toBe(0.25); // 0.5 · (12 − 8)/8
    expect(lrs.slice(12)).toEqual([0, 0, 0]);
  });

  it('linear without warmup starts at the base lr', () => {
    const opt = sgd(0.5);
    expect(optim.getLinearScheduleWithWarmup(opt, 0, 10).getLastLr()).toEqual([0.5]);
  });

  it('cosine: half the base lr midway through the decay, 0 at the end, rising after it', () => {
    const opt = sgd(0.4);
    const lrs = lrsOf(opt, optim.getCosineScheduleWithWarmup(opt, 2, 12), 14).map(([lr]) => lr!);
    expect(lrs[1]).toBe(0.2);
    expect(lrs[2]).toBe(0.4);
    expectClose(lrs[7]!, 0.2, { rtol: 1e-15 }); // progress 1/2 → ½(1 + cos(π/2))
    expectClose(lrs[12]!, 0, { atol: 1e-17 });
    expect(lrs[13]).toBeGreaterThan(0);
  });

  it('cosine with numCycles 1 comes back to the base lr at the end', () => {
    const opt = sgd(0.4);
    const lrs = lrsOf(opt, optim.getCosineScheduleWithWarmup(opt, 0, 10, 1), 11).map(([lr]) => lr!);
    expectClose(lrs[5]!, 0, { atol: 1e-17 });
    expectClose(lrs[10]!, 0.4, { rtol: 1e-15 });
  });

  it('validate their arguments', () => {
    expect(errorOf(() => optim.getLinearScheduleWithWarmup(sgd(), -1, 10))).toBe('getLinearScheduleWithWarmup: invalid numWarmupSteps: expected an integer ≥ 0, got -1');
    expect(errorOf(() => optim.getLinearScheduleWithWarmup(sgd(), 1, 2.5))).toBe('getLinearScheduleWithWarmup: invalid numTrainingSteps: expected an integer ≥ 0, got 2.5');
    expect(errorOf(() => optim.getCosineScheduleWithWarmup(sgd(), 1, 10, -0.5))).toBe('getCosineScheduleWithWarmup: invalid numCycles: expected a finite number ≥ 0, got -0.5');
  });
});

describe('stateDict / loadStateDict', () => {
  it('resuming optimizer + scheduler continues the schedule and the parameters exactly', () => {
    const run = (p: Tensor, opt: optim.Optimizer, sched: optim.LRScheduler, n: number): number[] => {
      const lrs: number[] = [];
      for (let i = 0; i < n; i++) {
        lrs.push(sched.getLastLr()[0]!);
        opt.zeroGrad();
        p.sin().sum().backward();
        opt.step();
        sched.step();
      }
      return lrs;
    };
    const pa = param();
    const optA = new optim.AdamW([pa], { lr: 0.1 });
    const schedA = optim.getCosineScheduleWithWarmup(optA, 3, 10);
    run(pa, optA, schedA, 4);
    const savedOpt = optA.stateDict();
    const savedSched = schedA.stateDict();
    const pb = pa.detach().clone().requiresGrad_(true);
    const restA = run(pa, optA, schedA, 5);

    const optB = new optim.AdamW([pb], { lr: 0.1 });
    const schedB = optim.getCosineScheduleWithWarmup(optB, 3, 10);
    optB.loadStateDict(savedOpt);
    schedB.loadStateDict(savedSched);
    expect(schedB.getLastLr()).toEqual(savedSched.lastLr);
    expect(run(pb, optB, schedB, 5)).toEqual(restA);
    expect(Array.from(pb.toTypedArray())).toEqual(Array.from(pa.toTypedArray()));
  });

  it('StepLR saves stepSize and gamma', () => {
    const opt = sgd(1);
    const sched = new optim.StepLR(opt, 3, 0.5);
    sched.step();
    expect(sched.stateDict()).toEqual({ lastEpoch: 1, baseLrs: [1], lastLr: [1], stepSize: 3, gamma: 0.5 });
    const other = new optim.StepLR(sgd(1), 7, 0.9);
    other.loadStateDict(sched.stateDict());
    expect([other.stepSize, other.gamma, other.lastEpoch]).toEqual([3, 0.5, 1]);
  });

  it('rejects state dicts that do not fit', () => {
    const sched = new optim.LambdaLR(sgd(), () => 1);
    const two = new optim.LambdaLR(new optim.SGD([{ params: [param()] }, { params: [param()] }], { lr: 1 }), () => 1);
    expect(errorOf(() => two.loadStateDict(sched.stateDict()))).toBe('LambdaLR.loadStateDict: invalid stateDict.baseLrs: expected an array of 2 learning rates (one per parameter group), got [0.1]');
    const step = new optim.StepLR(sgd(), 2);
    expect(errorOf(() => step.loadStateDict(sched.stateDict()))).toMatch(/^StepLR\.loadStateDict: stateDict lacks 'stepSize'/);
    expect(errorOf(() => sched.loadStateDict(step.stateDict()))).toMatch(/^LambdaLR\.loadStateDict: unknown options 'stepSize', 'gamma' in stateDict/);
    expect(errorOf(() => sched.loadStateDict({ ...sched.stateDict(), lastEpoch: 0.5 }))).toBe('LambdaLR.loadStateDict: invalid stateDict.lastEpoch: expected an integer ≥ -1, got 0.5');
  });
});
