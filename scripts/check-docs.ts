/**
 * Every public name has a doc comment (issue #20 item 5): walks the exports of the package's
 * entry points (package.json `exports` → the src/ file each is built from) with the TypeScript
 * compiler API — through namespaces (`nn`, `optim`, …) and into classes and interfaces (their
 * public methods, properties and accessors) — and lists every one without TSDoc.
 *
 *   npx tsx scripts/check-docs.ts            prints the undocumented names; exit 1 if any
 *
 * test/docs/api-docs.test.ts runs the same check in `npm test`. What counts as documented: a
 * `/** … *\/` comment with text (or an @inheritDoc / @see tag) on the declaration, on any of an
 * overloaded function's signatures, or — for a class member — on the member it overrides or
 * implements. Members named `_x` and `@internal` ones are not public; neither are members
 * inherited from outside src/ (e.g. Error's).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The src/ file behind each `exports` entry of package.json (dist/x.js ← src/x.ts). */
export function entryPoints(root = ROOT): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const out = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      const m = /^\.\/dist\/(.+)\.js$/.exec(v);
      if (m) out.add(join(root, 'src', `${m[1]}.ts`));
    } else if (v && typeof v === 'object') for (const x of Object.values(v)) visit(x);
  };
  visit(pkg.exports);
  return [...out].sort();
}

/** One undocumented public name: where and what. */
export interface Undocumented {
  /** The dotted public name, e.g. `nn.Linear.forward` or `Tensor.exp`. */
  readonly name: string;
  /** file:line of its declaration. */
  readonly where: string;
  /** 'export': a name an entry point (or a namespace of it) exports; 'member': a class or interface member. */
  readonly kind: 'export' | 'member';
}

function hasDoc(decl: ts.Declaration, checker: ts.TypeChecker): boolean {
  const tags = ts.getJSDocTags(decl);
  if (tags.some((t) => t.tagName.text === 'inheritDoc' || t.tagName.text === 'see')) return true;
  // the JSDoc node itself (a `/** */` with text), read from the source so `@param`-only comments do not count
  const jsdocs = (decl as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  for (const d of jsdocs) {
    const text = typeof d.comment === 'string' ? d.comment : ts.getTextOfJSDocComment(d.comment);
    if (text && text.trim().length > 0) return true;
  }
  void checker;
  // a `/** … */` the parser did not attach (e.g. inline after `{` on the same line): read the leading comments
  const text = decl.getSourceFile().text;
  // (TypeScript counts a comment not preceded by a line break as the previous token's trailing comment)
  for (const r of [...ts.getLeadingCommentRanges(text, decl.pos) ?? [], ...ts.getTrailingCommentRanges(text, decl.pos) ?? []]) {
    const c = text.slice(r.pos, r.end);
    if (c.startsWith('/**') && c.slice(3, -2).replace(/^\s*\*?/gm, '').replace(/@\w+.*$/gm, '').trim().length > 0) return true;
  }
  return false;
}

function isInternal(decl: ts.Declaration): boolean {
  return ts.getJSDocTags(decl).some((t) => t.tagName.text === 'internal');
}

/** The declarations that can carry a symbol's doc (a variable's statement holds it for `export const x = …`). */
function docHosts(decl: ts.Declaration): ts.Declaration[] {
  if (ts.isVariableDeclaration(decl) && decl.parent && ts.isVariableDeclarationList(decl.parent) && ts.isVariableStatement(decl.parent.parent)) {
    return [decl.parent.parent as unknown as ts.Declaration, decl];
  }
  return [decl];
}

function symbolDocumented(sym: ts.Symbol, checker: ts.TypeChecker): boolean {
  return (sym.declarations ?? []).some((d) => docHosts(d).some((h) => hasDoc(h, checker)));
}

function fromSrc(decl: ts.Declaration, srcDir: string): boolean {
  const f = decl.getSourceFile().fileName;
  return f.startsWith(srcDir) && !f.endsWith('.d.ts');
}

function where(decl: ts.Declaration, root: string): string {
  const sf = decl.getSourceFile();
  const { line } = sf.getLineAndCharacterOfPosition(decl.getStart());
  return `${relative(root, sf.fileName)}:${line + 1}`;
}

/**
 * The public names of the entry points without a doc comment. Runs one TypeScript program over
 * the entries (no emit, no type errors reported: `npm run typecheck` does that).
 */
export function undocumentedExports(entries = entryPoints(), root = ROOT): Undocumented[] {
  const srcDir = join(root, 'src') + '/';
  const program = ts.createProgram(entries, {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, skipLibCheck: true, noEmit: true, types: ['node'], resolveJsonModule: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map<string, Undocumented>();
  const seenSymbols = new Set<ts.Symbol>();
  const publicSymbols = new Set<ts.Symbol>();
  const withMembers: [string, ts.Symbol, boolean][] = [];
  const report = (name: string, decl: ts.Declaration, kind: Undocumented['kind']) => {
    if (!out.has(name)) out.set(name, { name, where: where(decl, root), kind });
  };

  const visitMembers = (prefix: string, sym: ts.Symbol, isClass: boolean) => {
    const type = checker.getDeclaredTypeOfSymbol(sym);
    const members = new Map<string, ts.Symbol>();
    for (const p of checker.getPropertiesOfType(type)) members.set(p.name, p);
    if (isClass) {
      // static members and the constructor live on the class's own symbol
      for (const [k, s] of sym.exports ?? new Map()) if (k !== 'prototype') members.set(`static ${String(k)}`, s as ts.Symbol);
    }
    for (const [key, m] of members) {
      // own members, and those inherited from a type that is not public itself (Tensor's methods
      // come from an internal class); Module.train is checked once on Module, not on every layer
      const own = new Set<ts.Node>(sym.declarations ?? []);
      const decls = (m.declarations ?? []).filter((d) => {
        if (!fromSrc(d, srcDir)) return false;
        if (own.has(d.parent)) return true;
        const parentSym = (d.parent as ts.NamedDeclaration).name ? checker.getSymbolAtLocation((d.parent as ts.NamedDeclaration).name!) : undefined;
        return parentSym !== undefined && !publicSymbols.has(parentSym);
      });
      if (decls.length === 0) continue;
      const name = m.name;
      if (name.startsWith('_') || name.startsWith('#') || name === 'constructor') continue;
      if (decls.some((d) => {
        const mods = ts.getCombinedModifierFlags(d);
        return (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || isInternal(d);
      })) continue;
      if (ts.isComputedPropertyName((decls[0] as ts.NamedDeclaration).name as ts.Node ?? decls[0]!)) continue; // [Symbol.iterator] etc.
      if (symbolDocumented(m, checker)) continue;
      // an override or implementation inherits the doc of what it overrides
      if (inheritedDoc(m, sym, checker)) continue;
      report(`${prefix}.${key.startsWith('static ') ? key.slice(7) : name}`, decls[0]!, 'member');
    }
  };

  const visit = (prefix: string, sym: ts.Symbol) => {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decls = (target.declarations ?? []).filter((d) => fromSrc(d, srcDir));
    if (decls.length === 0) return;
    const name = prefix;
    if (seenSymbols.has(target)) {
      return; // the same symbol under another public name: reported (or not) once
    }
    seenSymbols.add(target);
    if (target.flags & ts.SymbolFlags.ValueModule || decls.some((d) => ts.isSourceFile(d))) {
      // `export * as nn from './nn/index.js'`: a namespace — its exports are public names
      for (const e of checker.getExportsOfModule(target)) visit(`${name}.${e.name}`, e);
      return;
    }
    if (decls.some((d) => isInternal(d))) return;
    if (!symbolDocumented(target, checker) && !(sym !== target && symbolDocumented(sym, checker))) report(name, decls[0]!, 'export');
    publicSymbols.add(target);
    if (target.flags & ts.SymbolFlags.Class) withMembers.push([name, target, true]);
    else if (target.flags & ts.SymbolFlags.Interface) withMembers.push([name, target, false]);
  };

  // the main entry first, so a name shared with other entries is reported under its plain name
  const ordered = [...entries].sort((x, y) => Number(!x.endsWith('/src/index.ts')) - Number(!y.endsWith('/src/index.ts')) || x.localeCompare(y));
  for (const entry of ordered) {
    const sf = program.getSourceFile(entry);
    if (!sf) throw new Error(`check-docs: entry point ${entry} is not in the program`);
    const modSym = checker.getSymbolAtLocation(sf);
    if (!modSym) continue;
    const prefix = relative(join(root, 'src'), entry).replace(/\.ts$/, '').replace(/\/index$/, '').replace(/^index$/, '');
    for (const e of checker.getExportsOfModule(modSym)) visit(prefix ? `${prefix}:${e.name}` : e.name, e);
  }
  for (const [name, sym, isClass] of withMembers) visitMembers(name, sym, isClass);
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether a class/interface member's doc comes from a base class or an implemented interface. */
function inheritedDoc(member: ts.Symbol, owner: ts.Symbol, checker: ts.TypeChecker): boolean {
  const decl = owner.declarations?.[0];
  if (!decl || !(ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl))) return false;
  for (const clause of decl.heritageClauses ?? []) {
    for (const t of clause.types) {
      const base = checker.getTypeAtLocation(t.expression);
      const baseType = checker.getTypeAtLocation(t);
      for (const ty of [baseType, base]) {
        const p = ty.getProperty(member.name);
        if (p && p !== member && symbolDocumented(p, checker)) return true;
      }
    }
  }
  return false;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const missing = undocumentedExports();
  for (const m of missing) console.log(`${m.where}  ${m.name}${m.kind === 'member' ? '' : '  (export)'}`);
  console.log(`${missing.length} public name${missing.length === 1 ? '' : 's'} without a doc comment (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exitCode = missing.length > 0 ? 1 : 0;
}
