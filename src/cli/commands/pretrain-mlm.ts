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
    ...optimOptions({
      epochs: { default: 1, help: 'passes over the text' }, lr: 2e-3, batchSize: { default: 16, help: 'chunks per batch' },
      seed: { default: 42, help: 'random seed (initialisation, masking, shuffling)' },
    }),
    { name: 'max-steps', type: 'int', default: 200, min: 1, help: 'stop after this many steps' },
    { name: 'dropout', type: 'number', default: 0.1, min: 0, help: 'dropout probability' },
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
  });
  const [first, last] = [res.evals[0]!, res.evals[res.evals.length - 1]!];
  console.log(`\nheld-out masked tokens: loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, ` +
    `accuracy ${(100 * first.accuracy).toFixed(1)}% → ${(100 * last.accuracy).toFixed(1)}%   finished in ${res.seconds.toFixed(1)} s`);
  printOutputs(outDir, res.files);
  return 0;
}

export const pretrainMlmCommand = defineCommand(pretrainMlmSpec, runPretrainMlm);
