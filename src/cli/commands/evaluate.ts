/** `tensorgrad evaluate`: score a NER model saved by train-ner on a CoNLL split. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { DEFAULT_NER_DATA, defineCommand, requireDir, requireModelFolder, tokenizerFrom } from '../util.js';
import { readConllSplits, LabelMap } from '../../data/conll.js';
import { loadSafetensors } from '../../data/safetensors.js';
import { encodeNerSentences, evaluateNer } from '../../tasks/ner.js';
import { BertConfig, BertForTokenClassification } from '../../nn/bert.js';
import { isAdapterDir } from '../../peft/io.js';
import { loadWithAdapter } from '../../peft/setup.js';

export const evaluateSpec: CommandSpec = {
  name: 'evaluate',
  summary: 'Score a NER model saved by train-ner (config.json + model.safetensors) on a CoNLL split.',
  options: [
    { name: 'model', type: 'string', default: 'out/ner', help: 'folder written by train-ner (with --peft: the adapter folder; its base is found through adapter_config.json)' },
    { name: 'data', type: 'string', help: 'folder with the CoNLL splits (default: the shipped sample)' },
    { name: 'split', type: 'string', default: 'test', choices: ['train', 'dev', 'test'], help: 'which split' },
    { name: 'vocab', type: 'string', help: 'WordPiece vocab.txt (default: bert-base-uncased)' },
    { name: 'cased', type: 'boolean', help: 'keep case' },
    { name: 'max-length', type: 'int', default: 64, min: 4, help: 'maximum sub-word tokens per sentence' },
  ],
};

export async function runEvaluate(o: ParsedOptions): Promise<number> {
  const asAdapter = isAdapterDir(resolve(String(o.model))) && !existsSync(join(resolve(String(o.model)), 'model.safetensors'));
  const dir = asAdapter ? resolve(String(o.model)) : requireModelFolder('--model', String(o.model), 'train-ner');
  if (asAdapter && !existsSync(join(dir, 'config.json'))) throw new UsageError(`--model: ${join(dir, 'config.json')} is missing (expected a folder written by train-ner --peft)`);
  const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const config = BertConfig.fromJSON(hf);
  if (!config.id2label) throw new UsageError(`--model: ${join(dir, 'config.json')} has no id2label`);
  const labelMap = LabelMap.fromLabels(Object.keys(config.id2label).sort((a, b) => Number(a) - Number(b)).map((k) => config.id2label![Number(k)]!));
  const model = new BertForTokenClassification(config);
  if (asAdapter) {
    try {
      loadWithAdapter(model, dir); // the base the adapter points at, then the adapter
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message}`);
    }
  } else model.loadPretrained(loadSafetensors(join(dir, 'model.safetensors')));
  const splits = readConllSplits(o.data ? requireDir('--data', String(o.data)) : DEFAULT_NER_DATA);
  const sents = splits[o.split as 'train' | 'dev' | 'test'];
  const enc = encodeNerSentences(sents, tokenizerFrom(o), labelMap, { maxLength: Math.min(o.maxLength as number, config.maxPositionEmbeddings) });
  const ev = evaluateNer(model, sents, enc, labelMap);
  console.log(ev.tagReport.toString());
  console.log('\n' + ev.entities.toString());
  console.log(`\nentity F1 (micro) = ${ev.entities.microAvg.f1.toFixed(4)}, loss = ${ev.loss.toFixed(4)}`);
  return 0;
}

export const evaluateCommand = defineCommand(evaluateSpec, runEvaluate);
