/**
 * Sentence (document) classification by fine-tuning BERT (Devlin et al. 2019, §4.1 "GLUE":
 * "the final hidden vector C ∈ ℝᴴ corresponding to the first input token ([CLS]) … the only new
 * parameters introduced during fine-tuning are classification layer weights W ∈ ℝᴷˣᴴ, and we
 * compute a standard classification loss with C and W, i.e., log(softmax(CWᵀ))"): the workflow
 * of `tensorgrad train-classifier` and examples/05.
 *
 *   1. split the labelled texts into train and test, stratified by label (trainTestSplit);
 *   2. tokenize each text as `[CLS] text [SEP]`, truncated to maxLength;
 *   3. BertForSequenceClassification: logits = W·tanh(W_p·h_[CLS] + b_p) + b (HF's pooler);
 *      either from random initialisation or from a pre-trained folder (`init`, e.g. written by
 *      `pretrainMlm`): the encoder weights load, the pooler (absent from an MLM checkpoint)
 *      and the classifier are fresh, as HF's `from_pretrained`;
 *   4. minimise the cross-entropy ℓ = −log softmax(z)_y with AdamW (θ ← θ − η∇L − ηλθ, no decay
 *      on biases and LayerNorm weights), linear warmup/decay of η, gradient clipping at 1.0;
 *   5. report on the test set: scikit-learn's classification report, accuracy, macro F1.
 */
import type { BertTrainOptions } from '../train/step.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { tidy } from '../tensor/scope.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { BertConfig, BertForSequenceClassification, type HFBertConfig } from '../nn/bert.js';
import { adamWWithWarmup } from '../train/step.js';
import { trainLoop } from '../train/loop.js';
import { verifyOutputFolder } from '../train/output.js';
import { commitRun, json, openOutput, runRecord } from '../train/run.js';
import { BertTokenizer } from '../data/tokenizer/index.js';
import { DataLoader, padCollate, type SequenceExample } from '../data/dataloader.js';
import { classificationReport, type ClassificationReport } from '../data/metrics/index.js';
import { loadSafetensors, safetensorsBytes } from '../data/safetensors.js';
import { trainTestSplit } from '../data/datasets/text-classification.js';
import type { TextExample } from '../data/formats/errors.js';
import { lineChartSvg } from '../utils/svg.js';
import { buildCompactVocab } from './mlm.js';
import { applyPeft, type PeftOptions } from '../peft/setup.js';

/** Thrown for an unusable `init` folder or inconsistent options. */
export class ClassifierError extends Error {
  override name = 'ClassifierError';
}

/** One encoded text of sequence classification: token ids, attention mask and its class id. */
export interface ClassifierExample extends SequenceExample {
  /** Token ids `[CLS] … [SEP]`, at most maxLength long (unpadded; padCollate pads a batch). */
  inputIds: number[];
  /** 1 per real token, same length as inputIds. */
  attentionMask: number[];
  /** The class id: index of the text's label in the sorted label list. */
  labels: number;
}

/**
 * Tokenizes texts as `[CLS] text [SEP]` (truncated to maxLength) with their label ids.
 * @example
 * ```ts
 * const tok = data.BertTokenizer.bertBaseUncased();
 * const ex = encodeTexts([{ text: 'Hello world', label: 'ham' }], tok, ['ham', 'spam'], 32);
 * ex[0];                                  // { inputIds: [101, 7592, 2088, 102], attentionMask: [1, 1, 1, 1], labels: 0 }
 * ```
 */
export function encodeTexts(examples: readonly TextExample[], tokenizer: BertTokenizer, labels: readonly string[], maxLength: number): ClassifierExample[] {
  const id = new Map(labels.map((l, i) => [l, i]));
  return examples.map((e) => {
    const y = id.get(e.label);
    if (y === undefined) throw new ClassifierError(`label '${e.label}' is not one of ${labels.join(', ')}`);
    const enc = tokenizer.encode(e.text, { maxLength, truncation: true });
    return { inputIds: enc.inputIds, attentionMask: enc.attentionMask, labels: y };
  });
}

/** Scores of a sequence classifier on a split: loss, accuracy, macro-F1 and the full classification report. */
export interface ClassifierEvaluation {
  /** Mean cross-entropy per example over the split. */
  loss: number;
  /** Fraction of examples whose predicted label is the gold one, in [0, 1]. */
  accuracy: number;
  /** Unweighted mean of the per-class F1 scores. */
  macroF1: number;
  /** scikit-learn's classification_report (`toString()` prints its layout). */
  report: ClassificationReport<string>;
  /** The predicted label name of each example, in the input order. */
  predictions: string[];
}

/**
 * Predicts a label per example (batched, shortest first to pad little) and scores them.
 * @example
 * ```ts
 * const ev = evaluateClassifier(model, encodeTexts(test, tokenizer, labels, 128), labels);
 * ev.accuracy; ev.macroF1; ev.report.toString();
 * ```
 */
export function evaluateClassifier(
  model: BertForSequenceClassification,
  examples: readonly ClassifierExample[],
  labels: readonly string[],
  batchSize = 32,
): ClassifierEvaluation {
  const wasTraining = model.training;
  model.eval();
  const order = examples.map((_, i) => i).sort((a, b) => examples[a]!.inputIds.length - examples[b]!.inputIds.length);
  const pred = new Array<number>(examples.length);
  let lossSum = 0;
  noGrad(() => {
    const collate = padCollate({ padTokenId: 0 });
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      // tidy: the batch's activations go back to the allocator now, not when the GC finds them
      const { p, loss } = tidy(() => {
        const batch = collate(idx.map((i) => examples[i]!));
        const out = model.forward({ inputIds: batch.inputIds!, attentionMask: batch.attentionMask!, labels: batch.labels! });
        return { p: Array.from(out.logits.argmax(-1).toTypedArray()), loss: out.loss!.item() }; // p (B)
      });
      lossSum += loss * idx.length;
      idx.forEach((i, b) => (pred[i] = p[b]!));
    }
  });
  model.train(wasTraining);
  const gold = examples.map((e) => labels[e.labels]!);
  const predictions = pred.map((p) => labels[p]!);
  const report = classificationReport(gold, predictions, { labels: [...labels], digits: 4 });
  return { loss: lossSum / Math.max(1, examples.length), accuracy: report.accuracy, macroF1: report.macroAvg.f1, report, predictions };
}

/** What `loadInit` read from a pre-trained folder. */
export interface InitCheckpoint {
  /** The folder's config.json, as read (HF snake_case). */
  config: HFBertConfig;
  /** The weights of model.safetensors, by parameter name. */
  stateDict: Record<string, Tensor>;
  /** The folder's vocab.txt as a tokenizer, when it has one. */
  tokenizer: BertTokenizer | null;
}

/**
 * Reads config.json, model.safetensors and (if present) vocab.txt of a BERT folder.
 * @example
 * ```ts
 * const { config, stateDict, tokenizer } = loadInit('out/mlm'); // config.json, model.safetensors, vocab.txt
 * ```
 */
export function loadInit(dir: string): InitCheckpoint {
  try {
    verifyOutputFolder(dir); // a folder torn by a killed run is refused, not half-loaded
  } catch (e) {
    throw new ClassifierError((e as Error).message);
  }
  for (const f of ['config.json', 'model.safetensors']) {
    if (!existsSync(join(dir, f))) throw new ClassifierError(`${join(dir, f)} is missing (expected a folder with config.json and model.safetensors, e.g. written by pretrain-mlm)`);
  }
  let config: HFBertConfig;
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HFBertConfig;
  } catch (e) {
    throw new ClassifierError(`${join(dir, 'config.json')}: invalid JSON (${(e as Error).message})`);
  }
  const vocab = join(dir, 'vocab.txt');
  return {
    config,
    stateDict: loadSafetensors(join(dir, 'model.safetensors')),
    tokenizer: existsSync(vocab) ? BertTokenizer.fromVocabFile(vocab, { doLowerCase: true, modelMaxLength: 512 }) : null,
  };
}

/**
 * Loads a pre-trained BERT checkpoint into a sequence classifier, as HF's `from_pretrained`
 * does (`loadPretrained`): the encoder (`bert.*`) loads; another task's head in the checkpoint
 * (`cls.*` of an MLM or pre-training model) is not used; a pooler that the checkpoint lacks
 * (BertForMaskedLM has none) and the classifier keep their fresh initialisation.
 * Returns the names of the parameters that were newly initialised.
  * @example
  * ```ts
  * const model = new nn.BertForSequenceClassification(nn.BertConfig.fromJSON({ ...init.config, num_labels: 2 }));
  * loadEncoderWeights(model, init.stateDict); // ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias'] from an MLM checkpoint
  * ```
 */
export function loadEncoderWeights(model: BertForSequenceClassification, sd: Record<string, Tensor>): string[] {
  const src = Object.fromEntries(Object.entries(sd).filter(([k]) => !k.startsWith('classifier.'))); // the head is always fresh
  return model.loadPretrained(src).missingKeys;
}

/** Options of {@link trainClassifier}: the labelled texts (or an explicit split), the tokenizer, sequence length and the BERT training options. */
export interface ClassifierTrainOptions extends BertTrainOptions {
  /** Labelled texts, split into train/test by `testSize` (stratified, seeded). */
  data?: TextExample[];
  /** Or an explicit split. */
  train?: TextExample[];
  /** The test split of an explicit split (give it with `train`; `data` is then not needed). */
  test?: TextExample[];
  /** Fraction (or count) of `data` in the test set (default 0.2). */
  testSize?: number;
  /** Default: the `init` folder's vocab.txt, else a compact vocabulary of the training texts (`compactVocab`), else bert-base-uncased. */
  tokenizer?: BertTokenizer;
  /** Without `init` or `tokenizer`: build a compact vocabulary of the training texts (default true; see buildCompactVocab). */
  compactVocab?: boolean;
  /** A folder with config.json + model.safetensors (+ vocab.txt) to start from, e.g. from pretrainMlm. */
  init?: string;
  /** Parameter-efficient fine-tuning (src/peft): the output folder then holds the adapter and a pointer to the base. */
  peft?: PeftOptions;
  /** Where the data came from, for metrics.json (e.g. 'spam' or a file path). */
  dataSource?: string;
}

/** What {@link trainClassifier} returns: the trained model, tokenizer, label names, history and test scores. */
export interface ClassifierTrainResult {
  /** The fine-tuned classifier (weights after the last step). */
  model: BertForSequenceClassification;
  /** The tokenizer the texts were encoded with (the one to use at inference). */
  tokenizer: BertTokenizer;
  /** Class names, id = index (sorted, as scikit-learn). */
  labels: string[];
  /** Training loss of every step. */
  steps: { step: number; loss: number }[];
  /** Mean training loss of each epoch. */
  history: { epoch: number; trainLoss: number }[];
  /** Scores on the test split. */
  test: ClassifierEvaluation;
  /** Parameters that did not come from `init` (all of them without it). */
  freshParameters: string[];
  /** Number of training texts. */
  numTrain: number;
  /** Number of test texts. */
  numTest: number;
  /** Wall time of the whole call, in seconds. */
  seconds: number;
  /** Paths written into the output folder (model, metrics.json, curves.svg, train log); empty without an output folder. */
  files: string[];
}

/**
 * Fine-tunes a BertForSequenceClassification (random or from `init`) and scores it on the test split.
 * @example
 * ```ts
 * const res = trainClassifier({
 *   data: loadSpamAssassin(), epochs: 3, outDir: 'out/classifier', // or train/test, init: 'out/mlm', peft: { method: 'lora' }, …
 * });
 * res.test.accuracy;                      // on the held-out 20 %: 0.970 in one seeded run of this call
 * console.log(res.test.report.toString()); // scikit-learn's classification_report
 * ```
 */
export function trainClassifier(opts: ClassifierTrainOptions): ClassifierTrainResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 42;
  manualSeed(seed);
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  let train = opts.train, test = opts.test;
  if (!train || !test) {
    if (!opts.data) throw new ClassifierError('trainClassifier: give data (split into train/test) or both train and test');
    ({ train, test } = trainTestSplit(opts.data, { testSize: opts.testSize ?? 0.2, seed, stratify: true }));
  }
  const labels = [...new Set([...train, ...test].map((e) => e.label))].sort();
  if (labels.length < 2) throw new ClassifierError(`need at least two classes, got ${labels.length} (${labels.join(', ')})`);

  const init = opts.init ? loadInit(opts.init) : null;
  const tokenizer = opts.tokenizer ?? init?.tokenizer ?? ((opts.compactVocab ?? true) && !init ? buildCompactVocab(train.map((e) => e.text)).tokenizer : BertTokenizer.bertBaseUncased());
  const id2label = Object.fromEntries(labels.map((l, i) => [i, l]));
  const dropout = opts.dropout;
  let config: BertConfig;
  if (init) {
    config = BertConfig.fromJSON({
      ...init.config, num_labels: labels.length, id2label, problem_type: 'single_label_classification',
      ...(dropout !== undefined ? { hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout } : {}),
    });
  } else {
    const H = opts.hiddenSize ?? 64;
    config = new BertConfig({
      vocabSize: tokenizer.vocabSize, hiddenSize: H, numHiddenLayers: opts.numLayers ?? 2, numAttentionHeads: opts.numHeads ?? 2,
      intermediateSize: opts.intermediateSize ?? 4 * H, maxPositionEmbeddings: opts.maxLength ?? 64,
      hiddenDropoutProb: dropout ?? 0.1, attentionProbsDropoutProb: dropout ?? 0.1, padTokenId: tokenizer.padTokenId,
      numLabels: labels.length, id2label, problemType: 'single_label_classification',
    });
  }
  if (config.vocabSize !== tokenizer.vocabSize) {
    throw new ClassifierError(`the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabSize is ${config.vocabSize}${init ? ` (${opts.init}/config.json)` : ''}; use the vocabulary the model was trained with`);
  }
  let maxLength = opts.maxLength ?? 64;
  if (maxLength > config.maxPositionEmbeddings) {
    log(`maxLength ${maxLength} exceeds the model's ${config.maxPositionEmbeddings} positions; using ${config.maxPositionEmbeddings}`);
    maxLength = config.maxPositionEmbeddings;
  }
  const model = new BertForSequenceClassification(config);
  const freshParameters = init ? loadEncoderWeights(model, init.stateDict) : Object.keys(model.stateDict());
  const modelFiles = () => ({
    'model.safetensors': safetensorsBytes(model.stateDict(), { format: 'pt' }),
    'config.json': json({ ...config.toJSON(), architectures: ['BertForSequenceClassification'] }),
    ...tokenizer.toHFFiles(),
  });
  const baseFiles = opts.peft && !init ? modelFiles() : null; // the random initialisation, base of the adapter
  if (opts.peft) log(applyPeft(model, opts.peft, { head: ['classifier'], taskType: 'SEQ_CLS' }).line);

  const trainEx = encodeTexts(train, tokenizer, labels, maxLength);
  const testEx = encodeTexts(test, tokenizer, labels, maxLength);
  const output = openOutput(opts, model); // checked and locked before training
  try {
    const epochs = opts.epochs ?? 3;
    const batchSize = opts.batchSize ?? 16;
    const accum = opts.gradientAccumulationSteps ?? 1;
    const loader = new DataLoader(trainEx, { batchSize, shuffle: true, collate: padCollate({ padTokenId: tokenizer.padTokenId }) });
    const totalSteps = epochs * Math.ceil(loader.length / accum);
    const hp = {
      lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0.01, warmupRatio: opts.warmupRatio ?? 0.1, epochs, batchSize, maxLength,
      gradientAccumulationSteps: accum, maxGradNorm: opts.maxGradNorm ?? 1.0, init: opts.init ?? null, testSize: opts.testSize ?? 0.2,
      model: config.toJSON(), ...(opts.cliOptions ? { cli: opts.cliOptions } : {}),
    };
    const { optimizer, scheduler } = adamWWithWarmup(model, { lr: hp.lr, weightDecay: hp.weightDecay, warmupRatio: hp.warmupRatio, totalSteps });
    const counts = labels.map((l) => `${train.filter((e) => e.label === l).length} ${l}`).join(', ');
    log(`classifier: ${train.length}/${test.length} texts (train/test; train: ${counts}), ` +
      `BERT ${config.numHiddenLayers}×${config.hiddenSize} (${(model.numParameters() / 1e6).toFixed(2)}M parameters, ` +
      `${init ? `encoder from ${opts.init}` : 'random initialisation'}), vocabulary ${tokenizer.vocabSize.toLocaleString('en-US')}, ${epochs} epochs × ${loader.length} steps`);

    const loop = trainLoop({
      model, optimizer, scheduler, data: loader, epochs, gradientAccumulationSteps: accum, maxGradNorm: hp.maxGradNorm,
      loss: (batch) => ({
        loss: model.forward({ inputIds: batch.inputIds!, attentionMask: batch.attentionMask!, labels: batch.labels! }).loss!,
        tokens: batch.attentionMask!.sum().item(),
      }),
      hyperparameters: hp, ...(output ? { output } : {}), resume: opts.resume ?? false,
      ...(opts.saveEvery !== undefined ? { saveEvery: opts.saveEvery } : {}),
      ...(opts.progress !== undefined ? { progress: opts.progress } : {}), log,
    });
    const steps = loop.steps.map((s) => ({ step: s.step, loss: s.loss }));
    const history = loop.epochs;
    const testEval = evaluateClassifier(model, testEx, labels);
    const seconds = (performance.now() - t0) / 1000;

    const files = output ? commitRun(output, {
      model, peft: opts.peft ?? null, baseDir: opts.init ?? null, baseFiles, modelFiles, step: loop.steps.length,
      files: {
        'metrics.json': json({
          ...runRecord('train-classifier', { seed, hyperparameters: hp, data: { source: opts.dataSource ?? null, numTrain: train.length, numTest: test.length } }, loop, seconds),
          init: opts.init ?? null, numTrain: train.length, numTest: test.length, history,
          test: { loss: testEval.loss, accuracy: testEval.accuracy, macroF1: testEval.macroF1, macro: testEval.report.macroAvg, weighted: testEval.report.weightedAvg, perClass: testEval.report.classes },
        }),
        'curves.svg': lineChartSvg({
          title: 'BERT sentence classification', xLabel: 'step', leftLabel: 'loss', rightLabel: 'learning rate',
          series: [
            { name: 'train loss', values: loop.steps.map((s) => s.loss), color: '#1f77b4', axis: 'left' },
            { name: 'learning rate', values: loop.steps.map((s) => s.lr), color: '#2ca02c', axis: 'right' },
          ],
        }),
      },
    }) : [];
    return { model, tokenizer, labels, steps, history, test: testEval, freshParameters, numTrain: train.length, numTest: test.length, seconds, files };
  } finally {
    output?.release();
  }
}
