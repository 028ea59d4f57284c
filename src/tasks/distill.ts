/**
 * Knowledge distillation of a fine-tuned BERT into a smaller one (Hinton, Vinyals & Dean 2015,
 * "Distilling the Knowledge in a Neural Network"; the student initialisation of Sanh et al. 2019,
 * "DistilBERT"): the workflow of `tensorgrad distill`.
 *
 *   1. the teacher is a token- or sequence-classification folder (train-ner / train-classifier);
 *      its tokenizer, labels and position count are the student's;
 *   2. the student has fewer layers and/or a smaller hidden size. When its widths (hidden,
 *      intermediate, heads) equal the teacher's it starts as DistilBERT did, "taking one layer out
 *      of two": embeddings, pooler and classifier copied, student layer i ← teacher layer
 *        idx(i) = round(i·(L_t − 1)/(L_s − 1))        (12 → 6: 0, 2, 4, 7, 9, 11; L_s = 1: layer 0)
 *      otherwise from random initialisation;
 *   3. each batch: the teacher's logits z_t (eval mode, no graph), the student's z_s, and
 *        L = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(z_s, y)       (F.distillationLoss)
 *      over the labelled positions (−100 sub-words and padding ignored); the T² keeps the soft
 *      term's gradient on the scale of the hard one's as T grows (Hinton et al. §2);
 *   4. AdamW with warmup, on the one training loop (src/train/loop.ts); NER early-stops on dev F1;
 *   5. reports teacher, student and — with `scratch` — the same student architecture trained from
 *      random initialisation with the cross-entropy alone (same data, seed and steps), which is
 *      what distillation has to beat.
 */
import { noGrad } from '../autograd/engine.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { distillationLoss } from '../nn/functional.js';
import { BertConfig, BertForSequenceClassification, BertForTokenClassification } from '../nn/bert.js';
import { adamWWithWarmup, type BertTrainOptions } from '../train/step.js';
import { trainLoop, type TrainLoopResult } from '../train/loop.js';
import { json, openOutput, runRecord } from '../train/run.js';
import { LabelMap, type ConllSentence } from '../data/conll.js';
import { DataLoader, padCollate, type SequenceExample } from '../data/dataloader.js';
import { safetensorsBytes } from '../data/safetensors.js';
import { trainTestSplit } from '../data/datasets/text-classification.js';
import type { TextExample } from '../data/formats/errors.js';
import { loadModelFolder, type LoadedEncoder } from '../pipelines/load.js';
import { encodeTexts, evaluateClassifier } from './classify.js';
import { encodeNerSentences, evaluateNer } from './ner.js';
import { GradualPruner } from '../compress/prune.js';

/** Thrown for an unusable teacher or inconsistent student options. */
export class DistillError extends Error {
  override name = 'DistillError';
}

/** Options of {@link distill}: the teacher folder, the data (NER splits or labelled texts), the student's size or initialisation, and α, T of the distillation loss. */
export interface DistillOptions extends BertTrainOptions {
  /** The teacher's folder (config.json + model.safetensors + vocab.txt), a token or sequence classifier. */
  teacher: string;
  /** NER (token classification) data: the CoNLL splits. */
  ner?: { train: ConllSentence[]; dev: ConllSentence[]; test: ConllSentence[] };
  /** Sequence classification data: labelled texts split by `testSize` (stratified, seeded), or an explicit split. */
  texts?: { data?: TextExample[]; train?: TextExample[]; test?: TextExample[]; testSize?: number };
  /** Student layers (default: half the teacher's, at least 1). */
  numLayers?: number;
  /** Student hidden size (default: the teacher's); intermediateSize defaults to 4× it, numHeads to the teacher's when it divides. */
  hiddenSize?: number;
  /** 'teacher' (DistilBERT: every other layer; needs equal widths) or 'random'. Default 'teacher' when the widths match. */
  studentInit?: 'teacher' | 'random';
  /** Softmax temperature T of the soft term (default 2). */
  temperature?: number;
  /** Weight α of the soft term; 1 − α on the cross-entropy (default 0.5). */
  alpha?: number;
  /** Also train the same student architecture from scratch with CE only, for the report (default false). */
  scratch?: boolean;
  /** NER early stopping: epochs without dev improvement (default 3). */
  patience?: number;
  /** Where the data came from, for metrics.json. */
  dataSource?: string;
  /**
   * Gradual magnitude pruning of the student's Linear weights while it trains (Zhu & Gupta 2017,
   * compress.GradualPruner): the sparsity rises along the cubic schedule in `events` steps spread
   * over the first `endFraction` of training (default 10 events over 75 %), then the masks stay
   * fixed for the rest. With a student of the teacher's size and α = 0 this is "prune + fine-tune".
   */
  pruning?: { finalSparsity: number; initialSparsity?: number; scope?: 'global' | 'layer'; modules?: string | readonly string[]; events?: number; endFraction?: number };
}

/** Scores of one model on the test set. */
export interface DistillScore {
  /** Entity micro F1 (NER) or macro F1 (classification). */
  f1: number;
  /** Token-tag accuracy (NER) or accuracy (classification). */
  accuracy: number;
  /** Mean cross-entropy on the test set (per labelled token for NER, per example for classification). */
  loss: number;
  /** Number of parameters of the model. */
  parameters: number;
  /** Number of Transformer layers. */
  layers: number;
  /** Hidden width H. */
  hiddenSize: number;
}

/** What {@link distill} returns: the student, its config and initialisation, and the scores of teacher, student and a from-scratch baseline. */
export interface DistillResult {
  /** Which task the teacher does, from its head. */
  task: 'token-classification' | 'text-classification';
  /** The distilled student model. */
  student: BertForTokenClassification | BertForSequenceClassification;
  /** The student's configuration (layers, widths, labels). */
  studentConfig: BertConfig;
  /** How the student started: 'teacher layers [0, 2, …]' or 'random'. */
  init: string;
  /** Indices of the teacher layers the student was initialised from, or null for a random initialisation. */
  teacherLayers: number[] | null;
  /** With `pruning`: the student's per-layer sparsity report (exact zeros of the pruned weights). */
  sparsity: { report: string; total: number } | null;
  /** The distillation run's loss at every optimiser step. */
  steps: { step: number; loss: number }[];
  /** Test scores of the teacher, the student and (with `scratch`) the same architecture trained from scratch (else null). */
  scores: { teacher: DistillScore; student: DistillScore; scratch: DistillScore | null };
  /** Wall time of the whole call, in seconds. */
  seconds: number;
  /** Paths written into the output folder; empty without an output folder. */
  files: string[];
}

/**
 * DistilBERT's layer choice: student layer i ← teacher layer round(i·(L_t − 1)/(L_s − 1)).
 * @example
 * ```ts
 * teacherLayerIndices(12, 6);             // [0, 2, 4, 7, 9, 11]
 * teacherLayerIndices(4, 1);              // [0]
 * ```
 */
export function teacherLayerIndices(teacherLayers: number, studentLayers: number): number[] {
  if (!Number.isInteger(studentLayers) || studentLayers < 1 || studentLayers > teacherLayers) {
    throw new DistillError(`the student needs between 1 and ${teacherLayers} layers (the teacher's count), got ${studentLayers}`);
  }
  if (studentLayers === 1) return [0];
  return Array.from({ length: studentLayers }, (_, i) => Math.round((i * (teacherLayers - 1)) / (studentLayers - 1)));
}

/**
 * The teacher's state dict renamed for a student with fewer layers (layer idx[i] → layer i);
 * the other teacher layers are dropped.
  * @example
  * ```ts
  * const idx = teacherLayerIndices(4, 2);                     // [0, 3]
  * const sd = studentStateFromTeacher(teacher.stateDict(), idx); // encoder.layer.3.* → encoder.layer.1.*; layers 1, 2 dropped
  * student.loadStateDict(sd);
  * ```
 */
export function studentStateFromTeacher(teacherState: Record<string, Tensor>, idx: readonly number[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const map = new Map(idx.map((t, s) => [t, s]));
  for (const [k, v] of Object.entries(teacherState)) {
    const m = /^(bert\.encoder\.layer\.)(\d+)(\..*)$/.exec(k);
    if (!m) { out[k] = v; continue; }
    const s = map.get(Number(m[2]));
    if (s !== undefined) out[`${m[1]}${s}${m[3]}`] = v;
  }
  return out;
}

type Model = BertForTokenClassification | BertForSequenceClassification;
interface Batch { inputIds?: Tensor; attentionMask?: Tensor; labels?: Tensor }

/** The task-specific parts: encoded data, evaluation. */
interface TaskData {
  train: SequenceExample[];
  evaluateTest(m: Model): { f1: number; accuracy: number; loss: number };
  evaluateDev: ((m: Model) => { devLoss: number; devF1: number }) | null;
  sizes: Record<string, number>;
}

function prepare(teacher: LoadedEncoder, o: DistillOptions, maxLength: number, seed: number): TaskData {
  const tok = teacher.tokenizer;
  if (teacher.task === 'token-classification') {
    if (!o.ner) throw new DistillError(`the teacher ${teacher.dir} is a token classifier: give NER data (CoNLL train/dev/test)`);
    const labelMap = LabelMap.fromLabels(teacher.labels);
    const known = new Set(teacher.labels);
    for (const split of ['train', 'dev', 'test'] as const) {
      for (const s of o.ner[split]) {
        for (const t of s.tags) if (!known.has(t)) throw new DistillError(`the ${split} data has the tag '${t}', which the teacher does not know (its labels: ${teacher.labels.join(', ')})`);
      }
    }
    const enc = (s: ConllSentence[]) => encodeNerSentences(s, tok, labelMap, { maxLength });
    const train = enc(o.ner.train), dev = enc(o.ner.dev), test = enc(o.ner.test);
    return {
      train: train.examples,
      evaluateTest: (m) => {
        const ev = evaluateNer(m as BertForTokenClassification, o.ner!.test, test, labelMap);
        return { f1: ev.entities.microAvg.f1, accuracy: ev.tagReport.accuracy, loss: ev.loss };
      },
      evaluateDev: (m) => {
        const ev = evaluateNer(m as BertForTokenClassification, o.ner!.dev, dev, labelMap);
        return { devLoss: ev.loss, devF1: ev.entities.microAvg.f1 };
      },
      sizes: { train: o.ner.train.length, dev: o.ner.dev.length, test: o.ner.test.length },
    };
  }
  if (teacher.task !== 'text-classification') throw new DistillError(`the teacher ${teacher.dir} is a ${teacher.task} model; distill takes a token or sequence classifier`);
  const t = o.texts;
  if (!t) throw new DistillError(`the teacher ${teacher.dir} is a sequence classifier: give labelled texts`);
  let train = t.train, test = t.test;
  if (!train || !test) {
    if (!t.data) throw new DistillError('give texts.data (split into train/test) or both texts.train and texts.test');
    ({ train, test } = trainTestSplit(t.data, { testSize: t.testSize ?? 0.2, seed, stratify: true }));
  }
  const labels = teacher.labels;
  const unknown = [...new Set([...train, ...test].map((e) => e.label))].filter((l) => !labels.includes(l));
  if (unknown.length) throw new DistillError(`the data has the label(s) ${unknown.join(', ')}, which the teacher does not know (its labels: ${labels.join(', ')})`);
  const trainEx = encodeTexts(train, tok, labels, maxLength);
  const testEx = encodeTexts(test, tok, labels, maxLength);
  return {
    train: trainEx,
    evaluateTest: (m) => {
      const ev = evaluateClassifier(m as BertForSequenceClassification, testEx, labels);
      return { f1: ev.macroF1, accuracy: ev.accuracy, loss: ev.loss };
    },
    evaluateDev: null,
    sizes: { train: train.length, test: test.length },
  };
}

/** The student's config: the teacher's, with the student's depth and width. */
function studentConfigOf(tc: BertConfig, o: DistillOptions): BertConfig {
  const L = o.numLayers ?? Math.max(1, Math.floor(tc.numHiddenLayers / 2));
  const H = o.hiddenSize ?? tc.hiddenSize;
  const heads = o.numHeads ?? (H % tc.numAttentionHeads === 0 ? tc.numAttentionHeads : 1);
  if (H % heads !== 0) throw new DistillError(`the student's hidden size ${H} is not divisible by its ${heads} attention heads`);
  const intermediate = o.intermediateSize ?? (H === tc.hiddenSize ? tc.intermediateSize : 4 * H);
  const dropout = o.dropout;
  // a head-pruned teacher (config.pruned_heads): a student of its widths started from its layers keeps
  // the chosen layers' pruned heads; otherwise the student has all its heads
  let pruned: Record<number, number[]> | null = null;
  if (tc.prunedHeads && H === tc.hiddenSize && heads === tc.numAttentionHeads && L <= tc.numHiddenLayers && o.studentInit !== 'random') {
    const idx = teacherLayerIndices(tc.numHiddenLayers, L);
    pruned = Object.fromEntries(idx.map((t, i) => [i, tc.prunedHeads![t] ?? []]).filter(([, v]) => (v as number[]).length > 0));
  }
  return BertConfig.fromJSON({
    ...tc.toJSON(), num_hidden_layers: L, hidden_size: H, num_attention_heads: heads, intermediate_size: intermediate,
    pruned_heads: pruned,
    ...(dropout !== undefined ? { hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout } : {}),
  });
}

function score(m: Model, cfg: BertConfig, ev: { f1: number; accuracy: number; loss: number }): DistillScore {
  return { ...ev, parameters: m.numParameters(), layers: cfg.numHiddenLayers, hiddenSize: cfg.hiddenSize };
}

/**
 * Distils a fine-tuned BERT (token or sequence classifier) into a smaller student; see the file
 * header. Writes the student as an HF folder (config.json, model.safetensors, vocab, metrics.json).
 * @example
 * const res = distill({ teacher: 'out/ner', ner: readConllSplits('data/ner'), numLayers: 1, temperature: 2, alpha: 0.5, outDir: 'out/ner-distilled' });
 * res.scores.student.f1 / res.scores.teacher.f1; // the fraction of the teacher's F1 kept
 */
export function distill(o: DistillOptions): DistillResult {
  const t0 = performance.now();
  const seed = o.seed ?? 42;
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const T = o.temperature ?? 2;
  const alpha = o.alpha ?? 0.5;
  if (!(T > 0 && Number.isFinite(T))) throw new DistillError(`temperature must be a finite number > 0, got ${T}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new DistillError(`alpha must be in [0, 1], got ${alpha}`);
  let teacher: LoadedEncoder;
  try {
    const l = loadModelFolder(o.teacher);
    if (l.kind !== 'encoder') throw new Error(`it is a ${l.task} model; distill takes a token or sequence classifier`);
    teacher = l;
  } catch (e) {
    throw new DistillError(`teacher ${o.teacher}: ${(e as Error).message}`);
  }
  if (teacher.task !== 'token-classification' && teacher.task !== 'text-classification') {
    throw new DistillError(`teacher ${o.teacher}: it is a ${teacher.task} model; distill takes a token or sequence classifier`);
  }
  const tModel = teacher.model as Model;
  tModel.eval();
  const tc = teacher.config;
  let maxLength = o.maxLength ?? 64;
  if (maxLength > tc.maxPositionEmbeddings) maxLength = tc.maxPositionEmbeddings;
  const data = prepare(teacher, o, maxLength, seed);
  const sc = studentConfigOf(tc, o);
  const sameWidth = sc.hiddenSize === tc.hiddenSize && sc.intermediateSize === tc.intermediateSize && sc.numAttentionHeads === tc.numAttentionHeads;
  const initMode = o.studentInit ?? (sameWidth ? 'teacher' : 'random');
  if (initMode === 'teacher' && !sameWidth) {
    throw new DistillError(`studentInit 'teacher' copies teacher layers, which needs the teacher's widths (hidden ${tc.hiddenSize}, intermediate ${tc.intermediateSize}, heads ${tc.numAttentionHeads}); ` +
      `the student has hidden ${sc.hiddenSize}, intermediate ${sc.intermediateSize}, heads ${sc.numAttentionHeads}: use studentInit 'random'`);
  }
  if (sc.numHiddenLayers > tc.numHiddenLayers && initMode === 'teacher') throw new DistillError(`the student (${sc.numHiddenLayers} layers) cannot have more layers than the teacher (${tc.numHiddenLayers}) when initialised from it`);
  const Ctor = teacher.task === 'token-classification' ? BertForTokenClassification : BertForSequenceClassification;
  const arch = teacher.task === 'token-classification' ? 'BertForTokenClassification' : 'BertForSequenceClassification';
  const epochs = o.epochs ?? 3;
  const batchSize = o.batchSize ?? 16;
  const accum = o.gradientAccumulationSteps ?? 1;

  /** Trains one student (distilled, or from scratch with CE only) on the shared loop. */
  const trainStudent = (mode: 'distill' | 'scratch', withOutput: boolean) => {
    manualSeed(seed);
    const model = new Ctor(sc);
    let layers: number[] | null = null;
    if (mode === 'distill' && initMode === 'teacher') {
      layers = teacherLayerIndices(tc.numHiddenLayers, sc.numHiddenLayers);
      model.loadStateDict(studentStateFromTeacher(tModel.stateDict(), layers));
    }
    const a = mode === 'distill' ? alpha : 0;
    const loader = new DataLoader(data.train, { batchSize, shuffle: true, collate: padCollate({ padTokenId: teacher.tokenizer.padTokenId }) });
    const totalSteps = epochs * Math.ceil(loader.length / accum);
    const hp = {
      mode, teacher: o.teacher, temperature: T, alpha: a, init: layers ? `teacher layers ${layers.join(',')}` : 'random',
      lr: o.lr ?? 1e-3, weightDecay: o.weightDecay ?? 0.01, warmupRatio: o.warmupRatio ?? 0.1, epochs, batchSize, maxLength,
      gradientAccumulationSteps: accum, maxGradNorm: o.maxGradNorm ?? 1.0, patience: o.patience ?? 3,
      model: sc.toJSON(), ...(o.cliOptions ? { cli: o.cliOptions } : {}),
    };
    const output = withOutput ? openOutput(o, model) : null;
    try {
      const { optimizer, scheduler } = adamWWithWarmup(model, { lr: hp.lr, weightDecay: hp.weightDecay, warmupRatio: hp.warmupRatio, totalSteps });
      let pruner: GradualPruner | null = null;
      if (mode === 'distill' && o.pruning) {
        const p = o.pruning;
        if (o.resume) throw new DistillError('resume is not supported with pruning (the schedule and masks are not checkpointed); re-run from the start');
        const endFraction = p.endFraction ?? 0.75;
        if (!(endFraction > 0 && endFraction <= 1)) throw new DistillError(`pruning.endFraction must be in (0, 1], got ${endFraction}`);
        const span = Math.max(1, Math.floor(endFraction * totalSteps));
        const n = Math.min(p.events ?? 10, span);
        if (!(Number.isInteger(n) && n >= 1)) throw new DistillError(`pruning.events must be an integer ≥ 1, got ${p.events}`);
        try {
          pruner = new GradualPruner(model, {
            finalSparsity: p.finalSparsity, initialSparsity: p.initialSparsity ?? 0, numSteps: n, every: Math.floor(span / n), startStep: 0,
            ...(p.scope ? { scope: p.scope } : {}), ...(p.modules !== undefined ? { modules: p.modules } : {}),
          });
        } catch (e) {
          throw new DistillError(`pruning: ${(e as Error).message}`);
        }
        pruner.attach(optimizer);
        Object.assign(hp, { pruning: { ...p, events: n, every: Math.floor(span / n) } });
      }
      log(`${mode === 'distill' ? 'distil' : 'from scratch'}: student BERT ${sc.numHiddenLayers}×${sc.hiddenSize} (${(model.numParameters() / 1e6).toFixed(2)}M parameters, ${hp.init}) ` +
        `← teacher ${tc.numHiddenLayers}×${tc.hiddenSize} (${(tModel.numParameters() / 1e6).toFixed(2)}M), ${mode === 'distill' ? `T = ${T}, α = ${a}` : 'CE only'}, ${epochs} epochs × ${loader.length} steps`);
      const loop: TrainLoopResult = trainLoop<Batch>({
        model, optimizer, scheduler, data: loader, epochs, gradientAccumulationSteps: accum, maxGradNorm: hp.maxGradNorm,
        loss: (batch) => {
          const inputs = { inputIds: batch.inputIds!, attentionMask: batch.attentionMask! };
          const zs = model.forward(inputs).logits;
          const zt = a > 0 ? noGrad(() => tModel.forward(inputs).logits) : zs.detach();
          return { loss: distillationLoss(zs, zt, batch.labels!, { temperature: T, alpha: a, ignoreIndex: -100 }), tokens: batch.attentionMask!.sum().item() };
        },
        ...(data.evaluateDev ? {
          evaluate: () => data.evaluateDev!(model),
          // not with pruning: restoring an earlier epoch's weights would undo part of the schedule
          ...(pruner ? {} : { earlyStopping: { metric: 'devF1', mode: 'max' as const, patience: hp.patience } }),
        } : {}),
        hyperparameters: hp, ...(output ? { output } : {}), resume: withOutput ? (o.resume ?? false) : false,
        ...(withOutput && o.saveEvery !== undefined ? { saveEvery: o.saveEvery } : {}),
        ...(o.progress !== undefined ? { progress: o.progress } : {}), log,
      });
      return { model, loop, layers, hp, output, pruner };
    } catch (e) {
      output?.release();
      throw e;
    }
  };

  const teacherScore = score(tModel, tc, data.evaluateTest(tModel));
  const run = trainStudent('distill', o.outDir !== undefined);
  const { model: student, loop, layers, hp, output, pruner } = run;
  pruner?.masks.remove(); // the hooks go; the zeros stay
  const sparsity = pruner ? { report: pruner.masks.formatReport(), total: pruner.masks.report().total.sparsity } : null;
  try {
    const studentScore = score(student, sc, data.evaluateTest(student));
    let scratchScore: DistillScore | null = null;
    if (o.scratch) {
      const s = trainStudent('scratch', false);
      scratchScore = score(s.model, sc, data.evaluateTest(s.model));
    }
    const seconds = (performance.now() - t0) / 1000;
    const scores = { teacher: teacherScore, student: studentScore, scratch: scratchScore };
    const files: string[] = [];
    if (output) {
      const written = output.commit({
        'model.safetensors': safetensorsBytes(student.stateDict(), { format: 'pt' }),
        'config.json': json({ ...sc.toJSON(), architectures: [arch] }),
        ...teacher.tokenizer.toHFFiles(),
        'metrics.json': json({
          ...runRecord('distill', { seed, hyperparameters: hp, data: { source: o.dataSource ?? null, ...data.sizes } }, loop, seconds),
          teacher: o.teacher, scores, ...(sparsity ? { sparsity: pruner!.masks.report() } : {}), fractionOfTeacherF1: teacherScore.f1 > 0 ? studentScore.f1 / teacherScore.f1 : null,
        }),
      }, loop.steps.length);
      files.push(...Object.keys(written.files).map((f) => output.path(f)), output.path('train_log.jsonl'));
    }
    return { task: teacher.task, student, studentConfig: sc, init: hp.init, teacherLayers: layers, sparsity, steps: loop.steps.map((x) => ({ step: x.step, loss: x.loss })), scores, seconds, files };
  } finally {
    output?.release();
  }
}
