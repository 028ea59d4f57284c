/**
 * Issue #14 item 6: every training command's output folder is a complete model folder — the
 * weights and config, for the BERT commands vocab.txt + tokenizer_config.json (so HF's
 * AutoTokenizer loads the model's own vocabulary), and metrics.json with the hyper-parameters,
 * the data's source, the seed, the package version and the timings. Tiny settings.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const TMP = mkdtempSync(join(tmpdir(), 'tg-outputs-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
const TINY = ['--hidden', '16', '--layers', '1', '--heads', '2', '--max-length', '32'];

let err: string[];
beforeEach(() => {
  err = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write);
});
afterEach(() => vi.restoreAllMocks());

const RUNS: [string, string[], boolean][] = [
  ['train-ner', ['--init', 'random', '--epochs', '1', ...TINY], true],
  ['train-classifier', ['--init', 'random', '--epochs', '1', '--max-examples', '40', ...TINY], true],
  ['pretrain-mlm', ['--chapters', '1', '--max-steps', '3', ...TINY], true],
  ['train-gpt', ['--chapters', '1', '--steps', '3', '--embd', '16', '--layers', '1', '--heads', '2', '--sample', '0'], false],
];

describe('every training command writes a complete model folder', () => {
  it.each(RUNS)('%s', async (cmd, args, bert) => {
    const out = join(TMP, cmd);
    const code = await main([cmd, ...args, '--seed', '7', '--out', out]);
    expect(code, err.join('\n')).toBe(0);
    for (const f of ['config.json', 'model.safetensors', 'metrics.json', 'manifest.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    if (bert) {
      // the model's own vocabulary, one token per line, as many as its embedding has rows
      const vocab = readFileSync(join(out, 'vocab.txt'), 'utf8').split('\n').filter((l) => l !== '');
      expect(vocab.length).toBe(config.vocab_size);
      expect(vocab).toContain('[CLS]');
      const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
      expect(tc.tokenizer_class).toBe('BertTokenizer');
      expect(typeof tc.do_lower_case).toBe('boolean');
    } else {
      expect(config.chars.length).toBe(config.vocab_size); // its tokenizer: the character vocabulary, in config.json
    }
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.task).toBe(cmd);
    expect(m.packageVersion).toBe(VERSION);
    expect(m.seed).toBe(7);
    expect(Object.keys(m.hyperparameters).length).toBeGreaterThan(3);
    expect(typeof m.data.source).toBe('string');
    expect(m.data.source.length).toBeGreaterThan(0);
    expect(m.timings.totalSeconds).toBeGreaterThan(0);
    expect(m.timings.steps).toBeGreaterThan(0);
  }, 120_000);
});
