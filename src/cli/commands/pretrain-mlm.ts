/** `tensorgrad pretrain-mlm`: masked-language-model pre-training of a small BERT on plain text. */
import type { CommandSpec, ParsedOptions } from '../args.js';
import { trainingRun, bertSizeOptions, checkDropout, checkHeadsDivide, optimOptions, readText, textSource, runOptions, textOptions } from '../options.js';
import { defineCommand, printOutputs, useBackend } from '../util.js';
import { pretrainMlm } from '../../tasks/mlm.js';

export const pretrainMlmSpec: CommandSpec = {
  name: 'pretrain-mlm',
  summary: 'Masked-language-model pre-training of a small BERT on plain text (BERT §3.1: 15% of the tokens chosen;\n' +
    '80% → [MASK], 10% → a random token, 10% unchanged). Writes config.json, model.safetensors and vocab.txt\n' +
    '(a compact WordPiece vocabulary of the text unless --full-vocab), ready for train-classifier --init.',
  options: [
    ...textOptions,
    ...bertSizeOptions({ maxLengthMin: 8, maxLengthHelp: 'tokens per chunk, [CLS] and [SEP] included' }),
    { name: 'full-vocab', type: 'boolean', help: 'use all 30,522 bert-base-uncased tokens (default: only those in the text, plus specials and Latin characters)' },
    { name: 'vocab-size', type: 'int', min: 1, help: 'trim the compact vocabulary to its N most frequent pieces (specials and single characters always kept); vocab_map.json records the bert-base-uncased ids' },
    { name: 'mlm-probability', type: 'number', default: 0.15, min: 0, help: 'fraction of the tokens chosen for prediction in training (BERT: 0.15; Wettig et al. 2023: 0.4 is better); the held-out evaluation always uses 0.15' },
    { name: 'masking', type: 'string', default: 'whole-word', choices: ['whole-word', 'token'], help: 'choose whole words (all their ## pieces at once) or single tokens for prediction' },
    ...optimOptions({
      epochs: { default: 1, help: 'passes over the text' }, lr: 2e-3, batchSize: { default: 16, help: 'chunks per batch' }, weightDecay: 0.01,
      seed: { default: 42, help: 'random seed (initialisation, masking, shuffling)' },
    }),
    { name: 'max-steps', type: 'int', default: 200, min: 1, help: 'stop after this many steps' },
    { name: 'warmup-ratio', type: 'number', default: 0.06, min: 0, help: 'fraction of the steps with a linear learning-rate warmup (then linear decay to 0)' },
    { name: 'eval-interval', type: 'int', min: 1, help: 'measure held-out masked-token accuracy and perplexity every N steps (default: at the start and the end)' },
    { name: 'eval-chunks', type: 'int', default: 64, min: 1, help: 'chunks held out for the evaluation (at most 10% of the text)' },
    { name: 'dropout', type: 'number', default: 0.1, min: 0, help: 'dropout probability' },
    { name: 'save-dtype', type: 'string', default: 'float32', choices: ['float32', 'float16'], help: 'how model.safetensors stores the weights (float16: half the size)' },
    ...runOptions('out/mlm', 'config.json, model.safetensors, vocab.txt and metrics.json'),
  ],
  examples: ['tensorgrad pretrain-mlm', 'tensorgrad pretrain-mlm --text my-book.txt --max-steps 2000 --hidden 128 --layers 4 --heads 4'],
};

export async function runPretrainMlm(o: ParsedOptions, argv: string[] = []): Promise<number> {
  const run = trainingRun(o, argv);
  useBackend(o.backend);
  checkHeadsDivide(o, 'hidden');
  checkDropout(o);
  const text = readText(o);
  const outDir = run.outDir;
  const res = pretrainMlm({
    text, compactVocab: !o.fullVocab, hiddenSize: o.hidden as number, numLayers: o.layers as number, numHeads: o.heads as number,
    maxLength: o.maxLength as number, epochs: o.epochs as number, maxSteps: o.maxSteps as number, lr: o.lr as number,
    batchSize: o.batchSize as number, dropout: o.dropout as number, seed: o.seed as number, ...run, command: `tensorgrad pretrain-mlm`, dataSource: textSource(o),
    weightDecay: o.weightDecay as number, warmupRatio: o.warmupRatio as number, wholeWordMask: o.masking === 'whole-word', mlmProbability: o.mlmProbability as number,
    saveDtype: o.saveDtype as 'float32' | 'float16', evalChunks: o.evalChunks as number,
    ...(o.vocabSize !== undefined ? { vocabMaxSize: o.vocabSize as number } : {}), ...(o.evalInterval !== undefined ? { evalInterval: o.evalInterval as number } : {}),
  });
  const [first, last] = [res.evals[0]!, res.evals[res.evals.length - 1]!];
  console.log(`\nheld-out masked tokens: loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, perplexity ${first.perplexity.toFixed(1)} → ${last.perplexity.toFixed(1)}, ` +
    `accuracy ${(100 * first.accuracy).toFixed(1)}% → ${(100 * last.accuracy).toFixed(1)}%   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  return 0;
}

export const pretrainMlmCommand = defineCommand(pretrainMlmSpec, runPretrainMlm);
