/**
 * Smoke tests of the examples and of the CLI commands train-classifier, pretrain-mlm, train-gpt
 * and generate.
 *
 * Every example runs in a child process in its TINY configuration (a few seconds each), writing
 * into a temporary folder; the test asserts exit code 0, no stack trace, and something the run
 * computed: a loss that falls ("loss first=… last=…" lines), a ✓ line, a report. The CLI is
 * driven in-process through `main(argv)` (exit codes and messages), plus once as a real process
 * to check that a bad option exits 2 with a message and no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), 'tensorgrad-examples-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const STACK_LINE = /^\s+at .+[:(].*\d+:\d+\)?$/m;

/** Runs a TypeScript file with tsx in a child process, from the repository root. */
function runTs(file: string, env: Record<string, string> = {}, args: string[] = []) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TINY: '1', NO_COLOR: '1', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

/** Every "loss first=A last=B" line of an output. */
function losses(out: string): { first: number; last: number }[] {
  return [...out.matchAll(/loss first=([-\d.e]+) last=([-\d.e]+)/g)].map((m) => ({ first: Number(m[1]), last: Number(m[2]) }));
}

function expectOk(r: ReturnType<typeof runTs>): void {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.all}`);
  expect(r.all).not.toMatch(STACK_LINE);
}

describe('examples (TINY=1)', () => {
  it('03 char-level GPT: the validation loss falls from about ln(V) and it samples text', () => {
    const r = runTs('examples/03-char-gpt.ts', { OUT: join(TMP, 'gpt') });
    expectOk(r);
    const [l] = losses(r.stdout);
    const lnV = Number(/ln\(V\) = ln \d+ = ([\d.]+)/.exec(r.stdout)![1]);
    expect(Math.abs(l!.first - lnV)).toBeLessThan(0.3); // an untrained model guesses uniformly
    expect(l!.last).toBeLessThan(l!.first - 0.5);
    expect(r.stdout).toMatch(/--- sample \(temperature 0\.8\) ---\nCall me Ishmael\. .{10,}/);
  });

  it('04 MLM pre-training: the held-out masked-token loss falls and the folder is saved', () => {
    const r = runTs('examples/04-mlm-pretraining.ts', { MLM_DIR: join(TMP, 'mlm') });
    expectOk(r);
    const [l] = losses(r.stdout);
    expect(l!.last).toBeLessThan(l!.first - 0.2);
    expect(r.stdout).toMatch(/saved model\.safetensors, config\.json, vocab\.txt/);
    expect(r.stdout).toMatch(/call me \[MASK\] \.\s+→ \S+ [\d.]+%/);
  });

  it('05 spam fine-tuning: reports for the pre-trained and the random model, side by side', () => {
    const r = runTs('examples/05-spam-finetune.ts', { MLM_DIR: join(TMP, 'mlm') }); // the folder of test 04
    expectOk(r);
    expect(r.stdout).not.toMatch(/no pre-trained model/);
    expect(r.stdout).toMatch(/newly initialised: bert\.pooler\.dense\.weight, bert\.pooler\.dense\.bias, classifier\.weight, classifier\.bias/);
    const acc = [...r.stdout.matchAll(/accuracy ([\d.]+), macro F1 ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(acc).toHaveLength(2);
    for (const x of acc.flat()) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(r.stdout.match(/ {3}macro avg /g)).toHaveLength(2); // two sklearn-layout reports
    expect(r.stdout).toMatch(/pre-training (helped|hurt|made no difference): macro F1/);
  });

  it('06 NER fine-tuning: the training loss falls and an entity report is printed', () => {
    const r = runTs('examples/06-ner-finetune.ts', { OUT: join(TMP, 'ner') });
    expectOk(r);
    const [l] = losses(r.stdout);
    expect(l!.last).toBeLessThan(l!.first);
    expect(r.stdout).toMatch(/ {3}micro avg /);
    expect(r.stdout).toMatch(/entity F1 \(micro\) = [\d.]+/);
  });

  it('07 AdamW vs Adam: AdamW equals the hand formula and differs from Adam + L2', () => {
    const r = runTs('examples/07-adamw-vs-adam.ts');
    expectOk(r);
    expect(r.stdout).toMatch(/✓ AdamW equals the hand formula/);
    expect(r.stdout).toMatch(/✓ Adam\(weightDecay\) equals the hand formula/);
    expect(r.stdout).toMatch(/✓ decoupled decay and L2 give different parameters/);
    expect(r.stdout).not.toMatch(/✗/);
    for (const l of losses(r.stdout)) expect(l.last).toBeLessThan(l.first);
  });

  it('09 paper formulas: RMSNorm, SwiGLU, RoPE and focal loss match the hand values and pass gradcheck', () => {
    const r = runTs('examples/09-paper-formulas.ts');
    expectOk(r);
    expect(r.stdout).not.toMatch(/✗/);
    for (const f of ['RMSNorm', 'SwiGLU', 'RoPE', 'focal loss']) expect(r.stdout).toMatch(new RegExp(`✓ ${f}: gradcheck passed`));
    expect(r.stdout).toMatch(/all formulas reproduced/);
  });

  it('08 HF checkpoint: written, loaded by name and run; the round trip is exact', () => {
    const r = runTs('examples/08-load-hf-checkpoint.ts', { OUT: join(TMP, 'bert-hf') });
    expectOk(r);
    expect(r.stdout).toMatch(/bert\.encoder\.layer\.0\.attention\.self\.query\.weight +float32 \[16, 16\]/);
    expect(r.stdout).toMatch(/loaded: 0 missing, 0 unused keys/);
    expect(r.stdout).toMatch(/top predictions for \[MASK\]:\n(  \S+ +[\d.]+%\n){5}/);
    expect(r.stdout).toMatch(/✓ the loaded model reproduces the saved model exactly/);
  });

  it('10 LoRA: the loss falls with 11 % of the parameters trained, merged == adapted, the adapter is saved', () => {
    const r = runTs('examples/10-lora.ts');
    expectOk(r);
    const [l] = losses(r.stdout);
    expect(l!.last).toBeLessThan(l!.first / 10);
    expect(r.stdout).toMatch(/trainable params: 336 \|\| all params: 2,968 \|\| trainable%: 11\.3208/);
    const d = Number(/max \|merged − adapted\| = ([\d.e+-]+)/.exec(r.stdout)![1]);
    expect(d).toBeLessThan(1e-5);
    expect(r.stdout).toMatch(/W₀ untouched: the frozen weights have no gradient \(null\)/);
    // the real BERT part: LoRA r = 8 on query and value of the shipped 4-layer checkpoint, merged == adapted
    expect(r.stdout).toMatch(/LoRA r = 8 on 8 modules \(bert\.encoder\.layer\.0\.attention\.self\.query/);
    const dBert = Number(/merged == adapted on BERT: max \|merged − adapted\| = ([\d.e+-]+)/.exec(r.stdout)![1]);
    expect(dBert).toBeLessThan(1e-5);
    expect(r.stdout).toMatch(/ner: full fine-tuning F1 0\.\d{3} .* LoRA r = 8 F1 0\.\d{3}/);
  });

  it('12 watch backprop: the neuron trace has micrograd\'s gradients; DOT, Mermaid, SVG and HTML files are written', () => {
    const out = join(TMP, 'watch');
    const r = runTs('examples/12-watch-backprop.ts', { OUT: out });
    expectOk(r);
    expect(r.stdout).toMatch(/^backward from o \[\] float64: 5 steps/);
    expect(r.stdout).toMatch(/w1\.grad = 0\.99999\d* \(expected 0\.5·x1 = 1\), w2\.grad = 0 \(0\.5·x2 = 0\), b\.grad = 0\.5000/);
    expect(r.stdout).toMatch(/BERT layer: \d+ ops \(.*addmm×6.*\), \d+ backward steps/);
    for (const f of ['neuron.dot', 'neuron.mmd', 'neuron.svg', 'neuron.html', 'bert-layer.svg', 'bert-layer.html', 'bert-layer-trace.txt']) {
      expect(statSync(join(out, f)).size).toBeGreaterThan(500);
    }
  });
});

describe('CLI: train-classifier, pretrain-mlm, train-gpt, generate', () => {
  let out: string[];
  let err: string[];
  beforeEach(() => {
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // progress bars
  });
  afterEach(() => vi.restoreAllMocks());

  it.each(['train-classifier', 'pretrain-mlm', 'train-gpt', 'generate'])('%s --help prints its options and exits 0', async (cmd) => {
    expect(await main([cmd, '--help'])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(new RegExp(`^Usage: tensorgrad ${cmd} \\[options\\]`));
    expect(text).toMatch(/-h, --help/);
    expect(err).toEqual([]);
  });

  it('the command list names them', async () => {
    expect(await main(['--help'])).toBe(0);
    for (const cmd of ['train-classifier', 'pretrain-mlm', 'train-gpt', 'generate']) expect(out.join('\n')).toMatch(new RegExp(`^  ${cmd} `, 'm'));
  });

  it.each([
    [['train-classifier', '--bogus'], /unknown option --bogus/],
    [['train-classifier', '--data', 'no/such/file.csv'], /--data: .*no\/such\/file\.csv does not exist/],
    [['train-classifier', '--init', 'no/such/folder'], /--init: .*does not exist/],
    [['train-classifier', '--epochs', '0'], /--epochs must be ≥ 1/],
    [['pretrain-mlm', '--text', 'no/such/book.txt'], /--text: .*does not exist/],
    [['pretrain-mlm', '--hidden', '64', '--heads', '3'], /--heads \(3\) must divide --hidden \(64\)/],
    [['pretrain-mlm', '--chapters', '2', '--text', 'x.txt'], /--chapters applies only to --text moby/],
    [['train-gpt', '--lr', 'fast'], /--lr expects a number, got 'fast'/],
    [['generate', '--model', 'no/such/model'], /--model: .*does not exist \(train one first with train-gpt\)/],
    [['generate', '--temperature'], /option --temperature needs a value/],
  ])('%j exits 2 with a message', async (argv, message) => {
    expect(await main(argv as string[])).toBe(2);
    expect(err.join('\n')).toMatch(message);
    expect(err.join('\n')).not.toMatch(STACK_LINE);
  });

  it('train-gpt then generate, end to end on a small text; an unknown prompt character exits 2', async () => {
    const txt = join(TMP, 'tiny.txt');
    writeFileSync(txt, 'the cat sat on the mat. the dog sat on the log. '.repeat(20));
    const dir = join(TMP, 'cli-gpt');
    expect(await main(['train-gpt', '--text', txt, '--steps', '3', '--block-size', '8', '--embd', '16', '--heads', '2', '--layers', '1', '--sample', '20', '--out', dir])).toBe(0);
    expect(out.join('\n')).toMatch(/validation loss [\d.]+ → [\d.]+ nats\/char/);
    out.length = 0;
    expect(await main(['generate', '--model', dir, '--prompt', 'the ', '--max-new-tokens', '12', '--seed', '3'])).toBe(0);
    expect(out.join('\n')).toMatch(/^the [a-z .]{12}$/);
    expect(await main(['generate', '--model', dir, '--prompt', 'Zebra'])).toBe(2);
    expect(err.join('\n')).toMatch(/--prompt: "Z", "b", "r" are not in the model's vocabulary of \d+ characters/);
  });

  it('pretrain-mlm then train-classifier --init, end to end on small files', async () => {
    const txt = join(TMP, 'book.txt');
    writeFileSync(txt, 'The whale swam. The ship sailed on the sea.\n\nThe captain called the men. '.repeat(30));
    const mlm = join(TMP, 'cli-mlm');
    expect(await main(['pretrain-mlm', '--text', txt, '--max-steps', '2', '--hidden', '16', '--max-length', '16', '--batch-size', '4', '--out', mlm])).toBe(0);
    expect(out.join('\n')).toMatch(/held-out masked tokens: loss [\d.]+ → [\d.]+/);
    const csv = join(TMP, 'reviews.csv');
    writeFileSync(csv, 'review,sentiment\n' + Array.from({ length: 20 }, (_, i) => (i % 2 ? '"the sea was calm, the ship sailed",good' : 'the whale sank the ship,bad')).join('\n'));
    out.length = 0;
    expect(await main(['train-classifier', '--data', csv, '--text-column', 'review', '--label-column', 'sentiment', '--init', mlm, '--epochs', '1', '--batch-size', '4', '--max-length', '16', '--out', join(TMP, 'cli-cls')])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/ {9}bad {4}/);
    expect(text).toMatch(/accuracy = [\d.]+ {3}macro F1 = [\d.]+/);
    expect(await main(['train-classifier', '--data', csv, '--text-column', 'nope'])).toBe(2);
    expect(err.join('\n')).toMatch(/no column "nope"/);
  });
});

describe('CLI as a process', () => {
  it('a bad option exits 2 with a message and no stack trace', () => {
    const r = runTs('src/cli/main.ts', {}, ['generate', '--top-k', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/tensorgrad generate: --top-k must be ≥ 1, got 0/);
    expect(r.all).not.toMatch(STACK_LINE);
  });
});
