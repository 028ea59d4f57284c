/**
 * Importing any public module first works (issue #12, acyclic layers): every `exports` entry of
 * package.json (through the source file it is built from) and every `index.ts` under src/, each
 * imported as the very first module of a fresh Node process. An import cycle makes some of these
 * throw ("Cannot access 'x' before initialization") depending on which module comes first.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function indexFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...indexFiles(p));
    else if (name === 'index.ts') out.push(p);
  }
  return out;
}

/** The source file of each `import` target in package.json's exports (dist/x.js ← src/x.ts). */
function exportedSources(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { import?: string }> };
  const out: string[] = [];
  for (const [key, entry] of Object.entries(pkg.exports)) {
    const target = typeof entry === 'string' ? entry : entry.import;
    if (target === undefined || !target.endsWith('.js')) continue; // ./package.json
    const m = /^\.\/dist\/(.+)\.js$/.exec(target);
    expect(m, `exports['${key}'] = ${target} is not a file under ./dist`).not.toBeNull();
    out.push(join(ROOT, 'src', `${m![1]}.ts`));
  }
  return out;
}

const modules = [...new Set([...exportedSources(), ...indexFiles(join(ROOT, 'src'))])].sort();

describe('every public module can be imported first, in a fresh process', () => {
  it('finds the package exports and the index files', () => {
    expect(modules.length).toBeGreaterThanOrEqual(6);
    for (const m of modules) expect(existsSync(m), m).toBe(true);
  });

  // concurrent: each import is its own process, so they can overlap
  it.concurrent.each(modules.map((m) => [relative(ROOT, m), m]))('%s', async (_name, file) => {
    // Import the module, then touch every export (a binding in TDZ throws on access), then make
    // and read a tensor through the package, so a half-initialised registry would show.
    const script = `
      const m = await import(${JSON.stringify(pathToFileURL(file).href)});
      for (const k of Object.keys(m)) void m[k];
      const tg = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)});
      const y = tg.tensor([1, 2, 3]).mul(2).sum().item();
      if (y !== 12) throw new Error('got ' + y);
      console.log('ok ' + Object.keys(m).length);
    `;
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT, encoding: 'utf8', timeout: 90_000, env: { ...process.env, TENSORGRAD_BACKEND: '' },
    }).catch((e: { stdout?: string; stderr?: string; message: string }) => ({ stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}\n${e.message}` }));
    expect(r.stderr + r.stdout).toMatch(/^ok \d+/m); // a throw on import fails here, with its message
  }, 120_000);
});
