/**
 * The Optimizer base class, as torch.optim.Optimizer (PyTorch 1.13 semantics).
 *
 * An optimizer holds
 * - `paramGroups`: lists of parameters, each with its own hyperparameters (so that, say, biases
 *   and LayerNorm weights get no weight decay), missing values taken from `defaults`;
 * - `state`: per-parameter buffers (momentum, Adam's moments, step counts), created lazily on
 *   the first step that parameter takes part in.
 *
 * `step()` runs under `noGrad` and updates the parameters **in place**: they are the very
 * tensors the model holds. A parameter whose `.grad` is null is skipped entirely (no weight
 * decay either), as PyTorch does. `stateDict()` / `loadStateDict()` use PyTorch's layout:
 * parameters are referred to by their index in the order of the groups, state tensors are
 * cloned, and a run resumed from a state dict continues bit-identically.
 *
 * Departures from torch.optim.Optimizer, all deliberate:
 * - `zeroGrad()` defaults to `setToNone = true` (PyTorch ≥ 2.0; 1.13 defaulted to false).
 * - A parameter listed twice in one group is an error (PyTorch only warns).
 * - Parameters must be floating-point leaf tensors.
 * - `loadStateDict` checks more than PyTorch: hyperparameter names and values, state entry
 *   names, and the shape of every state tensor against its parameter. Nothing is changed
 *   unless everything checks out.
 * - The step count in the state is a plain number (PyTorch 1.13 keeps a 0-d tensor).
 */
import { enableGrad, noGrad } from '../autograd/engine.js';
import { releaseBackwardGrad } from '../autograd/backward.js';
import { isFloatingDType } from '../core/dtype.js';
import { keep, tidy } from '../tensor/scope.js';
import { fmtShape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNumber, fail, fmtValue } from './validate.js';

/** The hyperparameter every optimizer has. */
export interface BaseHyperparameters {
  /** Learning rate (γ in the algorithms below). */
  lr: number;
}

/** A parameter group as the optimizer holds it: its parameters and every hyperparameter. */
export type ParamGroup<H extends BaseHyperparameters = BaseHyperparameters> = H & {
  params: Tensor[];
  /** The lr before any LR scheduler changed it; set by the first scheduler (PyTorch's `initial_lr`). */
  initialLr?: number;
};

/** A parameter group as given by the user: parameters, and any hyperparameters to override. */
export type ParamGroupSpec<H extends BaseHyperparameters = BaseHyperparameters> = Partial<H> & {
  params: Iterable<Tensor> | Tensor;
  initialLr?: number;
};

/** What an optimizer's constructor accepts: parameters, or parameter groups. */
export type ParamsArg<H extends BaseHyperparameters = BaseHyperparameters> = Iterable<Tensor> | Iterable<ParamGroupSpec<H>>;

/** One entry of a parameter's state: a buffer shaped like the parameter, or a step count. */
export type StateValue = Tensor | number;
/** An optimizer's state for one parameter (e.g. Adam's step, exp_avg, exp_avg_sq), by torch's names. */
export type ParamState = Record<string, StateValue>;

/**
 * How an optimizer declares the entries of its per-parameter state (checked by `loadStateDict`):
 * `tensor` entries have the parameter's shape; `count` entries are non-negative integers.
 */
export interface StateEntrySpec {
  /** 'tensor': a tensor of the parameter's shape (e.g. exp_avg); 'count': a non-negative integer (e.g. step). */
  kind: 'tensor' | 'count';
  /** Whether every state that exists must have this entry. */
  required: boolean;
}

/** The serialisable state of an optimizer, in PyTorch's layout. */
export interface OptimizerStateDict {
  /** Parameter index → that parameter's state (cloned). Parameters without state are absent. */
  state: Record<number, ParamState>;
  /** Every group's hyperparameters; `params` holds parameter indices, numbered across groups in order. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/** Copies hyperparameter values so that groups never share an array (e.g. `betas`). */
function cloneHyper<T extends object>(h: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? [...v] : v;
  return out as T;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Tensor);
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/**
 * Base class of all optimizers. A subclass supplies its defaults, a check of its
 * hyperparameters, the spec of its per-parameter state and the update of one parameter.
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const w = tensor([1, 2, 3], { requiresGrad: true });
 * const opt = new optim.SGD([w], { lr: 0.1 });
 * w.mul(w).sum().backward();   // ∂/∂w Σw² = 2w
 * opt.step();                  // w ← w − 0.1·2w = [0.8, 1.6, 2.4]
 * opt.zeroGrad();
 */
export abstract class Optimizer<H extends BaseHyperparameters = BaseHyperparameters> {
  /** The hyperparameters a group gets unless it sets its own. */
  readonly defaults: Readonly<H>;
  /** The parameter groups; a scheduler or the user may change a group's hyperparameters (e.g. `lr`) between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, keyed by the parameter tensor itself. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsArg<H>, defaults: H) {
    const owner = this.constructor.name;
    if (!isPlainObject(defaults)) fail(owner, 'defaults', 'an object of hyperparameters', defaults);
    this.checkHyperparameters(defaults, '');
    this.defaults = Object.freeze(cloneHyper(defaults));
    if (params instanceof Tensor || !isIterable(params)) {
      fail(owner, 'params', 'an iterable of Tensors or of parameter groups { params, ...hyperparameters }', params);
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new Error(`${owner}: got an empty parameter list (expected at least one Tensor or parameter group)`);
    const groups: ParamGroupSpec<H>[] =
      list[0] instanceof Tensor ? [{ params: list } as unknown as ParamGroupSpec<H>] : (list as ParamGroupSpec<H>[]);
    if (list[0] instanceof Tensor) {
      list.forEach((p, i) => {
        if (!(p instanceof Tensor)) fail(owner, `params[${i}]`, 'a Tensor (the list started with Tensors, so it cannot also hold parameter groups)', p);
      });
    }
    for (const g of groups) this.addParamGroup(g);
    if (this.paramGroups.every((g) => g.params.length === 0)) {
      throw new Error(`${owner}: got an empty parameter list (every one of the ${this.paramGroups.length} parameter groups is empty)`);
    }
  }

  /**
   * Checks a complete set of hyperparameters; `where` prefixes the argument names in messages
   * ('' for the constructor's options, 'paramGroups[1].' for a group).
   */
  protected abstract checkHyperparameters(h: H, where: string): void;

  /** The entries a parameter's state may hold (for `loadStateDict`). */
  protected abstract stateSpec(): Readonly<Record<string, StateEntrySpec>>;

  /**
   * Updates one parameter in place, given its gradient (never null here), its state (an object
   * that starts empty) and its group. Runs under `noGrad` and inside a `tidy` scope: tensors
   * stored into `state` must be passed through `keep()`.
   */
  protected abstract updateParameter(param: Tensor, grad: Tensor, state: ParamState, group: ParamGroup<H>): void;

  /**
   * Adds a parameter group (e.g. to unfreeze layers while training). Hyperparameters the group
   * does not set are taken from `defaults`.
   */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const owner = this.constructor.name;
    const where = `paramGroups[${this.paramGroups.length}]`;
    if (!isPlainObject(spec)) fail(owner, where, 'a parameter group { params, ...hyperparameters }', spec);
    const allowed = ['params', 'initialLr', ...Object.keys(this.defaults)];
    const unknown = Object.keys(spec).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) {
      throw new Error(
        `${owner}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} in ${where} ` +
          `(expected 'params' and some of ${allowed.filter((k) => k !== 'params').map((k) => `'${k}'`).join(', ')})`,
      );
    }
    if (!('params' in spec)) throw new Error(`${owner}: ${where} has no 'params' (expected { params: Tensor[], ...hyperparameters })`);
    const raw = spec.params;
    if (!(raw instanceof Tensor) && !isIterable(raw)) fail(owner, `${where}.params`, 'a Tensor or an iterable of Tensors', raw);
    const params = raw instanceof Tensor ? [raw] : [...(raw as Iterable<unknown>)];
    const seen = new Map<Tensor, number>();
    params.forEach((p, j) => {
      const name = `${where}.params[${j}]`;
      if (!(p instanceof Tensor)) fail(owner, name, 'a Tensor', p);
      if (!p.isLeaf) throw new Error(`${owner}: can't optimize a non-leaf Tensor (${name} was computed from other tensors; optimize the leaves it came from, or detach() it)`);
      if (!isFloatingDType(p.dtype)) fail(owner, `${name}.dtype`, "a floating-point dtype ('float32' or 'float64')", p.dtype);
      const first = seen.get(p);
      if (first !== undefined) throw new Error(`${owner}: ${name} is the same tensor as ${where}.params[${first}]; a parameter may appear only once`);
      seen.set(p, j);
      this.paramGroups.forEach((g, gi) => {
        const k = g.params.indexOf(p);
        if (k >= 0) throw new Error(`${owner}: some parameters appear in more than one parameter group: ${name} is also paramGroups[${gi}].params[${k}]`);
      });
    });
    const { params: _omit, ...overrides } = spec;
    const group = { ...cloneHyper(this.defaults as H), ...cloneHyper(overrides), params: params as Tensor[] } as ParamGroup<H>;
    this.checkHyperparameters(group, `${where}.`);
    if (group.initialLr !== undefined) checkNumber(owner, `${where}.initialLr`, group.initialLr, { min: 0 });
    this.paramGroups.push(group);
  }

  /**
   * Clears the gradient of every parameter: sets it to null (default), or fills it with zeros
   * with `setToNone = false`. Null is cheaper, and a null grad makes `step()` skip the parameter.
   */
  zeroGrad(setToNone = true): void {
    checkBoolean(`${this.constructor.name}.zeroGrad`, 'setToNone', setToNone);
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) {
          releaseBackwardGrad(p.grad); // a gradient backward() created goes back to the allocator now
          p.grad = null;
        }
        else if (p.grad !== null) {
          const grad = p.grad;
          noGrad(() => grad.zero_());
        }
      }
    }
  }

  /**
   * Performs one optimization step over every parameter whose `.grad` is not null.
   *
   * `closure`, if given, is called first with gradient recording on (it should zero the
   * grads, compute the loss, call backward and return the loss); its result is returned.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const owner = this.constructor.name;
    if (closure !== undefined && typeof closure !== 'function') {
      fail(`${owner}.step`, 'closure', 'a function that re-evaluates the model and returns the loss', closure);
    }
    const loss = closure ? enableGrad(closure) : undefined;
    // Groups are plain objects that schedulers and users change between steps: re-check them.
    this.paramGroups.forEach((group, gi) => this.checkHyperparameters(group, `paramGroups[${gi}].`));
    noGrad(() => {
      this.paramGroups.forEach((group, gi) => {
        group.params.forEach((p, pi) => {
          const grad = p.grad;
          if (grad === null) return; // PyTorch: no grad, no update (not even weight decay)
          if (!shapesEqual(grad.shape, p.shape) || grad.dtype !== p.dtype || grad.device !== p.device) {
            throw new Error(
              `${owner}.step: paramGroups[${gi}].params[${pi}] has shape ${fmtShape(p.shape)}, dtype ${p.dtype}, device '${p.device}' ` +
                `but its .grad has shape ${fmtShape(grad.shape)}, dtype ${grad.dtype}, device '${grad.device}'`,
            );
          }
          let st = this.state.get(p);
          if (st === undefined) {
            st = {};
            this.state.set(p, st);
          }
          const state = st;
          tidy(() => this.updateParameter(p, grad, state, group));
        });
      });
    });
    return loss;
  }

  /**
   * The optimizer's state and hyperparameters, as PyTorch lays them out: parameters become
   * indices (numbered across the groups in order), state tensors are cloned.
   */
  stateDict(): OptimizerStateDict {
    const ids = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return {
        ...cloneHyper(hyper),
        params: params.map((p) => {
          let id = ids.get(p);
          if (id === undefined) ids.set(p, (id = ids.size));
          return id;
        }),
      };
    });
    const state: Record<number, ParamState> = {};
    noGrad(() => {
      for (const [p, s] of this.state) {
        const id = ids.get(p);
        if (id === undefined) continue;
        const copy: ParamState = {};
        for (const [k, v] of Object.entries(s)) copy[k] = v instanceof Tensor ? v.detach().clone() : v;
        state[id] = copy;
      }
    });
    return { state, paramGroups };
  }

  /**
   * Restores state and hyperparameters from `stateDict()` of an optimizer built on the same
   * parameters in the same groups. State tensors are copied (cast to their parameter's dtype and
   * device). Everything is checked before anything changes.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const owner = `${name}.loadStateDict`;
    if (!isPlainObject(stateDict)) fail(owner, 'stateDict', 'an object { state, paramGroups } from Optimizer.stateDict()', stateDict);
    const { state, paramGroups } = stateDict as Partial<OptimizerStateDict>;
    if (!Array.isArray(paramGroups)) fail(owner, 'stateDict.paramGroups', 'an array of parameter groups', paramGroups);
    if (!isPlainObject(state)) fail(owner, 'stateDict.state', 'an object mapping parameter indices to state', state);
    if (paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${owner}: the state dict has ${paramGroups.length} parameter group(s) but this optimizer has ${this.paramGroups.length}`);
    }

    // Groups: sizes, ids → parameters, hyperparameters.
    const idToParam = new Map<number, Tensor>();
    const hypers: Record<string, unknown>[] = [];
    const required = Object.keys(this.defaults);
    paramGroups.forEach((saved, gi) => {
      const where = `stateDict.paramGroups[${gi}]`;
      if (!isPlainObject(saved)) fail(owner, where, 'a parameter group object', saved);
      const ids = saved.params;
      const current = this.paramGroups[gi]!.params;
      if (!Array.isArray(ids)) fail(owner, `${where}.params`, 'an array of parameter indices', ids);
      if (ids.length !== current.length) {
        throw new Error(`${owner}: ${where} has ${ids.length} parameter(s) but this optimizer's paramGroups[${gi}] has ${current.length}; the state dict belongs to a different set of parameters`);
      }
      ids.forEach((id, j) => {
        checkNumber(owner, `${where}.params[${j}]`, id, { min: 0, integer: true });
        if (idToParam.has(id)) throw new Error(`${owner}: parameter index ${id} appears more than once in stateDict.paramGroups`);
        idToParam.set(id, current[j]!);
      });
      const { params: _ids, ...hyper } = saved;
      const missing = required.filter((k) => !(k in hyper));
      const unknown = Object.keys(hyper).filter((k) => k !== 'initialLr' && !required.includes(k));
      if (missing.length > 0 || unknown.length > 0) {
        throw new Error(
          `${owner}: ${where} does not hold ${name}'s hyperparameters` +
            (missing.length ? `; missing ${missing.map((k) => `'${k}'`).join(', ')}` : '') +
            (unknown.length ? `; unknown ${unknown.map((k) => `'${k}'`).join(', ')}` : '') +
            ' (was it saved by a different optimizer?)',
        );
      }
      const h = cloneHyper(hyper);
      this.checkHyperparameters(h as unknown as H, `${where}.`);
      if (h.initialLr !== undefined) checkNumber(owner, `${where}.initialLr`, h.initialLr, { min: 0 });
      hypers.push(h);
    });

    // State: entries, kinds, shapes.
    const spec = this.stateSpec();
    const loaded: [Tensor, Record<string, unknown>, string][] = [];
    for (const [key, entry] of Object.entries(state)) {
      const where = `stateDict.state[${key}]`;
      const id = Number(key);
      const p = Number.isInteger(id) ? idToParam.get(id) : undefined;
      if (p === undefined) throw new Error(`${owner}: ${where} is for parameter index ${key}, which no group of stateDict.paramGroups lists`);
      if (!isPlainObject(entry)) fail(owner, where, 'an object of state entries', entry);
      for (const [k, v] of Object.entries(entry)) {
        const s = spec[k];
        if (s === undefined) {
          throw new Error(`${owner}: unknown state entry '${k}' in ${where} (${name} keeps ${Object.keys(spec).map((n) => `'${n}'`).join(', ')}; was it saved by a different optimizer?)`);
        }
        if (s.kind === 'count') checkNumber(owner, `${where}.${k}`, v, { min: 0, integer: true });
        else if (!(v instanceof Tensor)) fail(owner, `${where}.${k}`, 'a Tensor', v);
        else if (!shapesEqual(v.shape, p.shape)) {
          throw new Error(`${owner}: ${where}.${k} has shape ${fmtShape(v.shape)} but parameter ${key} has shape ${fmtShape(p.shape)}`);
        }
      }
      if (Object.keys(entry).length > 0) {
        const absent = Object.entries(spec).filter(([k, s]) => s.required && !(k in entry)).map(([k]) => `'${k}'`);
        if (absent.length > 0) throw new Error(`${owner}: ${where} lacks ${absent.join(', ')} (got ${fmtValue(Object.keys(entry))})`);
      }
      loaded.push([p, entry, where]);
    }

    // Commit.
    this.state.clear();
    noGrad(() => {
      for (const [p, entry] of loaded) {
        const st: ParamState = {};
        for (const [k, v] of Object.entries(entry)) {
          st[k] = v instanceof Tensor ? keep(v.detach().to({ dtype: p.dtype, device: p.device }).clone()) : (v as number);
        }
        this.state.set(p, st);
      }
    });
    this.paramGroups.forEach((g, gi) => {
      const target = g as unknown as Record<string, unknown>;
      delete target.initialLr;
      Object.assign(target, hypers[gi]);
    });
  }

  /** torch's printout: the class name, then each parameter group's tensor count and hyperparameters. */
  toString(): string {
    const lines = this.paramGroups.map((g, i) => {
      const { params, ...hyper } = g;
      const hs = Object.entries(hyper).map(([k, v]) => `    ${k}: ${fmtValue(v)}`);
      return `Parameter Group ${i}\n    params: ${params.length} tensor(s)\n${hs.join('\n')}`;
    });
    return `${this.constructor.name} (\n${lines.join('\n')}\n)`;
  }
}
