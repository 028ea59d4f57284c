/**
 * docs/FORMULAS.md stays true: every row's implementing symbols still exist in the named files
 * and every named test title is still in its test file. The table is parsed as written (the
 * checker is tested on a broken table too, so it can fail).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface Row {
  n: number;
  equation: string;
  impls: { file: string; symbol: string }[];
  checks: { file: string; title: string }[];
}

/** The rows of the formulas table: `| n | equation | source | `file#symbol`, … | `test` › "title"<br>… |`. */
export function parseFormulas(md: string): Row[] {
  const rows: Row[] = [];
  for (const line of md.split('\n')) {
    if (!/^\|\s*\d+\s*\|/.test(line)) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.length !== 5) throw new Error(`FORMULAS.md: a row needs 5 cells, got ${cells.length}: ${line}`);
    const impls = [...cells[3]!.matchAll(/`([^`#]+)#([^`]+)`/g)].map((m) => ({ file: m[1]!, symbol: m[2]! }));
    const checks = [...cells[4]!.matchAll(/`([^`]+)` › "([^"]+)"/g)].map((m) => ({ file: m[1]!, title: m[2]! }));
    rows.push({ n: Number(cells[0]), equation: cells[1]!, impls, checks });
  }
  return rows;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `src` declares `name` (function, class, const, …, or a re-export). */
function declares(src: string, name: string): number {
  const m = new RegExp(`\\b(?:function\\*?|class|const|let|var|interface|type|enum)\\s+${escapeRe(name)}\\b`).exec(src);
  if (m) return m.index;
  const e = new RegExp(`export\\s*\\{[^}]*\\b${escapeRe(name)}\\b[^}]*\\}`).exec(src);
  return e ? e.index : -1;
}

/** Problems with one row: missing files, symbols, test titles. */
export function checkRow(row: Row, read: (file: string) => string | null): string[] {
  const problems: string[] = [];
  if (row.impls.length === 0) problems.push(`row ${row.n}: no \`file#symbol\` in "Implemented by"`);
  if (row.checks.length === 0) problems.push(`row ${row.n}: no \`test\` › "title" in "Checked by"`);
  for (const { file, symbol } of row.impls) {
    const src = read(file);
    if (src === null) { problems.push(`row ${row.n}: ${file} does not exist`); continue; }
    const [head, ...members] = symbol.split('.');
    const at = declares(src, head!);
    if (at < 0) { problems.push(`row ${row.n}: ${file} no longer declares ${head}`); continue; }
    for (const m of members) {
      if (!new RegExp(`\\b${escapeRe(m)}\\s*(?:<[^>]*>)?\\s*\\(`).test(src.slice(at))) problems.push(`row ${row.n}: ${file} has no member ${symbol}`);
    }
  }
  for (const { file, title } of row.checks) {
    const src = read(file);
    if (src === null) { problems.push(`row ${row.n}: ${file} does not exist`); continue; }
    const text = src.replace(/\\'/g, "'");
    const t = escapeRe(title);
    // an it/describe title (any quote), or the key of a property-table entry (`  name: …`)
    const found = new RegExp(`(['"\`])${t}\\1`).test(text) || new RegExp(`^\\s+${t}:`, 'm').test(text);
    if (!found) problems.push(`row ${row.n}: ${file} has no test titled "${title}"`);
  }
  return problems;
}

function readRepoFile(file: string): string | null {
  const p = join(ROOT, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

describe('docs/FORMULAS.md', () => {
  const rows = parseFormulas(readFileSync(join(ROOT, 'docs/FORMULAS.md'), 'utf8'));

  it('has numbered rows 1…n covering the equations the issue names', () => {
    expect(rows.length).toBeGreaterThanOrEqual(50);
    expect(rows.map((r) => r.n)).toEqual(rows.map((_, i) => i + 1));
    const symbols = new Set(rows.flatMap((r) => r.impls.map((i) => i.symbol)));
    for (const s of ['scaledDotProductAttention', 'gelu', 'layerNorm', 'crossEntropy', 'crossEntropyFused', 'Adam', 'AdamW', 'LoraLinear', 'distillationLoss', 'quantizeRows', 'maskTokens']) {
      expect(symbols.has(s), s).toBe(true);
    }
  });

  it('every named symbol exists in its file and every named test is in its test file', () => {
    const problems = rows.flatMap((r) => checkRow(r, readRepoFile));
    expect(problems).toEqual([]);
  });

  it('the checker reports a renamed symbol, a missing member, a missing file and a missing test', () => {
    const broken = parseFormulas([
      '| 1 | y = x | — | `src/nn/functional.ts#noSuchFunction` | `test/nn/golden.test.ts` › "layerNorm vs PyTorch" |',
      '| 2 | y = x | — | `src/nn/gpt.ts#GPT.noSuchMethod` | `test/nn/golden.test.ts` › "no such test title" |',
      '| 3 | y = x | — | `src/nope.ts#x` | `test/nope.test.ts` › "x" |',
      '| 4 | y = x | — | `src/optim/adamw.ts#AdamW` | `test/autograd/ops.property.test.ts` › "gelu" |',
    ].join('\n'));
    const problems = broken.flatMap((r) => checkRow(r, readRepoFile));
    expect(problems).toEqual([
      'row 1: src/nn/functional.ts no longer declares noSuchFunction',
      'row 2: src/nn/gpt.ts has no member GPT.noSuchMethod',
      'row 2: test/nn/golden.test.ts has no test titled "no such test title"',
      'row 3: src/nope.ts does not exist',
      'row 3: test/nope.test.ts does not exist',
    ]);
  });
});
