/**
 * Argument checks shared by the optimizers, the LR schedulers and the clipping helpers.
 *
 * Every message names the function (`owner`), the argument, what it got and what was expected,
 * e.g. `Adam: invalid betas[1]: expected a number in [0, 1), got 1`.
 */

/** A value as it should appear in an error message (strings quoted, arrays bracketed). */
export function fmtValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (Array.isArray(v)) return `[${v.map(fmtValue).join(', ')}]`;
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return String(v);
}

/** Throws `${owner}: invalid ${name}: expected ${expected}, got ${value}`. */
export function fail(owner: string, name: string, expected: string, value: unknown): never {
  throw new Error(`${owner}: invalid ${name}: expected ${expected}, got ${fmtValue(value)}`);
}

export interface NumberRule {
  /** Lower bound (inclusive unless `minExclusive`). */
  min?: number;
  minExclusive?: boolean;
  /** Upper bound (exclusive unless `maxInclusive`). */
  max?: number;
  maxInclusive?: boolean;
  integer?: boolean;
  /** Allow +Infinity (NaN is never allowed). */
  allowInfinity?: boolean;
}

function describeRule(r: NumberRule): string {
  const kind = r.integer ? 'an integer' : 'a number';
  const finite = r.allowInfinity || r.integer ? '' : 'finite ';
  const lo = r.min === undefined ? '' : r.minExclusive ? `> ${r.min}` : `≥ ${r.min}`;
  const hi = r.max === undefined ? '' : r.maxInclusive ? `≤ ${r.max}` : `< ${r.max}`;
  if (r.min !== undefined && r.max !== undefined) {
    const open = r.minExclusive ? '(' : '[';
    const close = r.maxInclusive ? ']' : ')';
    return `${r.integer ? 'an integer' : `a ${finite}number`} in ${open}${r.min}, ${r.max}${close}`;
  }
  const bound = lo || hi;
  if (r.integer) return bound ? `${kind} ${bound}` : kind;
  return `a ${finite}number${bound ? ` ${bound}` : ''}${r.allowInfinity ? ' (or Infinity)' : ''}`;
}

/** Checks that `value` is a number obeying `rule` and returns it. */
export function checkNumber(owner: string, name: string, value: unknown, rule: NumberRule = {}): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (rule.allowInfinity === true && value === Infinity)) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.min === undefined || (rule.minExclusive ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || (rule.maxInclusive ? value <= rule.max : value < rule.max));
  if (!ok) fail(owner, name, describeRule(rule), value);
  return value as number;
}

export function checkBoolean(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(owner, name, 'a boolean', value);
  return value;
}

/** Checks that `opts` is a plain options object with no keys outside `allowed`. */
export function checkOptionsObject(owner: string, name: string, opts: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail(owner, name, 'an options object', opts);
  const unknown = Object.keys(opts).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new Error(
      `${owner}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} in ${name} ` +
        `(expected some of ${allowed.map((k) => `'${k}'`).join(', ')})`,
    );
  }
  return opts as Record<string, unknown>;
}
