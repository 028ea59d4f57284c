/**
 * Explicit memory management for storage the garbage collector cannot see (GPU textures).
 *
 * `tidy(fn)` disposes every storage created inside `fn` except those reachable from its result
 * (like tfjs's tidy). GPU textures need it; on the CPU the garbage collector would free the
 * memory too, but float32 storages live in the wasm arena (backends/cpu/arena.ts), whose blocks
 * come back only when the GC finalizes their tensors — which a long synchronous loop can postpone
 * until the arena reaches its cap. tidy hands them back at once; the training loop runs each
 * step and each evaluation inside one, and the evaluators (evaluateNer, evaluateClassifier) each batch.
 */
import type { Storage } from '../backends/index.js';

const scopes: Set<Storage>[] = [];

/** @internal called for every newly created storage */
export function trackStorage(s: Storage): void {
  const top = scopes[scopes.length - 1];
  if (top) top.add(s);
}

interface HasStorage { storage: Storage; grad?: unknown }

function collectKept(value: unknown, keep: Set<Storage>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  const maybe = value as Partial<HasStorage>;
  if (maybe.storage && typeof maybe.storage === 'object' && 'backend' in maybe.storage) {
    keep.add(maybe.storage);
    if (maybe.grad) collectKept(maybe.grad, keep, seen);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectKept(v, keep, seen);
  else if (value instanceof Map) for (const v of value.values()) collectKept(v, keep, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectKept(v, keep, seen);
}

/**
 * Runs `fn` and disposes the storage of every tensor it created that is not part of its
 * result (tensors, arrays, Maps and plain objects of tensors are searched).
 * Tensors created inside and kept elsewhere (e.g. saved for a later backward) must be
 * returned, or created outside the scope.
  * @example
  * ```ts
  * const w = randn([64, 64]);
  * const y = tidy(() => {
  *   const h = w.matmul(w).relu();         // freed when tidy returns
  *   return h.sum();                       // the result survives
  * });
  * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Storage>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // nothing is returned: everything created inside is garbage (as tfjs's tidy)
    scopes.pop();
    for (const s of scope) if (!s.disposed) s.backend.dispose(s);
    throw e;
  }
  scopes.pop();
  const keep = new Set<Storage>();
  collectKept(result, keep);
  const parent = scopes[scopes.length - 1];
  for (const s of scope) {
    if (keep.has(s)) parent?.add(s);
    else if (!s.disposed) s.backend.dispose(s);
  }
  return result;
}

/**
 * Runs `fn` and also returns the set of storages it created (they stay tracked by any
 * enclosing `tidy` as well); `fn` can watch the set fill. `backward()` uses it to dispose its
 * own temporaries and to hand its fresh gradients to `.grad` without a copy.
 */
export function withCreated<T>(fn: (created: ReadonlySet<Storage>) => T): { result: T; created: Set<Storage> } {
  const created = new Set<Storage>();
  scopes.push(created);
  try {
    return { result: fn(created), created };
  } finally {
    scopes.pop();
    const parent = scopes[scopes.length - 1];
    if (parent) for (const s of created) parent.add(s);
  }
}

/**
 * Keeps `x` alive past the enclosing tidy (it is moved to no scope).
 * @example
 * ```ts
 * let saved: Tensor | null = null;
 * const y = tidy(() => {
 *   const h = randn([4]).exp();
 *   saved = keep(h);                      // survives the tidy without being returned
 *   return h.sum();
 * });
 * ```
 */
export function keep<T extends HasStorage>(x: T): T {
  for (const scope of scopes) scope.delete(x.storage);
  return x;
}

/**
 * The error for the use of a tensor whose storage is gone (issue #11 item 20): names the op and
 * points at tidy()/keep(), the usual cause.
 */
export function disposedError(op: string, t: { shape: readonly number[]; storage: Storage }, which: string): Error {
  return new Error(
    `${op}: ${which} (shape [${t.shape.join(',')}], ${t.storage.dtype}) was disposed — its storage was freed by tidy(), which ` +
      'frees every tensor created inside it that is not part of its return value (a module built inside tidy, a tensor kept ' +
      'from an async function passed to tidy), or by dispose(). Return the tensor from the tidy function, wrap it with ' +
      'keep(), or create it outside tidy.',
  );
}
