/** The CLI's commands: option specs and what each runs. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { UsageError, type CommandSpec, type ParsedOptions } from './args.js';
import { defineCommand, parseOrHelp, requireDir, useBackend, type Command } from './util.js';
import { readConllSplits, LabelMap } from '../data/conll.js';
import { BertTokenizer } from '../data/tokenizer.js';
import { loadSafetensors } from '../data/safetensors.js';
import { trainNer, encodeNerSentences, evaluateNer } from '../tasks/ner.js';
import { BertConfig, BertForTokenClassification } from '../nn/bert.js';
import { getDefaultDevice, listBackends } from '../backends/backend.js';
import { backendInfo } from '../backends/info.js';

export type { Command } from './util.js';

/** The repo's (or installed package's) root, two levels above this file in src/cli or dist/cli. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_NER_DATA = join(PACKAGE_ROOT, 'data', 'ner');





const modelOptions = [
  { name: 'hidden', type: 'int', default: 64, min: 8, help: 'hidden size of the BERT' },
  { name: 'layers', type: 'int', default: 2, min: 1, help: 'number of Transformer layers' },
  { name: 'heads', type: 'int', default: 2, min: 1, help: 'attention heads (must divide --hidden)' },
  { name: 'max-length', type: 'int', default: 64, min: 4, help: 'maximum sub-word tokens per sentence' },
] as const;

const trainOptions = [
  { name: 'epochs', type: 'int', default: 12, min: 1, help: 'maximum number of epochs' },
  { name: 'lr', type: 'number', default: 5e-3, min: 0, help: 'peak learning rate of AdamW' },
  { name: 'batch-size', type: 'int', default: 8, min: 1, help: 'sentences per batch' },
  { name: 'weight-decay', type: 'number', default: 0.01, min: 0, help: 'AdamW weight decay λ' },
  { name: 'patience', type: 'int', default: 4, min: 1, help: 'early stopping: epochs without dev improvement' },
  { name: 'seed', type: 'int', default: 42, help: 'random seed (runs are reproducible)' },
  { name: 'backend', type: 'string', default: 'cpu', help: 'compute backend' },
] as const;

export const trainNerSpec: CommandSpec = {
  name: 'train-ner',
  summary: 'Fine-tune a BERT for named-entity recognition on CoNLL-2003-format files (IOB2 or IOB1 tags).\nWith no --data it uses the shipped 450-sentence sample in data/ner.',
  options: [
    { name: 'data', type: 'string', help: 'folder with train/dev/test files (eng.train/eng.testa/eng.testb or train.txt/valid.txt/test.txt)' },
    { name: 'out', type: 'string', default: 'out/ner', help: 'output folder for the checkpoint, metrics.json and curves.svg' },
    { name: 'vocab', type: 'string', help: 'WordPiece vocab.txt (default: bert-base-uncased, shipped)' },
    { name: 'cased', type: 'boolean', help: 'keep case (for a cased vocabulary)' },
    ...modelOptions,
    ...trainOptions,
  ] as CommandSpec['options'],
  examples: ['tensorgrad train-ner', 'tensorgrad train-ner --data ~/conll2003 --epochs 3 --hidden 256 --layers 4 --heads 4'],
};

function tokenizerFrom(o: ParsedOptions): BertTokenizer {
  if (o.vocab) {
    const p = resolve(String(o.vocab));
    if (!existsSync(p)) throw new UsageError(`--vocab: ${p} does not exist`);
    return BertTokenizer.fromVocabFile(p, { doLowerCase: !o.cased });
  }
  return BertTokenizer.bertBaseUncased();
}

export async function runTrainNer(o: ParsedOptions): Promise<number> {
  useBackend(o.backend as string | undefined);
  const dataDir = o.data ? requireDir('--data', String(o.data)) : DEFAULT_NER_DATA;
  const splits = readConllSplits(dataDir);
  const outDir = resolve(String(o.out));
  const res = trainNer({
    train: splits.train, dev: splits.dev, test: splits.test, tokenizer: tokenizerFrom(o),
    hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number, maxLength: o.maxLength as number,
    epochs: o.epochs as number, lr: o.lr as number, batchSize: o.batchSize as number, weightDecay: o.weightDecay as number,
    patience: o.patience as number, seed: o.seed as number, outDir,
  });
  console.log(`\nTest set (${splits.test.length} sentences), best dev epoch ${res.bestEpoch} — per-tag report:\n`);
  console.log(res.test.tagReport.toString());
  console.log('\nEntity-level (seqeval, IOB2):\n');
  console.log(res.test.entities.toString());
  console.log(`\nentity F1 (micro) = ${res.test.entities.microAvg.f1.toFixed(4)}   finished in ${res.seconds.toFixed(1)} s`);
  console.log(`\nOutputs in ${outDir}:\n${res.files.map((f) => `  ${f}`).join('\n')}`);
  return 0;
}

const trainNerCommand = defineCommand(trainNerSpec, runTrainNer);

const evaluateSpec: CommandSpec = {
  name: 'evaluate',
  summary: 'Score a NER model saved by train-ner (config.json + model.safetensors) on a CoNLL split.',
  options: [
    { name: 'model', type: 'string', default: 'out/ner', help: 'folder written by train-ner' },
    { name: 'data', type: 'string', help: 'folder with the CoNLL splits (default: the shipped sample)' },
    { name: 'split', type: 'string', default: 'test', choices: ['train', 'dev', 'test'], help: 'which split' },
    { name: 'vocab', type: 'string', help: 'WordPiece vocab.txt (default: bert-base-uncased)' },
    { name: 'cased', type: 'boolean', help: 'keep case' },
    { name: 'max-length', type: 'int', default: 64, min: 4, help: 'maximum sub-word tokens per sentence' },
  ],
};

const evaluateCommand: Command = {
  spec: evaluateSpec,
  async run(argv, prog) {
    const o = parseOrHelp(evaluateSpec, argv, prog);
    if (!o) return 0;
    const dir = requireDir('--model', String(o.model));
    for (const f of ['config.json', 'model.safetensors']) {
      if (!existsSync(join(dir, f))) throw new UsageError(`--model: ${join(dir, f)} is missing (expected a folder written by train-ner)`);
    }
    const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const config = BertConfig.fromJSON(hf);
    if (!config.id2label) throw new UsageError(`--model: ${join(dir, 'config.json')} has no id2label`);
    const labelMap = LabelMap.fromLabels(Object.keys(config.id2label).sort((a, b) => Number(a) - Number(b)).map((k) => config.id2label![Number(k)]!));
    const model = new BertForTokenClassification(config);
    model.loadPretrained(loadSafetensors(join(dir, 'model.safetensors')));
    const splits = readConllSplits(o.data ? requireDir('--data', String(o.data)) : DEFAULT_NER_DATA);
    const sents = splits[o.split as 'train' | 'dev' | 'test'];
    const enc = encodeNerSentences(sents, tokenizerFrom(o), labelMap, { maxLength: Math.min(o.maxLength as number, config.maxPositionEmbeddings) });
    const ev = evaluateNer(model, sents, enc, labelMap);
    console.log(ev.tagReport.toString());
    console.log('\n' + ev.entities.toString());
    console.log(`\nentity F1 (micro) = ${ev.entities.microAvg.f1.toFixed(4)}, loss = ${ev.loss.toFixed(4)}`);
    return 0;
  },
};

const infoSpec: CommandSpec = { name: 'info', summary: 'Show the backends, threads and GPU status.', options: [] };
const infoCommand: Command = {
  spec: infoSpec,
  async run(argv, prog) {
    if (!parseOrHelp(infoSpec, argv, prog)) return 0;
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    console.log(`tensorgrad ${pkg.version} on Node ${process.version} (${os.platform()} ${os.arch()})`);
    console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism?.() ?? os.cpus().length} cores`);
    console.log(`backends: ${listBackends().join(', ')} (default '${getDefaultDevice()}')`);
    for (const b of ['cpu', 'gpu']) {
      const info = backendInfo(b);
      console.log(`  ${b}: ${info.available ? 'available' : 'not available'} — ${info.description}`);
    }
    return 0;
  },
};

import { MORE_COMMANDS } from './commands-more.js';
import { predictCommand } from './commands/predict.js';
import { serveCommand } from './commands/serve.js';
export const COMMANDS: Command[] = [trainNerCommand, evaluateCommand, infoCommand, ...MORE_COMMANDS, predictCommand, serveCommand];
