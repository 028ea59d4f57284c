/**
 * The one description of an argument value for error messages in src/data/ ("… must be X, got
 * <description>"): short, and naming the type so that a wrong type is obvious.
 *
 *   null / undefined → 'null' / 'undefined'        'S-PER'  → the string "S-PER" (≤ 40 characters)
 *   3, true, 2n      → 'number 3', 'boolean true'   [1, 2]   → 'an array of length 2'
 *   {a: 1}           → 'an object'                  a function → 'function'
 *
 * With `preview`, arrays and objects are shown through it instead (safetensors headers).
 */
export function describeArg(x: unknown, preview?: (v: object) => string): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `${typeof x} ${String(x)}`;
  if (Array.isArray(x)) return preview ? `array ${preview(x)}` : `an array of length ${x.length}`;
  if (typeof x === 'object') return preview ? `object ${preview(x)}` : 'an object';
  return typeof x;
}
