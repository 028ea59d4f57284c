/**
 * The release checkpoint of issue #14: a small BERT pre-trained by the project's own `pretrain-mlm`
 * on public-domain English (`npm run pretrain:release` writes it to `assets/<name>/` with a model
 * card). `train-ner` and `train-classifier` start from it by default (`--init pretrained`;
 * `--init random` trains from scratch). It ships in the package (`assets/` is in `files`).
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
    throw new Error(`the pretrained checkpoint ${dir} is missing (it ships in assets/ of the repository and the npm package; rebuild it with \`npm run pretrain:release\`, about 1 h 40 min on 2 cores), or start from scratch with --init random`);
  }
  return dir;
}
