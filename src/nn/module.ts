/**
 * Module and Parameter, as torch.nn.Module / torch.nn.Parameter.
 *
 * Parameters and submodules are discovered from a module's own properties (the way PyTorch's
 * __setattr__ registers them), so `this.weight = new Parameter(…)` and
 * `this.dense = new Linear(…)` are all it takes, and the dotted names of `namedParameters()` /
 * `stateDict()` follow the property names — which is how HuggingFace checkpoint names like
 * `bert.encoder.layer.0.attention.self.query.weight` come out exactly. Properties whose names
 * start with `_` are private and never registered. Buffers (non-trainable state saved in the
 * state dict) are registered explicitly with `registerBuffer`.
 */
import { noGrad } from '../autograd/engine.js';
import { releaseBackwardGrad } from '../autograd/backward.js';
import { isDType, isFloatingDType, type DType } from '../core/dtype.js';
import { fmtShape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A tensor that is a module's trainable weight: requiresGrad by default.
 * @example
 * ```ts
 * class Scale extends nn.Module {
 *   gamma = new nn.Parameter(ones([8]));  // registered by being a property; requiresGrad true
 *   forward(x: Tensor): Tensor { return x.mul(this.gamma); }
 * }
 * new Scale().parameters().length;        // 1
 * ```
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    const d = data.isContiguous() ? data.detach() : data.detach().contiguous();
    super(d.storage, d.shape, d.strides, d.offset);
    if (requiresGrad) this.requiresGrad = true;
  }
}

/** Parameter and buffer tensors by dotted name (`bert.encoder.layer.0.attention.self.query.weight`), as torch's state_dict. */
export type StateDict = Record<string, Tensor>;

/** What `loadStateDict` reports (torch's `_IncompatibleKeys`): names the model expected but did not get, and names it got but does not have. */
export interface LoadStateDictResult {
  /** Names the model has but the state dict did not provide (those tensors keep their current values). */
  missingKeys: string[];
  /** Names in the state dict that the model does not have (not loaded). */
  unexpectedKeys: string[];
}

/** Thrown by `loadStateDict` for a tensor of the wrong shape or dtype, or missing/unexpected keys in strict mode. */
export class StateDictError extends Error {}

/**
 * Checks a state-dict argument: a plain object (any prototype, null included) or a Map of
 * name → Tensor. Throws a {@link StateDictError} naming `where` and what it got otherwise.
 */
export function checkStateDictArg(where: string, sd: unknown): Record<string, Tensor> {
  if (sd instanceof Map) return Object.fromEntries(sd) as Record<string, Tensor>;
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd) || sd instanceof Tensor) {
    const got = sd === null ? 'null' : Array.isArray(sd) ? `an array of length ${sd.length}` : sd instanceof Tensor ? 'a Tensor' : `${typeof sd} ${String(sd)}`;
    throw new StateDictError(`${where}: the state dict must be an object (or a Map) of name → Tensor, e.g. loadSafetensors(path) or model.stateDict(), got ${got}`);
  }
  return sd as Record<string, Tensor>;
}

/**
 * A forward hook (`module.registerForwardHook`): called after each `forward` with the module, the
 * arguments and the output; returning a value other than undefined replaces the output.
 */
export type ForwardHook<M extends Module = Module> = (module: M, args: unknown[], output: any) => unknown;

/**
 * The base class of layers and models, as torch.nn.Module: parameters and submodules are found from own properties, with `parameters()`, `namedParameters()`, `stateDict()` / `loadStateDict()`, `train()` / `eval()`, `to()` and forward hooks. Subclasses define `forward`.
 * @example
 * class TwoLayer extends Module {
 *   l1 = new Linear(4, 8);
 *   l2 = new Linear(8, 2);
 *   forward(x: Tensor): Tensor { return this.l2.forward(this.l1.forward(x).relu()); }
 * }
 * [...new TwoLayer().namedParameters()].map(([n]) => n); // ['l1.weight', 'l1.bias', 'l2.weight', 'l2.bias']
 */
export abstract class Module {
  /** Dropout and similar layers behave differently in training and evaluation. */
  training = true;
  private _forwardHooks: ForwardHook<any>[] | null = null;
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();

  /** Registers non-trainable state (saved in the state dict unless `persistent` is false). */
  registerBuffer(name: string, value: Tensor | null, persistent = true): void {
    if (name.includes('.') || name === '') throw new Error(`registerBuffer: invalid buffer name '${name}'`);
    this._buffers.set(name, value);
    if (!persistent) this._nonPersistent.add(name);
    (this as unknown as Record<string, unknown>)[name] = value;
  }

  /**
   * Registers a hook run after every `forward` of this module (PyTorch's
   * `register_forward_hook`): `fn(module, args, output)` may inspect the output (activations for
   * a probe, statistics) or return a replacement. Returns a handle whose `remove()` unregisters it.
   * @example
   * import { nn, randn, type Tensor } from 'tensorgrad';
   * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
   * const acts: Tensor[] = [];
   * const h = [...model.children()][1]!.registerForwardHook((_m, _args, out: Tensor) => { acts.push(out.detach()); });
   * model.forward(randn([3, 4])); // acts[0]: the ReLU's output, shape [3, 8]
   * h.remove();
   */
  registerForwardHook(fn: ForwardHook<this>): { remove(): void } {
    if (typeof fn !== 'function') throw new Error(`registerForwardHook: expected a function (module, args, output) => output | void, got ${typeof fn}`);
    const self = this as unknown as { forward?: (...a: unknown[]) => unknown };
    if (typeof self.forward !== 'function') throw new Error(`registerForwardHook: ${this.constructor.name} has no forward method`);
    if (this._forwardHooks === null) {
      const hooks: ForwardHook<any>[] = (this._forwardHooks = []);
      const inner = self.forward;
      // an own, non-enumerable `forward` that calls the class's and then the hooks
      Object.defineProperty(this, 'forward', {
        configurable: true, writable: true, enumerable: false,
        value: (...args: unknown[]) => {
          let out = inner.apply(this, args);
          for (const h of [...hooks]) {
            const r = h(this, args, out);
            if (r !== undefined) out = r;
          }
          return out;
        },
      });
    }
    const list = this._forwardHooks;
    list.push(fn);
    return {
      remove: () => {
        const i = list.indexOf(fn);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  /** Direct submodules, in declaration order. */
  *namedChildren(): IterableIterator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) {
      if (k.startsWith('_')) continue;
      if (v instanceof Module) yield [k, v];
    }
  }
  /** Direct submodules, in declaration order (namedChildren without the names). */
  *children(): IterableIterator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every submodule, with dotted names ('' for this one). */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k);
  }
  /** This module and every submodule, depth-first (namedModules without the names). */
  *modules(): IterableIterator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Own parameters (not recursive). */
  private *ownParameters(): IterableIterator<[string, Parameter]> {
    for (const [k, v] of Object.entries(this)) {
      if (!k.startsWith('_') && v instanceof Parameter) yield [k, v];
    }
  }

  /** Every parameter with its dotted name; a parameter shared by two modules appears once. */
  *namedParameters(prefix = ''): IterableIterator<[string, Parameter]> {
    const seen = new Set<Parameter>();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [mp ? `${mp}.${k}` : k, p];
      }
    }
  }
  /**
   * Every parameter of this module and its submodules, in namedParameters order; a shared (tied) parameter appears once.
   * @example
   * ```ts
   * const opt = new AdamW(model.parameters(), { lr: 1e-3 });
   * ```
   */
  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /**
   * Every registered non-parameter tensor (buffer) of this module and its submodules, with dotted names; unset (null) buffers are skipped.
   * @param prefix - prepended (with a dot) to every name.
   */
  *namedBuffers(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, b] of m._buffers) if (b) yield [mp ? `${mp}.${k}` : k, b];
    }
  }

  /** Number of parameters (elements), optionally only trainable ones. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    return this.parameters().filter((p) => !opts.trainableOnly || p.requiresGrad).reduce((n, p) => n + p.numel(), 0);
  }

  /**
   * Sets training mode (dropout active) on this module and every submodule; `train(false)` is `eval()`.
   * @param mode - true for training (default), false for evaluation.
   * @returns this module, for chaining.
   */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /**
   * Sets evaluation mode (dropout off) on this module and every submodule.
   * @returns this module, for chaining.
   * @example
   * ```ts
   * const logits = noGrad(() => model.eval().forward(inputs).logits);
   * ```
   */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      releaseBackwardGrad(p.grad); // a gradient backward() created goes back to the allocator now
      p.grad = null;
    }
  }

  /** Freezes (false) or unfreezes (true) every parameter. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Calls fn on every submodule (children first) and on this module, like nn.Module.apply. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Parameters and persistent buffers by dotted name (tensors share storage with the module). */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [mp, m] of this.namedModules()) {
      for (const [k, p] of m.ownParameters()) sd[mp ? `${mp}.${k}` : k] ??= p.detach();
      for (const [k, b] of m._buffers) if (b && !m._nonPersistent.has(k)) sd[mp ? `${mp}.${k}` : k] = b.detach();
    }
    return sd;
  }

  /**
   * Copies tensors from a state dict into this module's parameters and buffers (cast to
   * their dtype and device). With `strict` (default) any missing or unexpected key is an
   * error; a shape mismatch is always an error. All problems are reported at once.
   */
  loadStateDict(sd: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const src = checkStateDictArg(`${this.constructor.name}.loadStateDict`, sd);
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !Object.hasOwn(src, k));
    const unexpectedKeys = Object.keys(src).filter((k) => !Object.hasOwn(own, k));
    const mismatched: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const s = Object.hasOwn(src, k) ? src[k] : undefined;
      if (s === undefined) continue;
      if (!(s instanceof Tensor)) mismatched.push(`${k}: expected a Tensor, got ${typeof s}`);
      else if (!shapesEqual(s.shape, t.shape)) mismatched.push(`${k}: copying a param with shape ${fmtShape(s.shape)} from checkpoint, the shape in the current model is ${fmtShape(t.shape)}`);
    }
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length) problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (mismatched.length) problems.push(`Size mismatch: ${mismatched.join('; ')}.`);
    if (problems.length) throw new StateDictError(`Error(s) in loading state_dict for ${this.constructor.name}:\n  ${problems.join('\n  ')}`);
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const s = Object.hasOwn(src, k) ? src[k] : undefined;
        if (s) t.copy_(s.to({ dtype: t.dtype, device: t.device }));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Converts every parameter and buffer to a dtype and/or device (in place: the module's
   * parameters are replaced by converted ones; optimizers must be created afterwards).
   */
  to(target: DType | string | { dtype?: DType; device?: string }): this {
    const spec = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    for (const m of this.modules()) {
      const rec = m as unknown as Record<string, unknown>;
      for (const [k, p] of [...m.ownParameters()]) {
        const q = new Parameter(p.detach().to(spec), p.requiresGrad);
        rec[k] = q;
      }
      for (const [k, b] of m._buffers) {
        if (!b) continue;
        // integer/bool buffers (e.g. position ids) move devices but keep their dtype
        const nb = isFloatingDType(b.dtype) ? b.to(spec) : b.to({ device: spec.device });
        m._buffers.set(k, nb);
        rec[k] = nb;
      }
    }
    // parameters shared between modules (tied weights) must stay shared
    for (const m of this.modules()) m.retie();
    return this;
  }

  /** Re-establishes weight tying after `to()`; modules with tied weights override this. */
  protected retie(): void {}

  /** One line of constructor arguments for printing, e.g. `in=4, out=2`. */
  extraRepr(): string {
    return '';
  }

  /** The module tree as torch prints it: `Name(extraRepr)` for a leaf, otherwise one indented `(name): child` line per submodule. */
  toString(): string {
    // as torch's Module.__repr__: `Name(extra)` for a leaf; otherwise the extra repr and then
    // one `(name): child` line per child, each indented by two spaces
    const kids = [...this.namedChildren()];
    const extra = this.extraRepr();
    if (kids.length === 0) return `${this.constructor.name}(${extra})`;
    const lines = [
      ...(extra ? extra.split('\n') : []),
      ...kids.map(([k, m]) => `(${k}): ${m.toString().split('\n').join('\n  ')}`),
    ];
    return `${this.constructor.name}(\n  ${lines.join('\n  ')}\n)`;
  }
}
