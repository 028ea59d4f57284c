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
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { tidy } from '../tensor/scope.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { BertConfig, BertForTokenClassification } from '../nn/bert.js';
import { EarlyStopping } from '../optim/index.js';
import { adamWWithWarmup, optimizerStep } from '../train/step.js';
import { alignLabels, LabelMap, type ConllSentence } from '../data/conll.js';
import type { BertTokenizer } from '../data/tokenizer.js';
import { DataLoader, padCollate, type SequenceExample } from '../data/dataloader.js';
import { classificationReport, entityReport, type ClassificationReport, type EntityReport } from '../data/metrics.js';
import { saveSafetensors } from '../data/safetensors.js';
import { ProgressBar } from '../utils/progress.js';
import { lineChartSvg } from '../utils/svg.js';

export interface NerExample extends SequenceExample {
  inputIds: number[];
  attentionMask: number[];
  labels: number[];
}

/** Tokenizes sentences and aligns word tags to sub-words (first sub-word labelled). */
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

export interface NerEvaluation {
  loss: number;
  /** Word-level tag report (sklearn layout). */
  tagReport: ClassificationReport<string>;
  /** Entity-level report (seqeval layout). */
  entities: EntityReport;
  predictions: string[][];
}

/** Predicts word tags (at each word's first sub-word) and scores them against the gold tags. */
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
      const batch = collate(encoded.examples.slice(s, s + batchSize));
      const out = model.forward({ inputIds: batch.inputIds!, attentionMask: batch.attentionMask!, labels: batch.labels! });
      const n = batch.labels!.ne(-100).sum().item();
      lossSum += out.loss!.item() * n;
      lossCount += n;
      const pred = out.logits.argmax(-1).toArray() as number[][]; // (B, T)
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

export interface NerTrainOptions extends BertTrainOptions {
  train: ConllSentence[];
  dev: ConllSentence[];
  test: ConllSentence[];
  tokenizer: BertTokenizer;
  patience?: number;
}

export interface NerTrainResult {
  model: BertForTokenClassification;
  labelMap: LabelMap;
  history: { epoch: number; trainLoss: number; devLoss: number; devF1: number }[];
  bestEpoch: number;
  test: NerEvaluation;
  seconds: number;
  files: string[];
}

/** Fine-tunes a (small, randomly initialised or given) BERT for NER end to end. */
export function trainNer(opts: NerTrainOptions): NerTrainResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 42;
  manualSeed(seed);
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const labelMap = LabelMap.fromSentences([...opts.train, ...opts.dev, ...opts.test]);
  const maxLength = opts.maxLength ?? 64;
  const enc = (s: ConllSentence[]) => encodeNerSentences(s, opts.tokenizer, labelMap, { maxLength });
  const train = enc(opts.train), dev = enc(opts.dev), test = enc(opts.test);

  const config = new BertConfig({
    vocabSize: opts.tokenizer.vocabSize,
    hiddenSize: opts.hiddenSize ?? 128,
    numHiddenLayers: opts.numLayers ?? 2,
    numAttentionHeads: opts.numHeads ?? 2,
    intermediateSize: opts.intermediateSize ?? 4 * (opts.hiddenSize ?? 128),
    maxPositionEmbeddings: maxLength,
    hiddenDropoutProb: opts.dropout ?? 0.1,
    attentionProbsDropoutProb: opts.dropout ?? 0.1,
    numLabels: labelMap.labels.length,
    id2label: Object.fromEntries(labelMap.labels.map((l, i) => [i, l])),
  });
  const model = new BertForTokenClassification(config);
  const epochs = opts.epochs ?? 10;
  const batchSize = opts.batchSize ?? 16;
  const loader = new DataLoader(train.examples, { batchSize, shuffle: true, collate: padCollate({ padTokenId: opts.tokenizer.padTokenId }) });
  const totalSteps = epochs * loader.length;
  const { optimizer, scheduler } = adamWWithWarmup(model, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0.01, warmupRatio: opts.warmupRatio ?? 0.1, totalSteps });
  const stopper = new EarlyStopping({ patience: opts.patience ?? 3, mode: 'max' });
  const progress = opts.progress === undefined ? new ProgressBar({ totalSteps, epochs }) : opts.progress;
  log(`NER: ${opts.train.length}/${opts.dev.length}/${opts.test.length} sentences (train/dev/test), ${labelMap.labels.length} tags, ` +
    `BERT ${config.numHiddenLayers}×${config.hiddenSize} (${(model.numParameters() / 1e6).toFixed(2)}M parameters), ${epochs} epochs × ${loader.length} steps`);

  const history: NerTrainResult['history'] = [];
  let best: Record<string, Tensor> | null = null;
  let bestEpoch = 0;
  model.train();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let lossSum = 0;
    let step = 0;
    for (const batch of loader) {
      // tidy: the step's activations and temporaries go back to the buffer pool at once
      const loss = tidy(() => {
        const out = model.forward({ inputIds: batch.inputIds!, attentionMask: batch.attentionMask!, labels: batch.labels! });
        return optimizerStep(out.loss!, { model, optimizer, scheduler, maxGradNorm: opts.maxGradNorm ?? 1.0 });
      });
      lossSum += loss;
      step++;
      progress?.update({ epoch, stepInEpoch: step, stepsInEpoch: loader.length, loss, tokens: batch.attentionMask!.sum().item() });
    }
    const ev = evaluateNer(model, opts.dev, dev, labelMap);
    const devF1 = ev.entities.microAvg.f1;
    history.push({ epoch, trainLoss: lossSum / Math.max(1, step), devLoss: ev.loss, devF1 });
    log(`epoch ${epoch}: train loss ${(lossSum / step).toFixed(4)}, dev loss ${ev.loss.toFixed(4)}, dev entity F1 ${devF1.toFixed(4)}`);
    if (best === null || devF1 > (history[bestEpoch - 1]?.devF1 ?? -1)) {
      best = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
      bestEpoch = epoch;
    }
    if (stopper.step(devF1)) {
      log(`early stopping: dev F1 has not improved for ${opts.patience ?? 3} epochs (best ${stopper.bestValue?.toFixed(4)} at epoch ${bestEpoch})`);
      break;
    }
  }
  if (best) model.loadStateDict(best);
  const testEval = evaluateNer(model, opts.test, test, labelMap);
  const seconds = (performance.now() - t0) / 1000;

  const files: string[] = [];
  if (opts.outDir) {
    mkdirSync(opts.outDir, { recursive: true });
    const f = (n: string) => join(opts.outDir!, n);
    saveSafetensors(model.stateDict(), f('model.safetensors'));
    writeFileSync(f('config.json'), JSON.stringify({ ...config.toJSON(), architectures: ['BertForTokenClassification'] }, null, 2));
    writeFileSync(f('metrics.json'), JSON.stringify({
      seed, bestEpoch, seconds, history,
      test: {
        loss: testEval.loss,
        entity: { micro: testEval.entities.microAvg, macro: testEval.entities.macroAvg, weighted: testEval.entities.weightedAvg, perType: testEval.entities.classes },
        tags: { accuracy: testEval.tagReport.accuracy, macro: testEval.tagReport.macroAvg, weighted: testEval.tagReport.weightedAvg, perTag: testEval.tagReport.classes },
      },
    }, null, 2));
    writeFileSync(f('curves.svg'), lineChartSvg({
      title: 'BERT NER fine-tuning', xLabel: 'epoch', leftLabel: 'loss', rightLabel: 'entity F1',
      series: [
        { name: 'train loss', values: history.map((h) => h.trainLoss), color: '#1f77b4', axis: 'left' },
        { name: 'dev loss', values: history.map((h) => h.devLoss), color: '#aec7e8', axis: 'left' },
        { name: 'dev entity F1', values: history.map((h) => h.devF1), color: '#d62728', axis: 'right' },
      ],
    }));
    files.push(f('model.safetensors'), f('config.json'), f('metrics.json'), f('curves.svg'));
  }
  return { model, labelMap, history, bestEpoch, test: testEval, seconds, files };
}
