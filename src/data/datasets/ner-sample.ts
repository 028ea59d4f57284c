/**
 * The NER sample shipped with the package (`data/ner`): 1,400 sentences of public-domain English in
 * CoNLL-2003 format, annotated by the project (data/ner/README.md) — what `npm run demo` and
 * `tensorgrad train-ner` use without `--data`.
 */
import { fileURLToPath } from 'node:url';
import { readConllSplits, type ConllSplits } from '../conll.js';

/** The folder of the shipped sample (three levels above this file in src/data/datasets or dist/data/datasets). */
export const NER_SAMPLE_DIR = fileURLToPath(new URL('../../../data/ner/', import.meta.url));

/**
 * The shipped sample's train/dev/test splits.
 *
 * @example
 * const { train, dev, test } = loadNerSample(); // 983 / 210 / 207 sentences
 */
export function loadNerSample(): ConllSplits {
  return readConllSplits(NER_SAMPLE_DIR);
}
