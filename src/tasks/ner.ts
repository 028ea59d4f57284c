/**
 * Named-entity recognition by fine-tuning BERT (Devlin et al. 2019, §4.3 "CoNLL-2003 NER"):
 * the workflow of `npm run demo` and `tensorgrad train-ner`.
 *
 *   1. tokenize each word into WordPiece sub-words; the first sub-word carries the word's
 *      tag, the rest get −100 (ignored by the loss), as in HF's run_ner.py;
 *   2. BertForTokenClassification: logits = W·h + b per sub-word;
 *   3. minimise the cross-entropy ℓ = −Σ y·log ŷ with AdamW (θ ← θ − η∇L − ηλθ, no decay on
 *      biases and LayerNorm weights), linear warmup/decay of η, gradient clipping at 1.0;
 *   4. evaluate on dev each epoch (entity-level F1, seqeval/conlleval semantics), stop early
 *      when it stops improving, restore the best epoch, report on test.
 */
import type { BertTrainOptions } from '../train/step.js';
import { noGrad } from '../autograd/engine.js';
import { tidy } from '../tensor/scope.js';
import { manualSeed } from '../tensor/random.js';
import { BertConfig, BertForTokenClassification } from '../nn/bert.js';
import { adamWWithWarmup } from '../train/step.js';
import { trainLoop } from '../train/loop.js';
import { commitRun, json, openOutput, runRecord } from '../train/run.js';
import { alignLabels, LabelMap, type ConllSentence } from '../data/conll.js';
import type { BertTokenizer } from '../data/tokenizer/index.js';
import { DataLoader, padCollate, type SequenceExample } from '../data/dataloader.js';
import { classificationReport, entityReport, type ClassificationReport, type EntityReport } from '../data/metrics/index.js';
import { safetensorsBytes } from '../data/safetensors.js';
import { lineChartSvg } from '../utils/svg.js';
import { applyPeft, type PeftOptions } from '../peft/setup.js';
import { loadInit } from './classify.js';

/** One encoded sentence of NER: token ids, attention mask and per-token label ids (−100 where no label). */
export interface NerExample extends SequenceExample {
  /** Token ids `[CLS] … [SEP]` of the sentence's sub-words, at most maxLength long (unpadded). */
  inputIds: number[];
  /** 1 per real token, same length as inputIds. */
  attentionMask: number[];
  /** Tag id per token, −100 at special tokens and at sub-words that carry no label (ignored by the loss). */
  labels: number[];
}

/**
 * Tokenizes sentences and aligns word tags to sub-words (first sub-word labelled).
 * @example
 * ```ts
 * const tok = data.BertTokenizer.bertBaseUncased();
 * const labelMap = data.LabelMap.fromLabels(['O', 'B-PER', 'I-PER']);
 * const { examples, wordIds } = encodeNerSentences([{ tokens: ['Ishmael', 'sailed'], tags: ['B-PER', 'O'] }], tok, labelMap);
 * examples[0].labels;                     // [-100, 1, -100, -100, 0, -100]: [CLS] is ##hma ##el sailed [SEP]
 * wordIds[0];                             // [null, 0, 0, 0, 1, null]
 * ```
 */
export function encodeNerSentences(
  sentences: readonly ConllSentence[],
  tokenizer: BertTokenizer,
  labelMap: LabelMap,
  opts: { maxLength?: number; labelAllSubwords?: boolean } = {},
): { examples: NerExample[]; wordIds: (number | null)[][] } {
  const maxLength = opts.maxLength ?? 128;
  const examples: NerExample[] = [];
  const wordIds: (number | null)[][] = [];
  for (const s of sentences) {
    const enc = tokenizer.encodeWords(s.tokens, { maxLength, truncation: true });
    const labels = alignLabels(enc.wordIds, s.tags.map((t) => labelMap.labelToId(t)), {
      labelAllSubwords: opts.labelAllSubwords ?? false, labelMap,
    });
    examples.push({ inputIds: enc.inputIds, attentionMask: enc.attentionMask, labels });
    wordIds.push(enc.wordIds);
  }
  return { examples, wordIds };
}

export { decayGroups } from '../train/step.js';

/** Scores of a NER model on a split: loss, the word-level tag report and the entity-level (seqeval) report and F1. */
export interface NerEvaluation {
  /** Mean cross-entropy per labelled token over the split. */
  loss: number;
  /** Word-level tag report (sklearn layout). */
  tagReport: ClassificationReport<string>;
  /** Entity-level report (seqeval layout). */
  entities: EntityReport;
  /** Predicted tag per word of each sentence (from its first sub-word; words cut off by truncation are 'O'). */
  predictions: string[][];
}

/**
 * Predicts word tags (at each word's first sub-word) and scores them against the gold tags.
 * @example
 * ```ts
 * const enc = encodeNerSentences(splits.test, tokenizer, labelMap);
 * const ev = evaluateNer(model, splits.test, enc, labelMap);
 * ev.entities.microAvg.f1;               // entity-level F1 (seqeval)
 * console.log(ev.entities.toString());
 * ```
 */
export function evaluateNer(
  model: BertForTokenClassification,
  sentences: readonly ConllSentence[],
  encoded: { examples: NerExample[]; wordIds: (number | null)[][] },
  labelMap: LabelMap,
  batchSize = 32,
): NerEvaluation {
  const wasTraining = model.training;
  model.eval();
  const predictions: string[][] = [];
  let lossSum = 0;
  let lossCount = 0;
  noGrad(() => {
    const collate = padCollate({ padTokenId: 0 });
    for (let s = 0; s < encoded.examples.length; s += batchSize) {
      // tidy: the batch's activations go back to the allocator now, not when the GC finds them
      const { pred, n, loss } = tidy(() => {
        const batch = collate(encoded.examples.slice(s, s + batchSize));
        const out = model.forward({ inputIds: batch.inputIds!, attentionMask: batch.attentionMask!, labels: batch.labels! });
        return { pred: out.logits.argmax(-1).toArray() as number[][], n: batch.labels!.ne(-100).sum().item(), loss: out.loss!.item() }; // pred (B, T)
      });
      lossSum += loss * n;
      lossCount += n;
      for (let b = 0; b < pred.length; b++) {
        const i = s + b;
        const words = sentences[i]!.tokens.length;
        const tags = new Array<string>(words).fill('O'); // words cut off by truncation count as 'O'
        const wid = encoded.wordIds[i]!;
        for (let t = 0; t < wid.length; t++) {
          const w = wid[t];
          if (w !== null && w !== undefined && (t === 0 || wid[t - 1] !== w)) tags[w] = labelMap.idToLabel(pred[b]![t]!);
        }
        predictions.push(tags);
      }
    }
  });
  model.train(wasTraining);
  const gold = sentences.map((s) => s.tags);
  return {
    loss: lossSum / Math.max(1, lossCount),
    tagReport: classificationReport(gold.flat(), predictions.flat(), { labels: labelMap.labels.filter((l) => gold.flat().includes(l) || predictions.flat().includes(l)) }),
    entities: entityReport(gold, predictions),
    predictions,
  };
}

/** Options of {@link trainNer}: the CoNLL splits, the tokenizer and the BERT training options. */
export interface NerTrainOptions extends BertTrainOptions {
  /** Training sentences (CoNLL words and tags). */
  train: ConllSentence[];
  /** Development sentences: scored after every epoch for early stopping and the best epoch. */
  dev: ConllSentence[];
  /** Test sentences, scored once with the best model. */
  test: ConllSentence[];
  /** The WordPiece tokenizer that splits the words into sub-words (its vocabulary size must equal an `init` model's). */
  tokenizer: BertTokenizer;
  /** Early stopping: stop after this many epochs without a better dev F1. Default 3. */
  patience?: number;
  /** Where the data came from, for metrics.json (e.g. the CoNLL folder). */
  dataSource?: string;
  /** A pretrained BERT folder (config.json + model.safetensors) to start from; the tag head is fresh. */
  init?: string;
  /** Parameter-efficient fine-tuning (src/peft): the output folder then holds the adapter and a pointer to the base. */
  peft?: PeftOptions;
}

/** What {@link trainNer} returns: the model, label map, per-epoch history, the best epoch and the test scores. */
export interface NerTrainResult {
  /** The trained token classifier, with the weights of the best dev epoch. */
  model: BertForTokenClassification;
  /** Tag ↔ id mapping of the model's outputs. */
  labelMap: LabelMap;
  /** Per epoch: mean training loss, dev loss and dev entity F1. */
  history: { epoch: number; trainLoss: number; devLoss: number; devF1: number }[];
  /** The epoch (1-based, as in `history`) with the best dev F1, whose weights the model holds. */
  bestEpoch: number;
  /** Scores of the best model on the test sentences. */
  test: NerEvaluation;
  /** Wall time of the whole call, in seconds. */
  seconds: number;
  /** Paths written into the output folder; empty without an output folder. */
  files: string[];
}

/**
 * Fine-tunes a (small, randomly initialised or given) BERT for NER end to end, on the shared
 * training loop (src/train/loop.ts): dev entity F1 each epoch, early stopping that keeps the best
 * epoch's weights, checkpoints each epoch (`resume` continues exactly), and the output folder.
 *
 * @example
 * const splits = readConllSplits('data/ner');
 * const res = trainNer({ ...splits, tokenizer: BertTokenizer.bertBaseUncased(), epochs: 3, outDir: 'out/ner' });
 * res.test.entities.microAvg.f1;
 */
export function trainNer(opts: NerTrainOptions): NerTrainResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 42;
  manualSeed(seed);
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const labelMap = LabelMap.fromSentences([...opts.train, ...opts.dev, ...opts.test]);
  const init = opts.init ? loadInit(opts.init) : null;
  let maxLength = opts.maxLength ?? 64;
  if (init && maxLength > init.config.max_position_embeddings!) maxLength = init.config.max_position_embeddings!;
  const enc = (s: ConllSentence[]) => encodeNerSentences(s, opts.tokenizer, labelMap, { maxLength });
  const train = enc(opts.train), dev = enc(opts.dev), test = enc(opts.test);

  const id2label = Object.fromEntries(labelMap.labels.map((l, i) => [i, l]));
  const config = init ? BertConfig.fromJSON({ ...init.config, num_labels: labelMap.labels.length, id2label }) : new BertConfig({
    vocabSize: opts.tokenizer.vocabSize,
    hiddenSize: opts.hiddenSize ?? 128,
    numHiddenLayers: opts.numLayers ?? 2,
    numAttentionHeads: opts.numHeads ?? 2,
    intermediateSize: opts.intermediateSize ?? 4 * (opts.hiddenSize ?? 128),
    maxPositionEmbeddings: maxLength,
    hiddenDropoutProb: opts.dropout ?? 0.1,
    attentionProbsDropoutProb: opts.dropout ?? 0.1,
    numLabels: labelMap.labels.length,
    id2label,
  });
  if (config.vocabSize !== opts.tokenizer.vocabSize) {
    throw new Error(`trainNer: the tokenizer has ${opts.tokenizer.vocabSize} tokens but the model's vocabSize is ${config.vocabSize}${init ? ` (${opts.init}/config.json)` : ''}; use the vocabulary the model was trained with`);
  }
  const model = new BertForTokenClassification(config);
  if (init) model.loadPretrained(Object.fromEntries(Object.entries(init.stateDict).filter(([k]) => !k.startsWith('classifier.')))); // the tag head is fresh
  const modelFiles = () => ({
    'model.safetensors': safetensorsBytes(model.stateDict(), { format: 'pt' }),
    'config.json': json({ ...config.toJSON(), architectures: ['BertForTokenClassification'] }),
    ...opts.tokenizer.toHFFiles(),
  });
  const baseFiles = opts.peft && !init ? modelFiles() : null; // the random initialisation, base of the adapter
  if (opts.peft) log(applyPeft(model, opts.peft, { head: ['classifier'], taskType: 'TOKEN_CLS' }).line);
  const output = openOutput(opts, model); // checked and locked before training
  try {
    const epochs = opts.epochs ?? 10;
    const batchSize = opts.batchSize ?? 16;
    const accum = opts.gradientAccumulationSteps ?? 1;
    const loader = new DataLoader(train.examples, { batchSize, shuffle: true, collate: padCollate({ padTokenId: opts.tokenizer.padTokenId }) });
    const totalSteps = epochs * Math.ceil(loader.length / accum);
    const hp = {
      lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0.01, warmupRatio: opts.warmupRatio ?? 0.1, epochs, batchSize, maxLength,
      gradientAccumulationSteps: accum, maxGradNorm: opts.maxGradNorm ?? 1.0, patience: opts.patience ?? 3, dropout: opts.dropout ?? 0.1,
      model: config.toJSON(), ...(opts.cliOptions ? { cli: opts.cliOptions } : {}),
    };
    const { optimizer, scheduler } = adamWWithWarmup(model, { lr: hp.lr, weightDecay: hp.weightDecay, warmupRatio: hp.warmupRatio, totalSteps });
    log(`NER: ${opts.train.length}/${opts.dev.length}/${opts.test.length} sentences (train/dev/test), ${labelMap.labels.length} tags, ` +
      `BERT ${config.numHiddenLayers}×${config.hiddenSize} (${(model.numParameters() / 1e6).toFixed(2)}M parameters), ${epochs} epochs × ${loader.length} steps`);

    const loop = trainLoop({
      model, optimizer, scheduler, data: loader, epochs, gradientAccumulationSteps: accum, maxGradNorm: hp.maxGradNorm,
      loss: (batch) => ({
        loss: model.forward({ inputIds: batch.inputIds!, attentionMask: batch.attentionMask!, labels: batch.labels! }).loss!,
        tokens: batch.attentionMask!.sum().item(),
      }),
      evaluate: () => {
        const ev = evaluateNer(model, opts.dev, dev, labelMap);
        return { devLoss: ev.loss, devF1: ev.entities.microAvg.f1 };
      },
      describeEval: (e, steps) => {
        const mine = steps.filter((s) => s.epoch === e.epoch);
        const trainLoss = mine.reduce((a, s) => a + s.loss, 0) / Math.max(1, mine.length);
        return `epoch ${e.epoch}: train loss ${trainLoss.toFixed(4)}, dev loss ${e.metrics.devLoss!.toFixed(4)}, dev entity F1 ${e.metrics.devF1!.toFixed(4)}`;
      },
      earlyStopping: { metric: 'devF1', mode: 'max', patience: hp.patience },
      hyperparameters: hp, ...(output ? { output } : {}), resume: opts.resume ?? false,
      ...(opts.saveEvery !== undefined ? { saveEvery: opts.saveEvery } : {}),
      ...(opts.progress !== undefined ? { progress: opts.progress } : {}), log,
    });
    const history = loop.epochs.map((e) => {
      const ev = loop.evals.find((x) => x.epoch === e.epoch)!;
      return { epoch: e.epoch, trainLoss: e.trainLoss, devLoss: ev.metrics.devLoss!, devF1: ev.metrics.devF1! };
    });
    const bestEpoch = loop.best?.epoch ?? history.length;
    const testEval = evaluateNer(model, opts.test, test, labelMap);
    const seconds = (performance.now() - t0) / 1000;

    const files = output ? commitRun(output, {
      model, peft: opts.peft ?? null, baseDir: opts.init ?? null, baseFiles, modelFiles, step: loop.steps.length,
      files: {
        'metrics.json': json({
          ...runRecord('train-ner', { seed, hyperparameters: hp, data: { source: opts.dataSource ?? null, train: opts.train.length, dev: opts.dev.length, test: opts.test.length } }, loop, seconds),
          bestEpoch, history,
          test: {
            loss: testEval.loss,
            entity: { micro: testEval.entities.microAvg, macro: testEval.entities.macroAvg, weighted: testEval.entities.weightedAvg, perType: testEval.entities.classes },
            tags: { accuracy: testEval.tagReport.accuracy, macro: testEval.tagReport.macroAvg, weighted: testEval.tagReport.weightedAvg, perTag: testEval.tagReport.classes },
          },
        }),
        'curves.svg': lineChartSvg({
          title: 'BERT NER fine-tuning', xLabel: 'epoch', leftLabel: 'loss', rightLabel: 'entity F1',
          series: [
            { name: 'train loss', values: history.map((h) => h.trainLoss), color: '#1f77b4', axis: 'left' },
            { name: 'dev loss', values: history.map((h) => h.devLoss), color: '#aec7e8', axis: 'left' },
            { name: 'dev entity F1', values: history.map((h) => h.devF1), color: '#d62728', axis: 'right' },
          ],
        }),
      },
    }) : [];
    return { model, labelMap, history, bestEpoch, test: testEval, seconds, files };
  } finally {
    output?.release();
  }
}
