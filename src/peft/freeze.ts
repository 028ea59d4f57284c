/**
 * Freezing parameters by name, and counting what trains.
 *
 * A frozen parameter has `requiresGrad = false`. The autograd engine records a graph node only
 * when one of an op's inputs requires grad (engine.ts `record`), so a subgraph whose inputs are
 * all frozen — e.g. a frozen embedding layer and the encoder layers above it, as long as nothing
 * below them trains — is never recorded: its backward costs nothing, and its activations are not
 * kept for a backward. Optimizers skip parameters whose `.grad` is null, so a frozen parameter
 * never gets optimizer state; `trainableParameters(model)` hands an optimizer only the rest.
 *
 * Name patterns are globs over the dotted parameter names of `model.namedParameters()`:
 *
 *   `*`        any run of characters, dots included       `bert.embeddings.*`
 *   `?`        one character
 *   `{a,b,c}`  one of the alternatives                    `*.{query,value}.weight`
 *   `{m..n}`   one integer of the inclusive range m..n    `bert.encoder.layer.{0..5}.*`
 *
 * A pattern matches a parameter when it matches its whole name or the name of a module that
 * holds it (`bert.encoder.layer.0` freezes the whole layer). A pattern that matches nothing is an
 * error (a typo must not silently train the whole model).
 */
import type { Module, Parameter } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Compiles one glob (see the file header) into an anchored RegExp.
 * @example
 * ```ts
 * const re = peft.globToRegExp('bert.encoder.layer.{0..5}.*');
 * re.test('bert.encoder.layer.3.attention.self.query.weight'); // true
 * re.test('bert.encoder.layer.11.output.dense.bias');           // false
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw new Error(`glob: expected a non-empty pattern string, got ${JSON.stringify(pattern)}`);
  }
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) throw new Error(`glob: unclosed '{' at position ${i} in pattern '${pattern}'`);
      const body = pattern.slice(i + 1, end);
      const range = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
      let alts: string[];
      if (range) {
        const a = Number(range[1]), b = Number(range[2]);
        if (b < a) throw new Error(`glob: empty range {${body}} in pattern '${pattern}' (expected {m..n} with m ≤ n)`);
        if (b - a > 100000) throw new Error(`glob: range {${body}} in pattern '${pattern}' is too large (more than 100000 values)`);
        alts = [];
        for (let k = a; k <= b; k++) alts.push(String(k));
      } else {
        alts = body.split(',');
        if (alts.some((s) => s.includes('{'))) throw new Error(`glob: nested braces are not supported in pattern '${pattern}'`);
      }
      re += `(?:${alts.map(escapeRe).map((s) => s.replace(/\\\*/g, '.*').replace(/\\\?/g, '.')).join('|')})`;
      i = end;
    } else if (c === '}') throw new Error(`glob: unmatched '}' at position ${i} in pattern '${pattern}'`);
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `name` (a parameter name) or one of its module prefixes matches `re`. */
function matchesNameOrOwner(re: RegExp, name: string): boolean {
  if (re.test(name)) return true;
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) if (re.test(name.slice(0, i))) return true;
  return false;
}

function toPatternList(fn: string, patterns: string | readonly string[]): string[] {
  const list = typeof patterns === 'string' ? patterns.split(',').map((s) => s.trim()).filter((s) => s !== '') : [...patterns];
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || p === '')) {
    throw new Error(`${fn}: patterns must be a non-empty glob or list of globs (e.g. 'bert.embeddings.*'), got ${JSON.stringify(patterns)}`);
  }
  return list;
}

/**
 * The parameters whose names match any of the globs (see the file header), by name.
 * Throws for a pattern that matches no parameter, listing a few of the model's names.
  * @example
  * ```ts
  * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.LayerNorm(8));
  * peft.matchParameters(model, '*.bias').map(([name]) => name); // ['0.bias', '1.bias']
  * peft.matchParameters(model, 'encoder.*'); // throws: no parameter matches, listing some of the names
  * ```
 */
export function matchParameters(model: Module, patterns: string | readonly string[], fn = 'matchParameters'): [string, Parameter][] {
  const list = toPatternList(fn, patterns);
  const named = [...model.namedParameters()];
  const out: [string, Parameter][] = [];
  const picked = new Set<Parameter>();
  for (const pat of list) {
    const re = globToRegExp(pat);
    let hits = 0;
    for (const [name, p] of named) {
      if (!matchesNameOrOwner(re, name)) continue;
      hits++;
      if (!picked.has(p)) {
        picked.add(p);
        out.push([name, p]);
      }
    }
    if (hits === 0) {
      const sample = named.slice(0, 3).map(([n]) => `'${n}'`).join(', ');
      throw new Error(`${fn}: pattern '${pat}' matches no parameter of ${model.constructor.name} (its ${named.length} parameter names look like ${sample}, …)`);
    }
  }
  return out;
}

/**
 * Freezes (requiresGrad = false) every parameter whose name matches one of the globs and
 * returns their names.
 *
 * @example
 * freeze(model, ['bert.embeddings.*', 'bert.encoder.layer.{0..5}.*']); // train only the top layers
 */
export function freeze(model: Module, patterns: string | readonly string[]): string[] {
  return matchParameters(model, patterns, 'freeze').map(([n, p]) => {
    p.requiresGrad = false;
    p.grad = null;
    return n;
  });
}

/**
 * Unfreezes (requiresGrad = true) every parameter whose name matches one of the globs and
 * returns their names.
 *
 * @example
 * model.requiresGrad_(false);
 * unfreeze(model, 'classifier.*'); // a linear probe
 */
export function unfreeze(model: Module, patterns: string | readonly string[]): string[] {
  return matchParameters(model, patterns, 'unfreeze').map(([n, p]) => {
    p.requiresGrad = true;
    return n;
  });
}

/**
 * The parameters that train (requiresGrad), in `namedParameters()` order: what to give an optimizer.
 * @example
 * ```ts
 * peft.applyLora(model, { r: 8, modulesToSave: ['classifier'] });
 * const opt = new optim.AdamW(peft.trainableParameters(model), { lr: 1e-3 }); // only LoRA matrices and the head
 * ```
 */
export function trainableParameters(model: Module): Parameter[] {
  return model.parameters().filter((p) => p.requiresGrad);
}

/** Trainable and total parameter counts (elements; a shared parameter counts once). */
export interface ParameterCount {
  /** Elements of the parameters with requiresGrad. */
  trainable: number;
  /** Elements of all parameters. */
  total: number;
  /** 100 · trainable / total (0 for a model without parameters). */
  percent: number;
}

/**
 * Counts the model's parameters, as peft's `get_nb_trainable_parameters`: LoRA matrices and
 * adapters count in `total` as well as in `trainable`.
 *
 * @example
 * const { trainable, total, percent } = countParameters(model);
 */
export function countParameters(model: Module): ParameterCount {
  let trainable = 0, total = 0;
  for (const p of model.parameters()) {
    const n = p.numel();
    total += n;
    if (p.requiresGrad) trainable += n;
  }
  return { trainable, total, percent: total === 0 ? 0 : (100 * trainable) / total };
}

/**
 * `trainable params: 563 || all params: 6,438 || trainable%: 8.7450`, as peft's `print_trainable_parameters`.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 2));
 * peft.freeze(model, '0');                // the first layer
 * peft.formatTrainableParameters(model);  // 'trainable params: 18 || all params: 58 || trainable%: 31.0345'
 * ```
 */
export function formatTrainableParameters(model: Module): string {
  const { trainable, total, percent } = countParameters(model);
  const n = (x: number) => x.toLocaleString('en-US');
  return `trainable params: ${n(trainable)} || all params: ${n(total)} || trainable%: ${percent.toFixed(4)}`;
}

/**
 * Prints `formatTrainableParameters(model)` (to `log`, default console.log).
 * @example
 * ```ts
 * peft.printTrainableParameters(model); // trainable params: 18 || all params: 58 || trainable%: 31.0345
 * ```
 */
export function printTrainableParameters(model: Module, log: (line: string) => void = console.log): void {
  log(formatTrainableParameters(model));
}

/**
 * The number of autograd graph nodes behind `t` (the ops a `t.backward()` would run): a measure
 * of what freezing saves, since ops whose inputs all have `requiresGrad = false` record none.
 *
 * @example
 * freeze(model, ['bert.*']);
 * countGraphNodes(loss); // only the head's and the loss's ops
 */
export function countGraphNodes(t: Tensor): number {
  const seen = new Set<unknown>();
  const stack = t.gradFn ? [t.gradFn] : [];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const x of n.inputs) if (x.gradFn && !seen.has(x.gradFn)) stack.push(x.gradFn);
  }
  return seen.size;
}
