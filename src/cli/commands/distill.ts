/**
 * `tensorgrad distill`: knowledge distillation of a fine-tuned teacher folder (train-ner or
 * train-classifier) into a smaller student (src/tasks/distill.ts: Hinton et al. 2015 loss,
 * DistilBERT-style initialisation from every other teacher layer when the widths match).
 */
import { extname } from 'node:path';
import { UsageError, type CommandSpec, type OptionSpec, type ParsedOptions } from '../args.js';
import { asUsage, optimOptions, runOptions, trainingRun } from '../options.js';
import { DEFAULT_NER_DATA, defineCommand, printOutputs, requireDir, requireFile, requireModelFolder, useBackend } from '../util.js';
import { readConllSplits } from '../../data/conll.js';
import { loadSpamAssassin, loadTextClassification, type TextExample } from '../../data/index.js';
import { loadModelFolder } from '../../pipelines/load.js';
import { distill, DistillError, type DistillOptions, type DistillScore } from '../../tasks/distill.js';

/** --data and its companions: the teacher task's data (see taskData). */
export const taskDataOptions: OptionSpec[] = [
    { name: 'data', type: 'string', help: "token classifier: a CoNLL folder (default: the shipped data/ner sample); sequence classifier: 'spam' (default) or a .csv/.tsv/.jsonl file" },
    { name: 'text-column', type: 'string', default: 'text', help: 'sequence classifier: column or key of the text' },
    { name: 'label-column', type: 'string', default: 'label', help: 'sequence classifier: column or key of the label' },
    { name: 'max-examples', type: 'int', min: 2, help: "sequence classifier: use at most this many examples (default: 1000 for 'spam', all of a file)" },
    { name: 'test-size', type: 'number', default: 0.2, min: 0, help: 'sequence classifier: fraction (or count) held out for the test report (use the teacher\'s)' },
];

export const distillSpec: CommandSpec = {
  name: 'distill',
  summary: 'Distil a fine-tuned BERT (a train-ner or train-classifier folder) into a smaller student:\n' +
    'loss = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(z_s, y) (Hinton et al. 2015). With the teacher\'s widths\n' +
    'the student starts from every other teacher layer (DistilBERT), else from random weights. Reports teacher vs student\n' +
    '(and, with --scratch, the same student trained from scratch on the labels alone).',
  options: [
    { name: 'teacher', type: 'string', default: 'out/ner', help: 'the teacher folder (config.json + model.safetensors + vocab.txt), a token or sequence classifier' },
    ...taskDataOptions,
    { name: 'layers', type: 'int', min: 1, help: "student layers (default: half the teacher's)" },
    { name: 'hidden', type: 'int', min: 8, help: "student hidden size (default: the teacher's)" },
    { name: 'heads', type: 'int', min: 1, help: "student attention heads (default: the teacher's when they divide --hidden)" },
    { name: 'init', type: 'string', choices: ['teacher', 'random'], help: "student initialisation (default: 'teacher' — every other layer — when the widths match, else 'random')" },
    { name: 'temperature', type: 'number', default: 2, min: 0, help: 'softmax temperature T of the soft targets' },
    { name: 'alpha', type: 'number', default: 0.5, min: 0, help: 'weight α of the distillation term (1 − α on the cross-entropy), in [0, 1]' },
    { name: 'max-length', type: 'int', default: 64, min: 4, help: 'maximum sub-word tokens per sequence' },
    ...optimOptions({
      epochs: { default: 6, help: 'epochs (NER: maximum, early stopping on dev F1)' }, lr: 3e-3, batchSize: { default: 16, help: 'sequences per batch' },
      weightDecay: 0.01, seed: { default: 42, help: 'random seed (the teacher\'s, for the same data split)' },
    }),
    { name: 'patience', type: 'int', default: 3, min: 1, help: 'NER early stopping: epochs without dev improvement' },
    { name: 'dropout', type: 'number', min: 0, help: "student dropout (default: the teacher's)" },
    { name: 'scratch', type: 'boolean', help: 'also train the same student from scratch (CE only, same data and steps) and report it' },
    ...runOptions('out/distilled', 'the student (HF folder), metrics.json'),
  ],
  examples: [
    'tensorgrad train-ner --out out/ner && tensorgrad distill --teacher out/ner --layers 2 --out out/ner-distilled --scratch',
    'tensorgrad distill --teacher out/classifier --data spam --hidden 32 --temperature 4 --alpha 0.9',
  ],
};

const fmt = (name: string, s: DistillScore | null) => s
  ? `${name.padEnd(22)} ${String(s.layers).padStart(6)} ${String(s.hiddenSize).padStart(6)} ${(s.parameters / 1e6).toFixed(3).padStart(9)}M ${s.f1.toFixed(4).padStart(8)} ${s.accuracy.toFixed(4).padStart(9)}`
  : '';

/**
 * The data of a teacher folder's task from --data & co: CoNLL splits for a token classifier, labelled
 * texts for a sequence classifier (also used by `prune --epochs`).
 */
export function taskData(o: ParsedOptions, teacherDir: string, flag: string): { data: Pick<DistillOptions, 'ner' | 'texts'>; source: string } {
  const task = asUsage(flag, () => loadModelFolder(teacherDir).task);
  let data: Pick<DistillOptions, 'ner' | 'texts'>;
  let source: string;
  if (task === 'token-classification') {
    source = o.data ? requireDir('--data', String(o.data)) : DEFAULT_NER_DATA;
    const s = asUsage('--data', () => readConllSplits(source));
    data = { ner: { train: s.train, dev: s.dev, test: s.test } };
  } else if (task === 'text-classification') {
    source = o.data ? String(o.data) : 'spam';
    let texts: TextExample[];
    if (source === 'spam') texts = asUsage('--data spam', () => loadSpamAssassin({ maxExamples: (o.maxExamples as number | undefined) ?? 1000, seed: o.seed as number }));
    else {
      const path = requireFile('--data', source);
      if (!['.csv', '.tsv', '.tab', '.jsonl', '.ndjson'].includes(extname(path).toLowerCase())) throw new UsageError(`--data: ${path}: expected 'spam' or a .csv, .tsv or .jsonl file`);
      texts = asUsage('--data', () => loadTextClassification(path, { textColumn: String(o.textColumn), labelColumn: String(o.labelColumn) }));
      if (o.maxExamples !== undefined) texts = texts.slice(0, o.maxExamples as number);
    }
    data = { texts: { data: texts, testSize: o.testSize as number } };
  } else {
    throw new UsageError(`${flag}: ${teacherDir} is a ${task} model; distill takes a token classifier (train-ner) or a sequence classifier (train-classifier)`);
  }
  return { data, source };
}

/** The teacher/student option problems (DistillError) are the user's: exit 2; anything else is a bug and stays as it is. */
export function distillOrUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DistillError) throw new UsageError(e.message);
    throw e;
  }
}

export async function runDistill(o: ParsedOptions, argv: string[] = []): Promise<number> {
  const run = trainingRun(o, argv);
  useBackend(o.backend);
  const teacherDir = requireModelFolder('--teacher', String(o.teacher), 'train-ner or train-classifier');
  const alpha = o.alpha as number;
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha must be in [0, 1], got ${alpha}`);
  if (!((o.temperature as number) > 0)) throw new UsageError(`--temperature must be > 0, got ${String(o.temperature)}`);
  const { data, source } = taskData(o, teacherDir, '--teacher');
  const res = distillOrUsage(() => distill({
    teacher: teacherDir, ...data, dataSource: source,
    ...(o.layers !== undefined ? { numLayers: o.layers as number } : {}),
    ...(o.hidden !== undefined ? { hiddenSize: o.hidden as number } : {}),
    ...(o.heads !== undefined ? { numHeads: o.heads as number } : {}),
    ...(o.init !== undefined ? { studentInit: o.init as 'teacher' | 'random' } : {}),
    ...(o.dropout !== undefined ? { dropout: o.dropout as number } : {}),
    temperature: o.temperature as number, alpha, maxLength: o.maxLength as number, scratch: Boolean(o.scratch),
    epochs: o.epochs as number, lr: o.lr as number, batchSize: o.batchSize as number, weightDecay: o.weightDecay as number,
    patience: o.patience as number, seed: o.seed as number, ...run, command: 'tensorgrad distill',
  }));
  const metric = res.task === 'token-classification' ? 'entity F1' : 'macro F1';
  console.log(`\nTest set — ${metric} (${res.task === 'token-classification' ? 'tag accuracy' : 'accuracy'}); student initialised from ${res.init}:\n`);
  console.log(`${''.padEnd(22)} ${'layers'.padStart(6)} ${'hidden'.padStart(6)} ${'params'.padStart(10)} ${'F1'.padStart(8)} ${'accuracy'.padStart(9)}`);
  console.log(fmt('teacher', res.scores.teacher));
  console.log(fmt('student (distilled)', res.scores.student));
  if (res.scores.scratch) console.log(fmt('student (from scratch)', res.scores.scratch));
  const t = res.scores.teacher.f1;
  console.log(`\nthe student keeps ${t > 0 ? (100 * res.scores.student.f1 / t).toFixed(1) : 'n/a'} % of the teacher's ${metric} with ${(100 * res.scores.student.parameters / res.scores.teacher.parameters).toFixed(1)} % of its parameters; finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(run.outDir, res.files);
  return 0;
}

export const distillCommand = defineCommand(distillSpec, runDistill);
