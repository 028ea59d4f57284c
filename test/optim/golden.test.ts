/**
 * Golden tests of src/optim against PyTorch 1.13 float64 reference values
 * (test/fixtures/golden/optim.json, made by gen_golden.py; schema in the README beside it).
 *
 * - optimizers: SGD / Adam / AdamW on L(θ, W) = ½θᵀAθ − bᵀθ + ½Σ(W·u − t)², 5 steps; the loss
 *   and gradients before each step, the parameters after it, and the final state.
 * - clip_grad_norm: total norm and clipped gradients (norm 2, norm ∞, no clipping).
 * - lr_schedules: 12 lrs of HF's linear / cosine warmup schedules and StepLR.
 */
import { describe, expect, it } from 'vitest';
import { tensor, zeros, type Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { expectClose, fixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface Problem {
  A: FixtureTensor;
  b: FixtureTensor;
  u: FixtureTensor;
  t: FixtureTensor;
  theta0: FixtureTensor;
  W0: FixtureTensor;
  param_order: string[];
}
interface TrajectoryStep {
  step: number;
  loss: number;
  grads: Record<'theta' | 'W', FixtureTensor>;
  params: Record<'theta' | 'W', FixtureTensor>;
}
interface OptimizerCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  hyper: Record<string, unknown>;
  trajectory: TrajectoryStep[];
  final_state: Record<'theta' | 'W', Record<string, FixtureTensor | number>>;
}
interface ClipCase {
  name: string;
  max_norm: number;
  norm_type: number | 'inf';
  eps: number;
  grads_in: FixtureTensor[];
  total_norm: number;
  grads_out: FixtureTensor[];
}
interface ScheduleCase {
  name: string;
  kind: 'linear_with_warmup' | 'cosine_with_warmup' | 'step_lr';
  base_lr: number;
  num_warmup_steps?: number;
  num_training_steps?: number;
  num_cycles?: number;
  step_size?: number;
  gamma?: number;
  lrs: number[];
}
interface OptimFixture {
  problem: Problem;
  optimizers: OptimizerCase[];
  clip_grad_norm: ClipCase[];
  lr_schedules: ScheduleCase[];
}

const fx = loadFixture<OptimFixture>('golden/optim.json');
const P = fx.problem;
const A = fixtureTensor(P.A);
const b = fixtureTensor(P.b);
const u = fixtureTensor(P.u);
const t = fixtureTensor(P.t);

/** L(θ, W) = ½θᵀ(Aθ) − bᵀθ + ½Σ(W·u − t)², in float64 with tensorgrad ops. */
function loss(theta: Tensor, W: Tensor): Tensor {
  const quad = theta.mul(A.matmul(theta)).sum().mul(0.5); // ½θᵀAθ
  const lin = b.mul(theta).sum(); // bᵀθ
  const r = W.matmul(u).sub(t); // (2,)
  return quad.sub(lin).add(r.mul(r).sum().mul(0.5));
}

/** Our optimizer for a fixture configuration (snake_case hyperparameters → camelCase options). */
function makeOptimizer(c: OptimizerCase, params: Tensor[]): optim.Optimizer {
  const h = c.hyper;
  switch (c.optimizer) {
    case 'SGD':
      return new optim.SGD(params, {
        lr: h.lr as number,
        momentum: h.momentum as number,
        dampening: h.dampening as number,
        weightDecay: h.weight_decay as number,
        nesterov: h.nesterov as boolean,
      });
    case 'Adam':
    case 'AdamW': {
      const opts = {
        lr: h.lr as number,
        betas: h.betas as [number, number],
        eps: h.eps as number,
        weightDecay: h.weight_decay as number,
        amsgrad: h.amsgrad as boolean,
      };
      return c.optimizer === 'Adam' ? new optim.Adam(params, opts) : new optim.AdamW(params, opts);
    }
  }
}

/** torch state names → ours. */
const STATE_NAMES: Record<string, string> = {
  momentum_buffer: 'momentumBuffer',
  exp_avg: 'expAvg',
  exp_avg_sq: 'expAvgSq',
  max_exp_avg_sq: 'maxExpAvgSq',
  step: 'step',
};

const TOL = { rtol: 1e-12, atol: 1e-13 };

describe('optim golden: the problem', () => {
  it('has the documented parameter order', () => {
    expect(P.param_order).toEqual(['theta', 'W']);
  });
});

describe('optim golden: optimizers (5 steps vs torch.optim, float64)', () => {
  expect(fx.optimizers.length).toBe(9);
  for (const c of fx.optimizers) {
    it(c.name, () => {
      const theta = fixtureTensor(P.theta0, { requiresGrad: true });
      const W = fixtureTensor(P.W0, { requiresGrad: true });
      const opt = makeOptimizer(c, [theta, W]);
      expect(c.trajectory.length).toBe(5);
      for (const [k, ref] of c.trajectory.entries()) {
        expect(ref.step).toBe(k + 1);
        opt.zeroGrad();
        const l = loss(theta, W);
        l.backward();
        expectClose(l, ref.loss, { ...TOL, what: `${c.name} step ${ref.step} loss` });
        expectClose(theta.grad!, fixtureTensor(ref.grads.theta), { ...TOL, what: `${c.name} step ${ref.step} grad theta` });
        expectClose(W.grad!, fixtureTensor(ref.grads.W), { ...TOL, what: `${c.name} step ${ref.step} grad W` });
        opt.step();
        expectClose(theta, fixtureTensor(ref.params.theta), { ...TOL, what: `${c.name} step ${ref.step} theta` });
        expectClose(W, fixtureTensor(ref.params.W), { ...TOL, what: `${c.name} step ${ref.step} W` });
      }
      for (const [pname, p] of [['theta', theta], ['W', W]] as const) {
        const want = c.final_state[pname];
        const got = opt.state.get(p) ?? {};
        // The same entries as PyTorch (SGD without momentum keeps none).
        expect(Object.keys(got).sort()).toEqual(Object.keys(want).map((k) => STATE_NAMES[k]).sort());
        for (const [k, v] of Object.entries(want)) {
          const mine = got[STATE_NAMES[k]!];
          if (typeof v === 'number') expect(mine).toBe(v);
          else expectClose(mine as Tensor, fixtureTensor(v), { ...TOL, what: `${c.name} final state ${pname}.${k}` });
        }
      }
    });
  }
});

describe('optim golden: clipGradNorm vs torch.nn.utils.clip_grad_norm_', () => {
  expect(fx.clip_grad_norm.length).toBe(3);
  for (const c of fx.clip_grad_norm) {
    it(c.name, () => {
      expect(c.eps).toBe(optim.CLIP_NORM_EPS);
      const ps = c.grads_in.map((g) => {
        const p = zeros(g.shape, { dtype: 'float64', requiresGrad: true });
        p.grad = fixtureTensor(g);
        return p;
      });
      const normType = c.norm_type === 'inf' ? Infinity : c.norm_type;
      const total = optim.clipGradNorm(ps, c.max_norm, normType);
      expectClose(total, c.total_norm, { ...TOL, what: `${c.name} total norm` });
      ps.forEach((p, i) => expectClose(p.grad!, fixtureTensor(c.grads_out[i]!), { ...TOL, what: `${c.name} grad ${i}` }));
    });
  }
});

describe('optim golden: LR schedules (12 steps)', () => {
  expect(fx.lr_schedules.length).toBe(3);
  for (const c of fx.lr_schedules) {
    it(c.name, () => {
      const p = tensor([0], { dtype: 'float64', requiresGrad: true });
      const opt = new optim.SGD([p], { lr: c.base_lr });
      let sched: optim.LRScheduler;
      switch (c.kind) {
        case 'linear_with_warmup':
          sched = optim.getLinearScheduleWithWarmup(opt, c.num_warmup_steps!, c.num_training_steps!);
          break;
        case 'cosine_with_warmup':
          sched = optim.getCosineScheduleWithWarmup(opt, c.num_warmup_steps!, c.num_training_steps!, c.num_cycles!);
          break;
        case 'step_lr':
          sched = new optim.StepLR(opt, c.step_size!, c.gamma!);
          break;
      }
      const lrs: number[] = [];
      for (let i = 0; i < 12; i++) {
        lrs.push(sched.getLastLr()[0]!);
        expect(opt.paramGroups[0]!.lr).toBe(lrs[i]);
        opt.step();
        sched.step();
      }
      expectClose(lrs, c.lrs, { rtol: 1e-14, atol: 1e-16, what: c.name });
    });
  }
});
