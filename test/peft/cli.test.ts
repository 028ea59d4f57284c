/**
 * PEFT from the command line, tiny configurations: a base made by pretrain-mlm; train-ner with
 * LoRA (+ --merge) writes the adapter alone and a pointer to the base, and evaluate/predict score
 * base + adapter exactly as the training run did (and the merged model too); train-classifier with
 * BitFit, train-gpt with LoRA; a run without --init writes base/; bad combinations exit with a
 * message naming the option. Also `train-ner --compare-init` (it needs a base too): the checkpoint's run and
 * the from-scratch run sized by --hidden/--layers, both F1s printed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const TMP = mkdtempSync(join(tmpdir(), 'tg-peft-cli-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const BASE = join(TMP, 'base');

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write);
});
afterEach(() => vi.restoreAllMocks());

const run = async (...argv: string[]) => {
  const code = await main(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
};
const TINY = ['--hidden', '16', '--layers', '2', '--heads', '2'];
const SCRATCH = ['--init', 'random', ...TINY]; // train-ner from random initialisation (its default is the shipped checkpoint)

describe('PEFT from the CLI', () => {
  beforeAll(async () => {
    const code = await main(['pretrain-mlm', '--out', BASE, '--chapters', '1', '--max-steps', '10', ...TINY, '--max-length', '32']);
    if (code !== 0) throw new Error('pretrain-mlm failed');
  }, 120_000);

  it('train-ner --init BASE --compare-init: fine-tunes the checkpoint, then the from-scratch model sized by --hidden/--layers, and prints both F1s', async () => {
    const dir = join(TMP, 'ner-compare');
    const r = await run('train-ner', '--init', BASE, '--compare-init', '--hidden', '8', '--layers', '1', '--heads', '2', '--epochs', '1', '--max-length', '32', '--out', dir);
    expect(r.code, r.err).toBe(0);
    const f1 = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).test.entity.micro.f1 as number;
    const m = /test entity F1: pretrained init \(BERT 2 × 16\) ([\d.]+) vs random init \(BERT 1 × 8\) ([\d.]+): [+−][\d.]+ points \(same split, seed 42;/.exec(r.out);
    expect(m, r.out.slice(-600)).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(f1, 4);
    const again = await run('train-ner', '--init', BASE, '--hidden', '8');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--hidden: a checkpoint \(--init .*base\) fixes the model's size; drop --hidden, or train from scratch with --init random/);
  }, 180_000);

  it('train-ner --init BASE --peft lora --merge: the adapter alone + a pointer; evaluate scores base + adapter as the run did', async () => {
    const dir = join(TMP, 'ner-lora');
    const r = await run('train-ner', '--init', BASE, '--peft', 'lora', '--lora-r', '4', '--merge', '--epochs', '2', '--lr', '0.01', '--out', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err + r.out).toMatch(/trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: [\d.]+/);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false);
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['query', 'value'], base_model_name_or_path: BASE, task_type: 'TOKEN_CLS', modules_to_save: ['classifier'] });
    expect(statSync(join(dir, 'adapter_model.safetensors')).size).toBeLessThan(statSync(join(BASE, 'model.safetensors')).size / 10);
    const f1 = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).test.entity.micro.f1 as number;
    const ev = await run('evaluate', '--model', dir, '--split', 'test', '--vocab', join(BASE, 'vocab.txt'), '--max-length', '32');
    expect(ev.code, ev.err).toBe(0);
    expect(Number(/entity F1 \(micro\) = ([\d.]+)/.exec(ev.out)![1])).toBeCloseTo(f1, 4);
    const evm = await run('evaluate', '--model', join(dir, 'merged'), '--split', 'test', '--vocab', join(BASE, 'vocab.txt'), '--max-length', '32');
    expect(evm.code, evm.err).toBe(0);
    expect(Number(/entity F1 \(micro\) = ([\d.]+)/.exec(evm.out)![1])).toBeCloseTo(f1, 4);
    const p = await run('predict', dir, 'call me ishmael .');
    expect(p.code, p.err).toBe(0);
  }, 180_000);

  it('train-classifier --peft bitfit and train-gpt --peft lora write adapters that load for inference', async () => {
    const c = join(TMP, 'spam-bitfit');
    const r = await run('train-classifier', '--init', BASE, '--peft', 'bitfit', '--epochs', '1', '--max-examples', '40', '--out', c);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(c, 'adapter_config.json'), 'utf8')).peft_type).toBe('BITFIT');
    const p = await run('predict', c, 'win money now');
    expect(p.code, p.err).toBe(0);
    const g = join(TMP, 'gpt-lora');
    const rg = await run('train-gpt', '--peft', 'lora', '--lora-r', '2', '--steps', '5', '--chapters', '1', '--embd', '16', '--layers', '1', '--heads', '2', '--out', g);
    expect(rg.code, rg.err).toBe(0);
    const gc = JSON.parse(readFileSync(join(g, 'adapter_config.json'), 'utf8'));
    expect(gc).toMatchObject({ peft_type: 'LORA', target_modules: ['c_attn'], base_model_name_or_path: 'base', fan_in_fan_out: true });
    expect(existsSync(join(g, 'base', 'model.safetensors'))).toBe(true);
    const pg = await run('predict', g, 'Call me', '--max-new-tokens', '5');
    expect(pg.code, pg.err).toBe(0);
    const gen = await run('generate', '--model', g, '--prompt', 'Call me', '--max-new-tokens', '5');
    expect(gen.code, gen.err).toBe(0);
  }, 180_000);

  it('adapters without --init: base/ holds the initial weights; bad combinations name the option', async () => {
    const dir = join(TMP, 'ner-adapter');
    const r = await run('train-ner', '--peft', 'adapter', '--adapter-size', '4', '--epochs', '1', ...SCRATCH, '--out', dir);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe('base');
    const ev = await run('evaluate', '--model', dir, '--split', 'dev');
    expect(ev.code, ev.err).toBe(0);
    const bad: [string[], RegExp][] = [
      [['train-ner', '--peft', 'lora', '--lora-r', '0'], /--lora-r/],
      [['train-ner', '--peft', 'lora', '--lora-targets', 'qkv', '--epochs', '1', ...SCRATCH, '--out', join(TMP, 'x')], /--lora-targets.*matches no module/],
      [['train-ner', '--peft', 'adapter', '--merge'], /--merge/],
      [['train-ner', '--lora-r', '4'], /--lora-r.*applies only to method 'lora'/],
      [['train-ner', '--freeze', 'bert.nothing.*', '--epochs', '1', ...SCRATCH, '--out', join(TMP, 'y')], /--freeze.*matches no parameter/],
    ];
    for (const [argv, re] of bad) {
      const b = await run(...argv);
      expect(b.code, argv.join(' ')).not.toBe(0);
      expect(b.err, argv.join(' ')).toMatch(re);
      out = [];
      err = [];
    }
  }, 180_000);
});
