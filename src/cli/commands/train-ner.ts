/** `tensorgrad train-ner`: fine-tune a BERT for named-entity recognition (the demo). */
import type { CommandSpec, ParsedOptions } from '../args.js';
import { asUsage, trainingRun, bertSizeOptions, optimOptions, peftFromOptions, peftOptions, runOptions } from '../options.js';
import { DEFAULT_NER_DATA, defineCommand, printOutputs, requireDir, requireModelFolder, tokenizerFrom, useBackend } from '../util.js';
import { BertTokenizer } from '../../data/tokenizer/index.js';
import { loadInit } from '../../tasks/classify.js';
import { readConllSplits } from '../../data/conll.js';
import { trainNer } from '../../tasks/ner.js';

export const trainNerSpec: CommandSpec = {
  name: 'train-ner',
  summary: 'Fine-tune a BERT for named-entity recognition on CoNLL-2003-format files (IOB2 or IOB1 tags).\nWith no --data it uses the shipped 1,400-sentence sample in data/ner.',
  options: [
    { name: 'data', type: 'string', help: 'folder with train/dev/test files (eng.train/eng.testa/eng.testb or train.txt/valid.txt/test.txt)' },
    { name: 'vocab', type: 'string', help: "WordPiece vocab.txt (default: the --init folder's, else bert-base-uncased, shipped)" },
    { name: 'init', type: 'string', help: 'pretrained BERT folder (config.json + model.safetensors + vocab.txt) to start from, e.g. out/mlm; the tag head is fresh (--hidden/--layers/--heads are then ignored)' },
    { name: 'cased', type: 'boolean', help: 'keep case (for a cased vocabulary)' },
    ...bertSizeOptions({ maxLengthMin: 4, maxLengthHelp: 'maximum sub-word tokens per sentence' }),
    ...optimOptions({
      epochs: { default: 12, help: 'maximum number of epochs' }, lr: 5e-3, batchSize: { default: 8, help: 'sentences per batch' },
      weightDecay: 0.01, seed: { default: 42, help: 'random seed (runs are reproducible)' },
    }),
    { name: 'patience', type: 'int', default: 4, min: 1, help: 'early stopping: epochs without dev improvement' },
    ...peftOptions,
    ...runOptions('out/ner', 'the checkpoint, metrics.json and curves.svg'),
  ],
  examples: [
    'tensorgrad train-ner', 'tensorgrad train-ner --data ~/conll2003 --epochs 3 --hidden 256 --layers 4 --heads 4',
    'tensorgrad train-ner --init out/mlm --peft lora --lora-r 8 --out out/ner-lora',
  ],
};

export async function runTrainNer(o: ParsedOptions, argv: string[] = []): Promise<number> {
  const run = trainingRun(o, argv);
  const peft = peftFromOptions(o);
  useBackend(o.backend as string | undefined);
  const init = o.init !== undefined ? requireModelFolder('--init', String(o.init), 'pretrain-mlm') : undefined;
  const initVocab = init && o.vocab === undefined ? asUsage('--init', () => loadInit(init).tokenizer) : null;
  const tokenizer: BertTokenizer = initVocab ?? tokenizerFrom(o);
  const dataDir = o.data ? requireDir('--data', String(o.data)) : DEFAULT_NER_DATA;
  const splits = readConllSplits(dataDir);
  const outDir = run.outDir;
  const res = trainNer({
    train: splits.train, dev: splits.dev, test: splits.test, tokenizer, ...(init ? { init } : {}), ...(peft ? { peft } : {}),
    hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number, maxLength: o.maxLength as number,
    epochs: o.epochs as number, lr: o.lr as number, batchSize: o.batchSize as number, weightDecay: o.weightDecay as number,
    patience: o.patience as number, seed: o.seed as number, ...run, command: `tensorgrad train-ner`, dataSource: dataDir,
  });
  console.log(`\nTest set (${splits.test.length} sentences), best dev epoch ${res.bestEpoch} — per-tag report:\n`);
  console.log(res.test.tagReport.toString());
  console.log('\nEntity-level (seqeval, IOB2):\n');
  console.log(res.test.entities.toString());
  console.log(`\nentity F1 (micro) = ${res.test.entities.microAvg.f1.toFixed(4)}   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  return 0;
}

export const trainNerCommand = defineCommand(trainNerSpec, runTrainNer);
