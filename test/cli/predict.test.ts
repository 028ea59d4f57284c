/** `tensorgrad predict` and `serve --help` as a user runs them (a child process per call). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../../src/pipelines/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test/fixtures/pipelines');
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', input: input ?? '', timeout: 60_000 });

describe('tensorgrad predict', () => {
  it('texts from arguments → one JSON line each, the pipeline\'s answer', () => {
    const r = cli(['predict', join(FIX, 'ner'), 'Captain Ahab sailed from Nantucket.', 'hello world']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const ner = pipeline('ner', join(FIX, 'ner'));
    expect(lines).toEqual(['Captain Ahab sailed from Nantucket.', 'hello world'].map((text) => ({ text, entities: JSON.parse(JSON.stringify(ner(text, { aggregationStrategy: 'first' }))) })));
  });

  it('a file of lines (with a progress line on stderr past 50 texts), JSONL on stdin, errors per line and exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-predict-'));
    const texts = Array.from({ length: 60 }, (_, i) => (i % 2 ? 'the white whale' : 'see you at lunch'));
    writeFileSync(join(dir, 'in.txt'), texts.join('\n') + '\n');
    const r = cli(['predict', join(FIX, 'classifier'), '--file', join(dir, 'in.txt'), '--top-k', '1', '--batch-size', '16']);
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(60);
    expect(out[1].labels).toHaveLength(1);
    expect(r.stderr).toMatch(/predict 60\/60/);
    const j = cli(['predict', join(FIX, 'ner')], ['{"text": "call me ishmael"}', '{"text": "' + 'whale '.repeat(40) + '"}'].join('\n'));
    expect(j.status).toBe(1);
    const jl = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(jl[0].text).toBe('call me ishmael');
    expect(jl[1].error).toMatch(/at most 32.*truncation/);
    expect(j.stderr).toMatch(/1 of 2 texts failed/);
  });

  it('a GPT folder: generated text and tokens/s; usage errors exit 2', () => {
    const r = cli(['predict', join(FIX, 'gpt'), 'call me', '--max-new-tokens', '5']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).generated_text).toMatch(/^call me.{5}$/s);
    expect(r.stderr).toMatch(/5 tokens in .* tokens\/s/);
    expect(cli(['predict']).status).toBe(2);
    expect(cli(['predict', join(FIX, 'ner'), 'x', '--aggregation', 'best']).stderr).toMatch(/--aggregation must be one of/);
    const help = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help).toMatch(/serve DIR \[options\][\s\S]*--max-wait-ms/);
  });
});
