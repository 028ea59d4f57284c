/**
 * Shared plumbing of the PEFT methods: replacing a submodule by its dotted name, matching
 * module names the way HuggingFace peft does, and remembering which method a model carries.
 */
import { Module, Parameter } from '../nn/module.js';
import { Linear } from '../nn/layers.js';

/** The parent module of `path` and the property name under which it holds the child. */
export function parentOf(root: Module, path: string): [Module, string] {
  const parts = path.split('.');
  const key = parts.pop()!;
  let parent: Module = root;
  for (const p of parts) {
    const next = (parent as unknown as Record<string, unknown>)[p];
    if (!(next instanceof Module)) throw new Error(`no submodule '${p}' on the way to '${path}' in ${root.constructor.name}`);
    parent = next;
  }
  return [parent, key];
}

/** Replaces the submodule at `path` (a name from `namedModules()`) with `replacement`. */
export function setSubmodule(root: Module, path: string, replacement: Module): void {
  const [parent, key] = parentOf(root, path);
  (parent as unknown as Record<string, unknown>)[key] = replacement;
  // ModuleList keeps an array beside its numbered properties; its retie() re-reads them
  (parent as unknown as { retie(): void }).retie();
}

/**
 * Whether a module name is a target, as peft's `check_target_module_exists`: a string is a
 * regular expression that must match the whole name; a list matches a name equal to an entry
 * or ending in `.entry`.
 */
export function matchesTarget(targets: string | readonly string[], name: string): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(name);
  return targets.some((t) => name === t || name.endsWith(`.${t}`));
}

/** Whether a module name lies inside one of `modulesToSave` (peft's `(^|.*\.)m($|\..*)`). */
export function inModulesToSave(modulesToSave: readonly string[] | null | undefined, name: string): boolean {
  if (!modulesToSave) return false;
  return modulesToSave.some((m) => name === m || name.startsWith(`${m}.`) || name.endsWith(`.${m}`) || name.includes(`.${m}.`));
}

/** Parameters held by more than one module (tied weights), which cannot be adapted in place. */
export function tiedParameters(root: Module): Set<Parameter> {
  const seen = new Set<Parameter>();
  const tied = new Set<Parameter>();
  for (const m of root.modules()) {
    for (const [k, v] of Object.entries(m)) {
      if (k.startsWith('_') || !(v instanceof Parameter)) continue;
      if (seen.has(v)) tied.add(v);
      seen.add(v);
    }
  }
  return tied;
}

/** Names of the model's Linear layers, for error messages: the distinct last components. */
export function linearNames(root: Module): string[] {
  const names = new Set<string>();
  for (const [n, m] of root.namedModules()) if (m instanceof Linear && n) names.add(n.split('.').pop()!);
  return [...names];
}

/** What `applyLora` / `applyBitFit` / `applyAdapters` attached to a model. */
export interface PeftState {
  /** Which method was applied: LoRA, BitFit or bottleneck adapters. */
  method: 'lora' | 'bitfit' | 'adapter';
  /** The method's full config (LoraConfig, BitFitConfig or AdapterConfig). */
  config: unknown;
  /** Dotted names of the modules that were adapted (LoRA / adapter layers). */
  adapted: string[];
}

const STATE = new WeakMap<Module, PeftState>();

/**
 * The PEFT method attached to `model`, or null.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 2));
 * peft.applyBitFit(model);
 * peft.peftState(model)?.method;          // 'bitfit'
 * ```
 */
export function peftState(model: Module): PeftState | null {
  return STATE.get(model) ?? null;
}

export function setPeftState(model: Module, s: PeftState | null): void {
  if (s) STATE.set(model, s);
  else STATE.delete(model);
}

export function assertNoPeft(fn: string, model: Module): void {
  const s = STATE.get(model);
  if (s) throw new Error(`${fn}: the model already carries a ${s.method} adapter; apply one PEFT method per model`);
}

/** Freezes everything, then unfreezes the parameters of `modulesToSave`; returns the names of those modules found. */
export function freezeAllButModulesToSave(model: Module, modulesToSave: readonly string[] | null | undefined): string[] {
  model.requiresGrad_(false);
  for (const p of model.parameters()) p.grad = null;
  const found: string[] = [];
  if (!modulesToSave?.length) return found;
  for (const [name, m] of model.namedModules()) {
    if (!name || !inModulesToSave(modulesToSave, name)) continue;
    if (found.some((f) => name.startsWith(`${f}.`))) continue;
    found.push(name);
    m.requiresGrad_(true);
  }
  return found;
}
