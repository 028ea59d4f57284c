/**
 * The release export of issue #14 (scripts/release-export.ts), on a tiny pre-training run: a
 * complete HF folder with float16 weights (the run's float32 weights rounded as torch .half()),
 * the tokenizer files, vocab_map.json (a renumbering of bert-base-uncased), eval.svg, and a model
 * card whose numbers are the run's (held-out metrics, the cloze test recomputed on the exported
 * weights). Also `--init pretrained` when no release checkpoint exists: an exact message.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportRelease, FINE_TUNING_DROPOUT, RELEASE } from '../../scripts/release-export.js';
import { pretrainMlm, clozeTest, loadMobyDick, type ClozeItem } from '../../src/tasks/index.js';
import { parseSafetensors, f32BitsToF16Bits } from '../../src/data/safetensors-format.js';
import { loadSafetensors } from '../../src/data/safetensors.js';
import { BertTokenizer } from '../../src/data/tokenizer/index.js';
import { BertConfig, BertForMaskedLM } from '../../src/nn/bert.js';
import { initFolder } from '../../src/cli/util.js';
import { initFromOptions } from '../../src/cli/options.js';
import { parseArgs } from '../../src/cli/args.js';
import { trainNerSpec } from '../../src/cli/commands/train-ner.js';
import { trainClassifierSpec } from '../../src/cli/commands/train-classifier.js';
import { PRETRAINED_NAME } from '../../src/tasks/pretrained.js';

const TMP = mkdtempSync(join(tmpdir(), 'tg-release-'));
const cfg = { ...RELEASE, name: 'tiny-release', runDir: join(TMP, 'run'), layers: 1, hidden: 16, heads: 2, maxLength: 128, vocabSize: 1200, maxSteps: 6, evalInterval: 3 };

describe('exportRelease (the shipped-checkpoint format)', () => {
  const run = pretrainMlm({
    text: loadMobyDick({ chapters: 2 }), hiddenSize: cfg.hidden, numLayers: cfg.layers, numHeads: cfg.heads, maxLength: cfg.maxLength,
    vocabMaxSize: cfg.vocabSize, maxSteps: cfg.maxSteps, evalInterval: cfg.evalInterval, batchSize: 8, dropout: cfg.dropout, epochs: 5, outDir: cfg.runDir, progress: null, log: () => {},
  });
  exportRelease(cfg, join(TMP, 'assets'));
  const dir = join(TMP, 'assets', cfg.name);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');

  it('writes a complete HF folder with float16 weights equal to the run weights rounded to half', () => {
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'vocab_map.json', 'eval.svg', 'README.md', 'pretraining.json']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const config = JSON.parse(read('config.json'));
    expect(config.torch_dtype).toBe('float16');
    // the fine-tuning dropout, whatever the pre-training used (the tiny run here pre-trains with RELEASE.dropout = 0)
    expect([config.hidden_dropout_prob, config.attention_probs_dropout_prob]).toEqual([FINE_TUNING_DROPOUT, FINE_TUNING_DROPOUT]);
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Record<string, { dtype: string }>;
    expect(new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype))).toEqual(new Set(['F16']));
    const shipped = parseSafetensors(bytes).tensors['bert.encoder.layer.0.attention.self.query.weight']!.data as Float32Array;
    const orig = run.model.stateDict()['bert.encoder.layer.0.attention.self.query.weight']!.toTypedArray() as Float32Array;
    const ob = new Uint32Array(orig.buffer, orig.byteOffset, orig.length);
    const sb = new Uint32Array(shipped.buffer, shipped.byteOffset, shipped.length);
    for (let i = 0; i < orig.length; i++) expect(f32BitsToF16Bits(sb[i]!)).toBe(f32BitsToF16Bits(ob[i]!));
  });

  it('keeps the trimmed vocabulary a renumbering of bert-base-uncased', () => {
    const vocab = read('vocab.txt').trimEnd().split('\n');
    expect(vocab.length).toBeLessThanOrEqual(cfg.vocabSize);
    expect(vocab.length).toBe(JSON.parse(read('config.json')).vocab_size);
    const map = JSON.parse(read('vocab_map.json')) as { base: string; base_ids: number[] };
    expect(map.base).toBe('bert-base-uncased');
    expect(BertTokenizer.bertBaseUncased().convertIdsToTokens(map.base_ids)).toEqual(vocab);
  });

  it("the model card's numbers are the run's: held-out metrics, steps, and the cloze test on the exported weights", () => {
    const card = read('README.md');
    const last = run.evals[run.evals.length - 1]!;
    expect(card).toContain(`| accuracy | ${(100 * run.evals[0]!.accuracy).toFixed(1)} % | ${(100 * last.accuracy).toFixed(1)} % |`);
    expect(card).toContain(`| perplexity | ${run.evals[0]!.perplexity.toFixed(0)} | ${last.perplexity.toFixed(1)} |`);
    expect(card).toContain(`tensorgrad pretrain-mlm --text ${cfg.corpus} --out ${cfg.runDir}`);
    expect(card).toMatch(/npm run pretrain:release/);
    const model = new BertForMaskedLM(BertConfig.fromJSON(JSON.parse(read('config.json'))));
    model.loadPretrained(loadSafetensors(join(dir, 'model.safetensors')));
    const items = (JSON.parse(readFileSync('data/cloze/cloze.json', 'utf8')) as { sentences: ClozeItem[] }).sentences;
    expect(items).toHaveLength(10);
    const hits = clozeTest(model, BertTokenizer.fromVocabFile(join(dir, 'vocab.txt'), { doLowerCase: true }), items).filter((c) => c.hit).length;
    expect(card).toContain(`**${hits} / 10**`);
    expect((JSON.parse(read('pretraining.json')) as { steps: number }).steps).toBe(cfg.maxSteps);
  });

  it('refuses to export an unfinished run', () => {
    expect(() => exportRelease({ ...cfg, runDir: join(TMP, 'nothing') }, join(TMP, 'assets2'))).toThrow(/config\.json is missing — has the run finished/);
  });
});

describe('--init pretrained', () => {
  it(existsSync(new URL(`../../assets/${PRETRAINED_NAME}`, import.meta.url)) ? 'resolves the release checkpoint' : 'names the remedy while no release checkpoint exists', () => {
    if (existsSync(new URL(`../../assets/${PRETRAINED_NAME}`, import.meta.url))) expect(initFolder('pretrained')).toMatch(new RegExp(`${PRETRAINED_NAME}$`));
    else expect(() => initFolder('pretrained')).toThrow(/--init: the pretrained checkpoint .* is missing \(it ships in assets\/.*rebuild it with `npm run pretrain:release`/);
    expect(initFolder('random')).toBeUndefined();
    expect(() => initFolder('no/such/folder')).toThrow(/--init: .*does not exist/);
  });

  it.runIf(existsSync(new URL(`../../assets/${PRETRAINED_NAME}`, import.meta.url)))('is the default of train-ner and train-classifier; size options without --init random are refused, not ignored', () => {
    const o = (argv: string[]) => parseArgs(trainNerSpec, argv);
    expect(o([]).init).toBe('pretrained');
    expect(parseArgs(trainClassifierSpec, []).init).toBe('pretrained');
    expect(initFromOptions(o([]), [])).toMatch(new RegExp(`${PRETRAINED_NAME}$`));
    let argv = ['--hidden', '16'];
    expect(() => initFromOptions(o(argv), argv)).toThrow(/--hidden sizes a model trained from random weights, but --init defaults to 'pretrained' .*: add --init random/);
    argv = ['--init', 'pretrained', '--layers=2'];
    expect(() => initFromOptions(o(argv), argv)).toThrow(/--layers: a checkpoint \(--init pretrained\) fixes the model's size/);
    argv = ['--init', 'random', '--hidden', '16'];
    expect(initFromOptions(o(argv), argv)).toBeUndefined();
    argv = ['--compare-init', '--hidden', '32']; // --compare-init: the sizes are its from-scratch run's
    expect(initFromOptions(o(argv), argv, 'the from-scratch run')).toMatch(new RegExp(`${PRETRAINED_NAME}$`));
  });
});
