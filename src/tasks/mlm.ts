/**
 * Masked-language-model pre-training of a small BERT on plain text (Devlin et al. 2019,
 * "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
 * §3.1 "Task #1: Masked LM" and Appendix A.1): the workflow of `tensorgrad pretrain-mlm` and
 * examples/04.
 *
 *   1. split the text into sentences and pack consecutive sentences into chunks of at most
 *      maxLength − 2 WordPiece tokens, `[CLS] … [SEP]` (a sentence longer than that is cut);
 *   2. in each chunk choose 15% of the (non-special) tokens to predict; of those, 80% become
 *      [MASK], 10% a random token, 10% stay unchanged; labels are −100 everywhere else
 *      (§3.1: "the training data generator chooses 15% of the token positions at random for
 *      prediction … (1) the [MASK] token 80% of the time (2) a random token 10% of the time
 *      (3) the unchanged i-th token 10% of the time");
 *   3. minimise the cross-entropy of the original token at the chosen positions,
 *      ℓ = −(1/M)·Σ_{i masked} log p(x_i | x̃), with AdamW (no decay on biases and LayerNorm),
 *      linear warmup/decay of η and gradient clipping at 1.0.
 *
 * Departures, written down:
 * - No next-sentence prediction and one segment per chunk (RoBERTa's FULL-SENTENCES, Liu et al.
 *   2019 §4.2, which found NSP unnecessary); token type ids are all 0.
 * - Dynamic masking: a new mask every time a chunk is batched (RoBERTa §4.1), from a generator
 *   seeded with `seed`, so runs are reproducible. The number predicted per chunk is
 *   max(1, round(0.15·n)) over its n non-special tokens (the reference rounds over all tokens).
 * - The "random token" is drawn from the non-special tokens (the reference draws from the whole
 *   vocabulary, [CLS] and [MASK] included).
 * - The output layer is applied to the masked positions only (gathered first, as the reference
 *   TensorFlow code's `gather_indexes` in run_pretraining.py): the same loss as HF's
 *   `BertForMaskedLM.forward`, without the (B·T, V) logits of unlabelled positions.
 *
 * A compact vocabulary (`compactVocab`, default on) keeps the embedding and decoder matrices
 * small: the bert-base-uncased WordPiece tokens that occur in the corpus, plus the five special
 * tokens and the single Latin characters (with their `##` forms) as a fallback for unseen
 * words. On the corpus it tokenizes exactly as bert-base-uncased (see `buildCompactVocab`).
 *
 * A saved model is a HuggingFace-style folder: `config.json`, `model.safetensors` (HF BERT
 * names) and `vocab.txt`, which `trainClassifier({ init })` and `BertTokenizer.fromVocabFile`
 * read back.
 */
import type { BertTrainOptions } from '../train/step.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { fromTypedArray } from '../tensor/creation.js';
import { Generator, manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from '../nn/functional.js';
import { BertConfig, BertForMaskedLM } from '../nn/bert.js';
import { adamWWithWarmup } from '../train/step.js';
import { trainLoop } from '../train/loop.js';
import { OutputFolder } from '../train/output.js';
import { json, openOutput, runRecord } from '../train/run.js';
import { BertTokenizer } from '../data/tokenizer/index.js';
import { DataLoader, padCollate } from '../data/dataloader.js';
export { loadMobyDick, type LoadMobyDickOptions } from '../data/datasets/moby-dick.js';
import { safetensorsBytes } from '../data/safetensors.js';
import { lineChartSvg } from '../utils/svg.js';

/** The probability that a token is chosen for prediction (§3.1). */
export const MLM_PROBABILITY = 0.15;
/** Of the chosen tokens: 80% → [MASK], 10% → a random token, 10% unchanged (§3.1). */
const MASK_FRACTION = 0.8;
const RANDOM_FRACTION = 0.1;
/** Single characters up to U+024F (Basic Latin … Latin Extended-B) are kept in a compact vocabulary. */
const LAST_LATIN_CODE_POINT = 0x24f;

// ───────────────────────────── corpus ─────────────────────────────

/**
 * Splits text into sentences: paragraphs at blank lines, then after `.`, `!` or `?` (and any
 * closing quotes or brackets) followed by white space and an upper-case letter or an opening
 * quote. A heuristic, good enough for packing chunks; abbreviations ("Mr. Starbuck") split.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const p = para.replace(/\s+/g, ' ').trim();
    if (!p) continue;
    for (const s of p.split(/(?<=[.!?]["'’”)\]]*)\s+(?=["'‘“(]?[A-Z])/)) if (s.trim()) out.push(s.trim());
  }
  return out;
}

/**
 * Tokenizes `text` and packs consecutive sentences into chunks of at most maxLength − 2
 * WordPiece ids, each returned as `[CLS] … [SEP]`. A sentence that does not fit the current
 * chunk starts the next one; a sentence longer than a whole chunk is cut into pieces.
 */
export function chunkText(text: string, tokenizer: BertTokenizer, maxLength: number): number[][] {
  if (!Number.isInteger(maxLength) || maxLength < 3) throw new Error(`chunkText: maxLength must be an integer ≥ 3, got ${maxLength}`);
  const budget = maxLength - 2;
  const chunks: number[][] = [];
  let cur: number[] = [];
  for (const s of splitSentences(text)) {
    let ids = tokenizer.encode(s, { addSpecialTokens: false }).inputIds;
    if (cur.length && cur.length + ids.length > budget) {
      chunks.push(cur);
      cur = [];
    }
    while (ids.length > budget) {
      chunks.push(ids.slice(0, budget));
      ids = ids.slice(budget);
    }
    cur.push(...ids);
  }
  if (cur.length) chunks.push(cur);
  return chunks.map((c) => [tokenizer.clsTokenId, ...c, tokenizer.sepTokenId]);
}

/** The result of {@link buildCompactVocab}. */
export interface CompactVocab {
  /** The vocabulary, id = index: [PAD] [UNK] [CLS] [SEP] [MASK], then the kept tokens in bert-base-uncased order. */
  tokens: string[];
  tokenizer: BertTokenizer;
}

/**
 * A compact WordPiece vocabulary for a corpus: the tokens of `base` (default bert-base-uncased,
 * 30,522 entries) that occur when tokenizing `texts`, plus the special tokens (first, so that
 * [PAD] = 0) and, with `keepCharacters` (default true), every single Latin character of the base
 * vocabulary with its `##` form, so that a word outside the corpus still splits into pieces
 * rather than [UNK]. Moby-Dick needs about 13,000 tokens.
 *
 * On the corpus the compact tokenizer gives the same tokens as `base`: WordPiece is greedy
 * longest-match-first, and every piece the base tokenizer picked is kept, while any longer match
 * in the compact vocabulary would have been a longer match in the base one too. Elsewhere it may
 * split words differently (or into [UNK]).
 *
 * @example
 * const { tokens, tokenizer } = buildCompactVocab(loadMobyDick({ chapters: 3 }));
 * tokenizer.vocabSize; // a few thousand instead of 30,522
 */
export function buildCompactVocab(texts: string | readonly string[], opts: { base?: BertTokenizer; keepCharacters?: boolean } = {}): CompactVocab {
  const base = opts.base ?? BertTokenizer.bertBaseUncased();
  const all = base.convertIdsToTokens(Array.from({ length: base.vocabSize }, (_, i) => i));
  const keep = new Set<number>();
  for (const t of typeof texts === 'string' ? [texts] : texts) {
    for (const s of splitSentences(t)) for (const id of base.encode(s, { addSpecialTokens: false }).inputIds) keep.add(id);
  }
  if (opts.keepCharacters ?? true) {
    all.forEach((tok, id) => {
      const piece = tok.startsWith('##') ? tok.slice(2) : tok;
      const cps = [...piece];
      if (cps.length === 1 && cps[0]!.codePointAt(0)! <= LAST_LATIN_CODE_POINT) keep.add(id);
    });
  }
  const specials = [base.padTokenId, base.unkTokenId, base.clsTokenId, base.sepTokenId, base.maskTokenId];
  for (const s of specials) keep.delete(s);
  const tokens = [...specials, ...[...keep].sort((a, b) => a - b)].map((id) => all[id]!);
  return { tokens, tokenizer: BertTokenizer.fromVocab(tokens, { doLowerCase: true, modelMaxLength: 512 }) };
}

// ───────────────────────────── masking ─────────────────────────────

export interface MaskingOptions {
  maskTokenId: number;
  /** Ids never chosen for prediction ([CLS], [SEP], [PAD], …). */
  specialIds: ReadonlySet<number>;
  /** Number of ids; random replacements are drawn from [0, vocabSize) minus `specialIds`. */
  vocabSize: number;
  /** Fraction chosen for prediction (default 0.15). */
  mlmProbability?: number;
  rng: Generator;
}

/**
 * BERT's masking of one sequence (§3.1): choose max(1, round(p·n)) of its n non-special
 * positions; replace 80% of them by [MASK], 10% by a random non-special token, keep 10%.
 * labels[i] is the original id at a chosen position and −100 elsewhere.
 *
 * @example
 * maskTokens([101, 7592, 2088, 102], { maskTokenId: 103, specialIds: new Set([0, 100, 101, 102, 103]), vocabSize: 30522, rng: new Generator(0) });
 * // { inputIds: [101, 103, 2088, 102], labels: [-100, 7592, -100, -100] } (for example)
 */
export function maskTokens(ids: readonly number[], opts: MaskingOptions): { inputIds: number[]; labels: number[] } {
  const p = opts.mlmProbability ?? MLM_PROBABILITY;
  if (!(p > 0 && p <= 1)) throw new Error(`maskTokens: mlmProbability must be in (0, 1], got ${p}`);
  const inputIds = [...ids];
  const labels = new Array<number>(ids.length).fill(-100);
  const candidates: number[] = [];
  ids.forEach((id, i) => {
    if (!opts.specialIds.has(id)) candidates.push(i);
  });
  if (candidates.length === 0) return { inputIds, labels };
  const n = Math.min(candidates.length, Math.max(1, Math.round(candidates.length * p)));
  const order = opts.rng.permutation(candidates.length);
  for (let j = 0; j < n; j++) {
    const i = candidates[order[j]!]!;
    labels[i] = ids[i]!;
    const r = opts.rng.random();
    if (r < MASK_FRACTION) inputIds[i] = opts.maskTokenId;
    else if (r < MASK_FRACTION + RANDOM_FRACTION) {
      let t: number;
      do t = opts.rng.randint(0, opts.vocabSize);
      while (opts.specialIds.has(t));
      inputIds[i] = t;
    } // else: unchanged
  }
  return { inputIds, labels };
}

/** A padded batch: inputIds, attentionMask and labels, (B, T) int32 each. */
export interface MlmBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
  labels: Tensor;
}

/**
 * The masked-LM loss computed on the labelled positions only: the hidden states of the M
 * positions whose label is not −100 are gathered before the prediction head, so the decoder
 * runs on (M, H) instead of (B·T, H). Equal to `model.forward({ …, labels }).loss`.
 * Returns the loss, the number of predicted tokens M and how many the argmax got right.
 */
export function mlmLoss(model: BertForMaskedLM, batch: MlmBatch): { loss: Tensor; count: number; correct: number } {
  const { lastHiddenState } = model.bert.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask }); // (B, T, H)
  const H = model.config.hiddenSize;
  const lab = batch.labels.toTypedArray();
  const pos: number[] = [];
  const target: number[] = [];
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] !== -100) {
      pos.push(i);
      target.push(lab[i]!);
    }
  }
  if (pos.length === 0) throw new Error('mlmLoss: the batch has no masked position (every label is -100)');
  const hidden = lastHiddenState.reshape([-1, H]).indexSelect(0, fromTypedArray(Int32Array.from(pos), [pos.length], { dtype: 'int32' })); // (M, H)
  const logits = model.cls.predictions.forward(hidden); // (M, V)
  const y = fromTypedArray(Int32Array.from(target), [target.length], { dtype: 'int32' }); // (M)
  const loss = F.crossEntropy(logits, y);
  const pred = logits.argmax(-1).toTypedArray();
  let correct = 0;
  for (let i = 0; i < target.length; i++) if (pred[i] === target[i]) correct++;
  return { loss, count: target.length, correct };
}

// ───────────────────────────── training ─────────────────────────────

export interface MlmTrainOptions extends BertTrainOptions {
  text: string;
  /** Where the text came from, for metrics.json (a file path, or the dataset package). */
  dataSource?: string;
  /** The tokenizer; default: a compact vocabulary of the text (`compactVocab`) or bert-base-uncased. */
  tokenizer?: BertTokenizer;
  /** Build a compact vocabulary from the text (default true; ignored when `tokenizer` is given). */
  compactVocab?: boolean;
  /** Stop after this many steps (default: epochs × batches per epoch). */
  maxSteps?: number;
  mlmProbability?: number;
  /** Chunks held out to measure the masked-token loss and accuracy (default 64, at most 10%). */
  evalChunks?: number;
  /** Measure the held-out loss every this many steps (default: at the start and the end only). */
  evalInterval?: number;
}

export interface MlmEvaluation {
  step: number;
  /** Mean cross-entropy over the held-out masked tokens. */
  loss: number;
  /** Fraction of held-out masked tokens predicted exactly. */
  accuracy: number;
}

export interface MlmTrainResult {
  model: BertForMaskedLM;
  tokenizer: BertTokenizer;
  config: BertConfig;
  /** Training loss of every step. */
  history: { step: number; loss: number }[];
  /** Held-out evaluations (step 0 is before training). */
  evals: MlmEvaluation[];
  numChunks: number;
  seconds: number;
  files: string[];
}

interface ChunkExample {
  [k: string]: number[];
  inputIds: number[];
}

/** Held-out masked-token loss and accuracy, with a fixed masking so that runs compare. */
function evaluateMlm(model: BertForMaskedLM, batches: MlmBatch[], step: number): MlmEvaluation {
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0, count = 0, correct = 0;
  noGrad(() => {
    for (const b of batches) {
      const r = mlmLoss(model, b);
      lossSum += r.loss.item() * r.count;
      count += r.count;
      correct += r.correct;
    }
  });
  model.train(wasTraining);
  return { step, loss: lossSum / Math.max(1, count), accuracy: correct / Math.max(1, count) };
}

/** Pre-trains a small BertForMaskedLM on `text` (seeded: the same options give the same model). */
export function pretrainMlm(opts: MlmTrainOptions): MlmTrainResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 42;
  manualSeed(seed);
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const tokenizer = opts.tokenizer ?? ((opts.compactVocab ?? true) ? buildCompactVocab(opts.text).tokenizer : BertTokenizer.bertBaseUncased());
  const maxLength = opts.maxLength ?? 64;
  const specialIds = new Set([tokenizer.padTokenId, tokenizer.unkTokenId, tokenizer.clsTokenId, tokenizer.sepTokenId, tokenizer.maskTokenId]);
  const chunks = chunkText(opts.text, tokenizer, maxLength).filter((c) => c.some((id) => !specialIds.has(id))); // something to predict
  if (chunks.length < 2) throw new Error(`pretrainMlm: the text gives ${chunks.length} chunk(s) of ${maxLength} tokens; it needs at least 2`);

  const masking = (rng: Generator): Omit<MaskingOptions, 'rng'> & { rng: Generator } => ({
    maskTokenId: tokenizer.maskTokenId, specialIds, vocabSize: tokenizer.vocabSize, mlmProbability: opts.mlmProbability, rng,
  });
  // the held-out chunks are spread over the text (every k-th), masked once with their own seed
  const nEval = Math.min(opts.evalChunks ?? 64, Math.max(1, Math.floor(chunks.length / 10)));
  const every = Math.floor(chunks.length / nEval);
  const isEval = (i: number) => i % every === every - 1 && Math.floor(i / every) < nEval;
  const trainChunks = chunks.filter((_, i) => !isEval(i));
  const evalChunks = chunks.filter((_, i) => isEval(i));
  const collate = padCollate({ padTokenId: tokenizer.padTokenId });
  const toBatch = (items: { inputIds: number[]; labels: number[] }[]) => {
    const b = collate(items.map((m) => ({ inputIds: m.inputIds, attentionMask: m.inputIds.map(() => 1), labels: m.labels })));
    return { inputIds: b.inputIds!, attentionMask: b.attentionMask!, labels: b.labels! };
  };
  const batchSize = opts.batchSize ?? 16;
  const evalRng = new Generator(`${seed}-eval`);
  const evalBatches: MlmBatch[] = [];
  for (let s = 0; s < evalChunks.length; s += batchSize) {
    evalBatches.push(toBatch(evalChunks.slice(s, s + batchSize).map((c) => maskTokens(c, masking(evalRng)))));
  }

  const H = opts.hiddenSize ?? 64;
  const config = new BertConfig({
    vocabSize: tokenizer.vocabSize, hiddenSize: H, numHiddenLayers: opts.numLayers ?? 2, numAttentionHeads: opts.numHeads ?? 2,
    intermediateSize: opts.intermediateSize ?? 4 * H, maxPositionEmbeddings: maxLength,
    hiddenDropoutProb: opts.dropout ?? 0.1, attentionProbsDropoutProb: opts.dropout ?? 0.1, padTokenId: tokenizer.padTokenId,
  });
  const model = new BertForMaskedLM(config);
  const maskRng = new Generator(`${seed}-mask`);
  const loader = new DataLoader<ChunkExample, MlmBatch>(trainChunks.map((c) => ({ inputIds: c })), {
    batchSize, shuffle: true, collate: (items) => toBatch(items.map((it) => maskTokens(it.inputIds, masking(maskRng)))),
  });
  const output = openOutput(opts, model); // checked and locked before training
  try {
    const epochs = opts.epochs ?? 1;
    const accum = opts.gradientAccumulationSteps ?? 1;
    const totalSteps = Math.min(epochs * Math.ceil(loader.length / accum), opts.maxSteps ?? Infinity);
    const hp = {
      lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0.01, warmupRatio: opts.warmupRatio ?? 0.06, epochs, batchSize, maxLength,
      maxSteps: totalSteps, gradientAccumulationSteps: accum, maxGradNorm: opts.maxGradNorm ?? 1.0, mlmProbability: opts.mlmProbability ?? MLM_PROBABILITY,
      evalChunks: evalChunks.length, evalInterval: opts.evalInterval ?? null, model: config.toJSON(), ...(opts.cliOptions ? { cli: opts.cliOptions } : {}),
    };
    const { optimizer, scheduler } = adamWWithWarmup(model, { lr: hp.lr, weightDecay: hp.weightDecay, warmupRatio: hp.warmupRatio, totalSteps });
    log(`MLM: ${opts.text.length.toLocaleString('en-US')} characters → ${chunks.length} chunks of ≤ ${maxLength} tokens (${evalChunks.length} held out), ` +
      `vocabulary ${tokenizer.vocabSize.toLocaleString('en-US')}, BERT ${config.numHiddenLayers}×${H} (${(model.numParameters() / 1e6).toFixed(2)}M parameters), ${totalSteps} steps × ${batchSize}`);

    const loop = trainLoop({
      model, optimizer, scheduler, data: loader, epochs, maxSteps: totalSteps, gradientAccumulationSteps: accum, maxGradNorm: hp.maxGradNorm,
      loss: (batch) => ({ loss: mlmLoss(model, batch).loss, tokens: batch.attentionMask.sum().item() }),
      evaluate: ({ step }) => {
        const e = evaluateMlm(model, evalBatches, step);
        return { loss: e.loss, accuracy: e.accuracy };
      },
      evalEvery: opts.evalInterval ?? Infinity, evalAtStart: true,
      describeEval: (e) => `step ${e.step}: held-out masked-token loss ${e.metrics.loss!.toFixed(4)}, accuracy ${(100 * e.metrics.accuracy!).toFixed(1)}%`,
      generators: { mask: maskRng }, hyperparameters: hp, ...(output ? { output } : {}), resume: opts.resume ?? false,
      ...(opts.saveEvery !== undefined ? { saveEvery: opts.saveEvery } : {}),
      ...(opts.progress !== undefined ? { progress: opts.progress } : {}), log,
    });
    model.eval();
    const history = loop.steps.map((s) => ({ step: s.step, loss: s.loss }));
    const evals: MlmEvaluation[] = loop.evals.map((e) => ({ step: e.step, loss: e.metrics.loss!, accuracy: e.metrics.accuracy! }));
    const seconds = (performance.now() - t0) / 1000;
    const files = output
      ? saveMlm(output, model, tokenizer, {
        ...runRecord('pretrain-mlm', { seed, hyperparameters: hp, data: { source: opts.dataSource ?? null, characters: opts.text.length, chunks: chunks.length, heldOut: evalChunks.length } }, loop, seconds),
        history, evals,
      }, loop.steps.length)
      : [];
    return { model, tokenizer, config, history, evals, numChunks: chunks.length, seconds, files };
  } finally {
    output?.release();
  }
}

/**
 * Writes a HuggingFace-style folder, atomically (train/output.ts): config.json, model.safetensors,
 * vocab.txt + tokenizer_config.json (+ metrics.json and curves.svg). `dir` is a path (checked and
 * locked here) or the OutputFolder of a running training.
 */
export function saveMlm(dir: string | OutputFolder, model: BertForMaskedLM, tokenizer: BertTokenizer, metrics?: Record<string, unknown>, step = 0): string[] {
  const out = typeof dir === 'string' ? OutputFolder.open(dir, { command: 'saveMlm' }) : dir;
  try {
    const files: Record<string, string | Uint8Array> = {
      'model.safetensors': safetensorsBytes(model.stateDict(), { format: 'pt' }),
      'config.json': json({ ...model.config.toJSON(), architectures: ['BertForMaskedLM'] }),
      ...tokenizer.toHFFiles(),
    };
    if (metrics) {
      files['metrics.json'] = json(metrics);
      const h = (metrics.history ?? []) as { loss: number }[];
      if (h.length) {
        files['curves.svg'] = lineChartSvg({
          title: 'masked-LM pre-training', xLabel: 'step', leftLabel: 'loss',
          series: [{ name: 'train loss', values: h.map((x) => x.loss), color: '#1f77b4', axis: 'left' }],
        });
      }
    }
    const written = out.commit(files, step);
    return Object.keys(written.files).map((f) => out.path(f));
  } finally {
    if (typeof dir === 'string') out.release();
  }
}

/** True when `dir` holds a model folder (config.json + model.safetensors). */
export function isModelFolder(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'model.safetensors'));
}
