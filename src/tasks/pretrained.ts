/**
 * The pretrained checkpoint shipped with the package (issue #14): a small BERT pre-trained by the
 * project's own `pretrain-mlm` on public-domain English (`npm run pretrain:release`; its model card
 * is `assets/<name>/README.md`). `train-ner`, `train-classifier` and the demo start from it unless
 * told `--init random`.
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
    throw new Error(`the shipped pretrained checkpoint ${dir} is missing (make it with \`npm run pretrain:release\`, or start from scratch with --init random)`);
  }
  return dir;
}
