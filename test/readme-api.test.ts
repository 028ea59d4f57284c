/**
 * The README's API table lists exactly what exists: every name of the math, custom-ops and F rows
 * is exported (as written) — functions from 'tensorgrad', F's from `F`; names listed as
 * "methods only" are Tensor methods and not functions; and every exported op of the op table
 * (OPS, COMPOSITES) appears in the table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import * as tg from '../src/index.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const table = README.slice(README.indexOf('## API overview'), README.indexOf('\n## ', README.indexOf('## API overview') + 5));
const row = (area: string): string => {
  const line = table.split('\n').find((l) => l.startsWith(`| ${area}`));
  if (!line) throw new Error(`README API table has no row '${area}'`);
  return line.slice(line.indexOf('|', 2) + 1);
};
/** The identifiers in backticks (a backtick group may hold several, separated by spaces). */
const names = (text: string): string[] =>
  [...text.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1]!.split(/\s+/)).map((n) => /^[A-Za-z_]\w*/.exec(n)?.[0]).filter((n): n is string => !!n);

describe('README API table', () => {
  const math = row('math');
  const [fnPart, methodPart] = math.split('methods only:');
  it('math: every listed function is exported from tensorgrad', () => {
    const missing = names(fnPart!).filter((n) => typeof (tg as Record<string, unknown>)[n] !== 'function');
    expect(missing, `listed but not exported: ${missing.join(', ')}`).toEqual([]);
  });
  it('math: "methods only" names are Tensor methods and not functions', () => {
    const ms = names(methodPart ?? '');
    expect(ms).toEqual(['argmax', 'argmin']);
    for (const n of ms) {
      expect(typeof (tg.Tensor.prototype as unknown as Record<string, unknown>)[n], n).toBe('function');
      expect(n in tg, `${n} is exported: move it out of "methods only"`).toBe(false);
    }
  });
  it('custom ops and F: every listed name exists', () => {
    for (const n of names(row('custom ops')).filter((x) => !['name', 'forward', 'backward', 'gradient', 'method', 'doc', 'autograd', 'Function'].includes(x))) {
      expect(n in tg, n).toBe(true);
    }
    const fMissing = names(row('nn.functional')).filter((n) => !['ignoreIndex', 'labelSmoothing', 'weight', 'reduction', 'F'].includes(n)).filter((n) => typeof (tg.F as Record<string, unknown>)[n] !== 'function');
    expect(fMissing, `F names listed but missing: ${fMissing.join(', ')}`).toEqual([]);
  });
  it('every exported op of the op table is listed', () => {
    const listed = new Set(names(table));
    const exported = [...tg.OPS.keys(), ...tg.COMPOSITES.keys()].filter((n) => typeof (tg as Record<string, unknown>)[n] === 'function');
    const unlisted = exported.filter((n) => !listed.has(n));
    expect(unlisted, `exported ops missing from the README table: ${unlisted.join(', ')}`).toEqual([]);
  });
});
