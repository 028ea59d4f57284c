/** `tensorgrad train-ner`: fine-tune a BERT for named-entity recognition (the demo). */
import type { CommandSpec, ParsedOptions } from '../args.js';
import { asUsage, initFromOptions, trainingRun, bertSizeOptions, optimOptions, peftFromOptions, peftOptions, runOptions } from '../options.js';
import { DEFAULT_NER_DATA, defineCommand, printOutputs, requireDir, tokenizerFrom, useBackend } from '../util.js';
import { UsageError } from '../args.js';
import { BertTokenizer } from '../../data/tokenizer/index.js';
import { loadInit } from '../../tasks/classify.js';
import { readConllSplits } from '../../data/conll.js';
import { trainNer } from '../../tasks/ner.js';

const NER_LR_PRETRAINED = 5e-4;
const NER_LR_SCRATCH = 5e-3;
/** Maximum epochs: a checkpoint fine-tunes in fewer (and each epoch of the 4 × 128 costs more than one of the 2 × 64). */
const NER_EPOCHS_PRETRAINED = 8;
const NER_EPOCHS_SCRATCH = 12;

export const trainNerSpec: CommandSpec = {
  name: 'train-ner',
  summary: 'Fine-tune a BERT for named-entity recognition on CoNLL-2003-format files (IOB2 or IOB1 tags).\nWith no --data it uses the shipped 1,400-sentence sample in data/ner.',
  options: [
    { name: 'data', type: 'string', help: 'folder with train/dev/test files (eng.train/eng.testa/eng.testb or train.txt/valid.txt/test.txt)' },
    { name: 'vocab', type: 'string', help: "WordPiece vocab.txt (default: the --init folder's, else bert-base-uncased, shipped)" },
    { name: 'init', type: 'string', default: 'pretrained', help: "where the BERT starts: 'pretrained' (the shipped assets/tensorgrad-bert-L4-H128-uncased, pre-trained by `npm run pretrain:release`), a folder (config.json + model.safetensors + vocab.txt, e.g. out/mlm), or 'random' (from scratch, sized by --hidden/--layers/--heads); from a checkpoint the tag head is fresh and the vocabulary is the checkpoint's" },
    { name: 'compare-init', type: 'boolean', help: 'then also train from random weights on the same split and seed — the from-scratch model of --hidden/--layers/--heads (default 2 × 64) with the bert-base-uncased vocabulary (or --vocab) and the from-scratch learning rate — and print both test F1s (the demo)' },
    { name: 'cased', type: 'boolean', help: 'keep case (for a cased vocabulary)' },
    ...bertSizeOptions({ maxLengthMin: 4, maxLengthHelp: 'maximum sub-word tokens per sentence', randomOnly: true }),
    ...optimOptions({
      epochs: { default: 12, help: 'maximum number of epochs' }, lr: 5e-3, batchSize: { default: 8, help: 'sentences per batch' },
      weightDecay: 0.01, seed: { default: 42, help: 'random seed (runs are reproducible)' },
    }).map((spec) => spec.name === 'lr' ? { name: 'lr', type: 'number', min: 0, help: `peak learning rate of AdamW (default ${NER_LR_PRETRAINED} from a checkpoint, ${NER_LR_SCRATCH} from random initialisation)` } as const
      : spec.name === 'epochs' ? { name: 'epochs', type: 'int', min: 1, help: `maximum number of epochs (default ${NER_EPOCHS_PRETRAINED} from a checkpoint, ${NER_EPOCHS_SCRATCH} from random initialisation)` } as const : spec),
    { name: 'patience', type: 'int', default: 4, min: 1, help: 'early stopping: epochs without dev improvement' },
    ...peftOptions,
    ...runOptions('out/ner', 'the checkpoint, metrics.json and curves.svg'),
  ],
  examples: [
    'tensorgrad train-ner', 'tensorgrad train-ner --compare-init', 'tensorgrad train-ner --init random --data ~/conll2003 --epochs 3 --hidden 256 --layers 4 --heads 4',
    'tensorgrad train-ner --init out/mlm --peft lora --lora-r 8 --out out/ner-lora',
  ],
};

export async function runTrainNer(o: ParsedOptions, argv: string[] = []): Promise<number> {
  const run = trainingRun(o, argv);
  const peft = peftFromOptions(o);
  useBackend(o.backend as string | undefined);
  const init = initFromOptions(o, argv, o.compareInit ? 'the from-scratch run of --compare-init' : undefined);
  const initVocab = init && o.vocab === undefined ? asUsage('--init', () => loadInit(init).tokenizer) : null;
  const tokenizer: BertTokenizer = initVocab ?? tokenizerFrom(o);
  const dataDir = o.data ? requireDir('--data', String(o.data)) : DEFAULT_NER_DATA;
  const splits = readConllSplits(dataDir);
  const outDir = run.outDir;
  const common = {
    train: splits.train, dev: splits.dev, test: splits.test, tokenizer, maxLength: o.maxLength as number,
    batchSize: o.batchSize as number, weightDecay: o.weightDecay as number,
    patience: o.patience as number, seed: o.seed as number, dataSource: dataDir,
  };
  const res = trainNer({
    ...common, ...(init ? { init } : {}), ...(peft ? { peft } : {}), lr: nerLr(o, init !== undefined), epochs: nerEpochs(o, init !== undefined),
    hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number, ...run, command: `tensorgrad train-ner`,
  });
  console.log(`\nTest set (${splits.test.length} sentences), best dev epoch ${res.bestEpoch} — per-tag report:\n`);
  console.log(res.test.tagReport.toString());
  console.log('\nEntity-level (seqeval, IOB2):\n');
  console.log(res.test.entities.toString());
  console.log(`\nentity F1 (micro) = ${res.test.entities.microAvg.f1.toFixed(4)}   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  if (o.compareInit) {
    if (!init) throw new UsageError('--compare-init compares a checkpoint with random initialisation: it needs --init pretrained or a folder, not random');
    const size = `${o.layers} × ${o.hidden}`;
    console.log(`\nFor comparison: a BERT ${size} from random initialisation (the from-scratch default; same split and seed; lr ${nerLr(o, false)}, ≤ ${nerEpochs(o, false)} epochs) …`);
    const scratch = trainNer({
      ...common, tokenizer: tokenizerFrom(o), lr: nerLr(o, false), epochs: nerEpochs(o, false), hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number,
      log: () => {}, progress: null,
    });
    const [a, b] = [res.test.entities.microAvg.f1, scratch.test.entities.microAvg.f1];
    const c = res.model.config;
    console.log(`test entity F1: pretrained init (BERT ${c.numHiddenLayers} × ${c.hiddenSize}) ${a.toFixed(4)} vs random init (BERT ${size}) ${b.toFixed(4)}: ` +
      `${a >= b ? '+' : '−'}${(100 * Math.abs(a - b)).toFixed(1)} points (same split, seed ${o.seed}; ${res.seconds.toFixed(0)} s + ${scratch.seconds.toFixed(0)} s)`);
  }
  return 0;
}

/** The learning rate: --lr when given, else 5e-4 from a checkpoint and 5e-3 from scratch. */
function nerLr(o: ParsedOptions, fromCheckpoint: boolean): number {
  return o.lr !== undefined ? (o.lr as number) : fromCheckpoint ? NER_LR_PRETRAINED : NER_LR_SCRATCH;
}

/** The maximum number of epochs: --epochs when given, else fewer from a checkpoint than from scratch. */
function nerEpochs(o: ParsedOptions, fromCheckpoint: boolean): number {
  return o.epochs !== undefined ? (o.epochs as number) : fromCheckpoint ? NER_EPOCHS_PRETRAINED : NER_EPOCHS_SCRATCH;
}


export const trainNerCommand = defineCommand(trainNerSpec, runTrainNer);
