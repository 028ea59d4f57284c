/**
 * The release checkpoint of issue #14: a small BERT pre-trained by the project's own `pretrain-mlm`
 * on public-domain English (`npm run pretrain:release` writes it to `assets/<name>/` with a model
 * card). `train-ner --init pretrained` and `train-classifier --init pretrained` start from it.
 * Not shipped yet: the first release run (2,000 steps, 64 min on 2 cores) stayed at the
 * word-frequency plateau — see the README's "Pre-training" section — so the folder exists only
 * where `pretrain:release` has been run.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder name of the shipped checkpoint under `assets/` (HF layout: config.json, model.safetensors, vocab.txt, …). */
export const PRETRAINED_NAME = 'tensorgrad-bert-L4-H128-uncased';

/**
 * The absolute path of the shipped pretrained checkpoint (in the source tree and in the npm
 * package alike). Throws, naming the remedy, when the folder is missing.
 *
 * @example
 * const ner = trainNer({ ...readConllSplits('data/ner'), tokenizer, init: pretrainedPath() });
 */
export function pretrainedPath(): string {
  const dir = fileURLToPath(new URL(`../../assets/${PRETRAINED_NAME}`, import.meta.url));
  if (!existsSync(dir)) {
    throw new Error(`the pretrained checkpoint ${dir} is missing: it is not shipped yet (make it with \`npm run pretrain:release\`, about an hour on 2 cores), or start from scratch with --init random`);
  }
  return dir;
}
