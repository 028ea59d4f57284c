/** `tensorgrad generate`: sample text from a character-level GPT trained by train-gpt. */
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { isAdapterDir } from '../../peft/io.js';
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { asUsage } from '../options.js';
import { defineCommand, requireModelFolder } from '../util.js';
import { CharGPT } from '../../tasks/gpt-char.js';

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
  const folder = resolve(String(o.model));
  // a `train-gpt --peft` folder (adapter + pointer to its base) loads through CharGPT.load too
  const dir = isAdapterDir(folder) && !existsSync(join(folder, 'model.safetensors')) ? folder : requireModelFolder('--model', String(o.model), 'train-gpt');
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

export const generateCommand = defineCommand(generateSpec, runGenerate);
