/** Tiny model folders for the pipeline and server tests (seeded, written to a temp folder). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../../src/tensor/random.js';
import { noGrad } from '../../src/autograd/engine.js';
import { BertConfig, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification } from '../../src/nn/bert.js';
import { GPT, GPTConfig } from '../../src/nn/gpt.js';
import { CharGPT, CharVocab } from '../../src/tasks/gpt-char.js';
import { saveSafetensors } from '../../src/data/safetensors.js';

export const TINY_VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '!', "'", 'the', 'a', 'of', 'to', 'in', 'and', 'ship', 'sea', 'whale',
  'captain', 'ahab', 'ish', '##mael', 'went', 'sailed', 'from', 'nan', '##tuck', '##et', 'new', 'york', 'white', 'call', 'me',
  'boston', 'pe', '##quod', 'is', 'was', 'great', 'bad', 'good', 'free', 'money', 'now', 'win', 'lunch', 'see', 'you', 'at', 'star',
  '##buck', 'queen', '##s', 'harbor', 'mob', '##y', 'dick', 'on', 'wed', '##nes', '##day', 'i', 'it', 'not', 'hello', 'world',
];
export const NER_LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];

function bertConfig(extra: Partial<BertConfig> = {}): BertConfig {
  return new BertConfig({
    vocabSize: TINY_VOCAB.length, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32,
    maxPositionEmbeddings: 24, ...extra,
  });
}

function writeFolder(dir: string, config: Record<string, unknown>, sd: Record<string, import('../../src/tensor/tensor.js').Tensor>, vocab = true): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  saveSafetensors(sd, join(dir, 'model.safetensors'));
  if (vocab) writeFileSync(join(dir, 'vocab.txt'), TINY_VOCAB.join('\n') + '\n');
  return dir;
}

/** Writes tiny NER, classifier, MLM and char-GPT folders; returns their paths. */
export function makeTinyFolders(root = mkdtempSync(join(tmpdir(), 'tg-pipe-'))) {
  manualSeed(7);
  const nerCfg = bertConfig({ numLabels: NER_LABELS.length, id2label: Object.fromEntries(NER_LABELS.map((l, i) => [i, l])) });
  const ner = new BertForTokenClassification(nerCfg);
  // a sharper head so that tags vary between tokens
  noGrad(() => ner.classifier.weight.mul_(40));
  const clsCfg = bertConfig({ numLabels: 2, id2label: { 0: 'ham', 1: 'spam' } });
  const cls = new BertForSequenceClassification(clsCfg);
  const mlm = new BertForMaskedLM(bertConfig());
  const vocab = CharVocab.fromText('call me ishmael. some years ago, never mind how long\n');
  const gpt = new CharGPT(new GPT(new GPTConfig({ vocabSize: vocab.size, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 })), vocab);
  const dirs = {
    root,
    ner: writeFolder(join(root, 'ner'), { ...nerCfg.toJSON(), architectures: ['BertForTokenClassification'] }, ner.stateDict()),
    classifier: writeFolder(join(root, 'classifier'), { ...clsCfg.toJSON(), architectures: ['BertForSequenceClassification'] }, cls.stateDict()),
    mlm: writeFolder(join(root, 'mlm'), { ...mlm.config.toJSON(), architectures: ['BertForMaskedLM'] }, mlm.stateDict()),
    gpt: join(root, 'gpt'),
  };
  gpt.save(dirs.gpt);
  return dirs;
}
