/**
 * Every public name has a doc comment (issue #20 item 5; the API site is `npm run docs`).
 * scripts/check-docs.ts walks the exports of every package.json entry point with the TypeScript
 * compiler API (into namespaces, classes and interfaces):
 *   - an exported name (function, class, constant, type, namespace member) without TSDoc fails;
 *   - a public class or interface member (method, property, accessor) without TSDoc fails too.
 * (There is no allow-list any more: the shrink-only list of undocumented members reached zero.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { undocumentedExports } from '../../scripts/check-docs.js';

describe('API documentation coverage', () => {
  // one TypeScript program over the entry points: ~6 s of CPU (more wall time on a loaded machine)
  let missing: ReturnType<typeof undocumentedExports> = [];
  beforeAll(() => { missing = undocumentedExports(); }, 300_000);

  it('every exported name has a doc comment', () => {
    expect(missing.filter((m) => m.kind === 'export').map((m) => `${m.where}  ${m.name}`)).toEqual([]);
  });

  it('every public class and interface member has a doc comment', () => {
    expect(missing.filter((m) => m.kind === 'member').map((m) => `${m.where}  ${m.name}`)).toEqual([]);
  });

  it('the checker finds undocumented exports, namespace members, class members and inherited-from-internal members', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-docs-'));
    mkdirSync(join(dir, 'src', 'ns'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ exports: { '.': { import: './dist/index.js' } } }));
    writeFileSync(join(dir, 'src', 'ns', 'index.ts'), [
      '/** Documented. */', 'export function good(): number { return 1; }',
      'export function bad(): number { return 2; }',
    ].join('\n'));
    writeFileSync(join(dir, 'src', 'index.ts'), [
      "export * as ns from './ns/index.js';",
      'class Hidden { /** documented */ shown(): void {} undocumentedInherited(): void {} }',
      '/** A class. */',
      'export class Box extends Hidden {',
      '  /** The width. */', '  width = 1;',
      '  height = 2;',
      '  private secret = 3;',
      '  /** @internal */', '  internalThing = 4;',
      '  _underscored = 5;',
      '}',
      '/** Options. */', 'export interface Opts { /** a */ a: number; b: string }',
      'export const undocumentedConst = 1;',
      '/** Documented const. */', 'export const documentedConst = 2;',
    ].join('\n'));
    try {
      const found = undocumentedExports([join(dir, 'src', 'index.ts')], dir).map((m) => `${m.kind} ${m.name}`);
      expect(found.sort()).toEqual(['export ns.bad', 'export undocumentedConst', 'member Box.height', 'member Box.undocumentedInherited', 'member Opts.b']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
