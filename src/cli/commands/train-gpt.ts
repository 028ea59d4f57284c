/** `tensorgrad train-gpt`: a character-level GPT (nanoGPT's shakespeare_char recipe) on plain text. */
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { checkDropout, checkHeadsDivide, optimOptions, peftFromOptions, peftOptions, readText, textSource, runOptions, textOptions, trainingRun } from '../options.js';
import { defineCommand, printOutputs, useBackend } from '../util.js';
import { trainCharGPT } from '../../tasks/gpt-char.js';

const withPeft = (o: ParsedOptions) => {
  const peft = peftFromOptions(o);
  return peft ? { peft } : {};
};

export const trainGptSpec: CommandSpec = {
  name: 'train-gpt',
  summary: 'Train a character-level GPT (nanoGPT shakespeare_char recipe) on plain text and print a sample.\n' +
    'Writes config.json (with the character vocabulary) and model.safetensors; sample more with `generate --model <out>`.',
  options: [
    ...textOptions,
    { name: 'block-size', type: 'int', default: 64, min: 2, help: 'context length in characters' },
    { name: 'layers', type: 'int', default: 2, min: 1, help: 'Transformer blocks' },
    { name: 'heads', type: 'int', default: 4, min: 1, help: 'attention heads (must divide --embd)' },
    { name: 'embd', type: 'int', default: 64, min: 4, help: 'embedding width' },
    { name: 'dropout', type: 'number', default: 0, min: 0, help: 'dropout probability' },
    { name: 'steps', type: 'int', default: 300, min: 1, help: 'optimisation steps' },
    ...optimOptions({ lr: 6e-3, batchSize: { default: 16, help: 'windows per batch' }, seed: { default: 1337, help: 'random seed' } }),
    { name: 'sample', type: 'int', default: 200, min: 0, help: 'characters to sample after training (0: none)' },
    ...peftOptions,
    ...runOptions('out/gpt-char', 'config.json and model.safetensors'),
  ],
  examples: ['tensorgrad train-gpt', 'tensorgrad train-gpt --text shakespeare.txt --steps 2000 --layers 4 --embd 128 --out out/shakespeare'],
};

export async function runTrainGpt(o: ParsedOptions, argv: string[] = []): Promise<number> {
  const run = trainingRun(o, argv);
  useBackend(o.backend);
  checkHeadsDivide(o, 'embd');
  checkDropout(o);
  const text = readText(o);
  if ([...text].length < (o.blockSize as number) + 2) throw new UsageError(`--text: the text has fewer characters than --block-size + 2 (${(o.blockSize as number) + 2})`);
  const outDir = run.outDir;
  const res = trainCharGPT({
    text, blockSize: o.blockSize as number, nLayer: o.layers as number, nHead: o.heads as number, nEmbd: o.embd as number,
    dropout: o.dropout as number, maxSteps: o.steps as number, batchSize: o.batchSize as number, lr: o.lr as number,
    seed: o.seed as number, ...run, command: `tensorgrad train-gpt`, dataSource: textSource(o), ...withPeft(o),
  });
  const [first, last] = [res.evals[0]!, res.evals[res.evals.length - 1]!];
  console.log(`\nvalidation loss ${first.valLoss.toFixed(3)} → ${last.valLoss.toFixed(3)} nats/char   finished in ${res.seconds.toFixed(1)} s`);
  if ((o.sample as number) > 0) console.log(`\n${res.model.sample('', { maxNewTokens: o.sample as number, seed: o.seed as number })}\n`);
  printOutputs(outDir, res.files);
  return 0;
}

export const trainGptCommand = defineCommand(trainGptSpec, runTrainGpt);
