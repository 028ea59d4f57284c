/**
 * Labelled texts from a CSV / TSV / JSONL file (https://jsonlines.org for JSONL), and a seeded,
 * optionally stratified train/test split. The PRNG is mulberry32 (Tommy Ettinger's 32-bit
 * generator), seeded per call, so a split depends only on its seed.
 */
import { extname } from 'node:path';
import { checkEncoding, readTextFile, TextFileError, type TextEncodingName } from '../text-file.js';
import { describeArg as describe } from '../describe.js';
import { parseCsv, parseCsvRecords, splitTsv, type CsvRecord } from '../formats/delimited.js';
import { TextDatasetError, type TextExample } from '../formats/errors.js';
// ───────────────────────────── seeded randomness ─────────────────────────────

import { mulberry32 } from '../../core/random-bits.js';
export { mulberry32 };

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(a: T[], rng: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

export function checkSeed(fn: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new TypeError(`${fn}: seed must be an integer, got ${describe(seed)}`);
  }
  return seed;
}


/** Options of {@link loadTextClassification}. */
export interface LoadTextClassificationOptions {
  /** File format; by default from the extension (.csv, .tsv/.tab, .jsonl/.ndjson). */
  format?: 'csv' | 'tsv' | 'jsonl';
  /** Column (CSV/TSV header) or key (JSONL) of the text. Default `text`. */
  textColumn?: string;
  /** Column or key of the label. Default `label`. */
  labelColumn?: string;
  /**
   * `'utf-8'` (default; invalid bytes are an error naming the file and line, never a
   * silent U+FFFD) or `'latin1'` (ISO-8859-1).
   */
  encoding?: TextEncodingName;
}

export const FORMAT_BY_EXTENSION: Record<string, 'csv' | 'tsv' | 'jsonl'> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/**
 * Loads a labelled text file: CSV (RFC 4180, see {@link parseCsv}) or TSV (tabs, no
 * quoting) with a header row naming the columns, or JSONL (one object per line). Each
 * record gives `{ text, label }` from `textColumn` and `labelColumn`; labels are
 * returned as strings (a JSONL number or boolean label is converted with `String`).
 * Blank lines are skipped; a UTF-8 byte-order mark is ignored.
 *
 * @throws {TextDatasetError} naming the file and line: unknown format, missing column,
 *   a record with the wrong number of fields, invalid CSV quoting or JSON, a text that
 *   is not a string, an empty or missing label.
 *
 * @example
 * ```ts
 * // reviews.csv:  text,label \n "Great, really great",pos \n Meh,neg
 * loadTextClassification('reviews.csv');
 * // [{ text: 'Great, really great', label: 'pos' }, { text: 'Meh', label: 'neg' }]
 * loadTextClassification('sst2.tsv', { textColumn: 'sentence' });
 * ```
 */
export function loadTextClassification(path: string, options: LoadTextClassificationOptions = {}): TextExample[] {
  if (typeof path !== 'string') {
    throw new TypeError(`loadTextClassification: path must be a string, got ${describe(path)}`);
  }
  const { textColumn = 'text', labelColumn = 'label' } = options;
  for (const [name, v] of [['textColumn', textColumn], ['labelColumn', labelColumn]] as const) {
    if (typeof v !== 'string' || v === '') {
      throw new TypeError(`loadTextClassification: ${name} must be a non-empty string, got ${describe(v)}`);
    }
  }
  const format = options.format ?? FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (format !== 'csv' && format !== 'tsv' && format !== 'jsonl') {
    throw new TextDatasetError(
      options.format !== undefined
        ? `format must be 'csv', 'tsv' or 'jsonl', got ${describe(options.format)}`
        : `cannot tell the format from the extension ${JSON.stringify(extname(path))}; pass { format: 'csv' | 'tsv' | 'jsonl' }`,
      { path },
    );
  }
  let encoding: TextEncodingName;
  try {
    encoding = checkEncoding('loadTextClassification', options.encoding);
  } catch (e) {
    throw new TypeError((e as Error).message);
  }
  let content: string;
  try {
    content = readTextFile(path, encoding);
  } catch (cause) {
    if (cause instanceof TextFileError) {
      throw new TextDatasetError(cause.detail, { path, line: cause.invalid?.line, cause });
    }
    throw new TextDatasetError(`cannot read the file: ${(cause as Error).message}`, { path, cause });
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  return format === 'jsonl'
    ? fromJsonl(content, path, textColumn, labelColumn)
    : fromTable(
        format === 'csv' ? parseCsvRecords(content, { path }) : splitTsv(content),
        path,
        textColumn,
        labelColumn,
      );
}


export function fromTable(records: CsvRecord[], path: string, textColumn: string, labelColumn: string): TextExample[] {
  if (records.length === 0) throw new TextDatasetError('the file is empty (expected a header row)', { path });
  const [header, ...rows] = records;
  const column = (name: string, option: string) => {
    const i = header.fields.indexOf(name);
    if (i < 0) {
      throw new TextDatasetError(
        `no column ${JSON.stringify(name)} (${option}) in the header; columns are ${header.fields.map((f) => JSON.stringify(f)).join(', ')}`,
        { path, line: header.line },
      );
    }
    const again = header.fields.indexOf(name, i + 1);
    if (again >= 0) {
      throw new TextDatasetError(
        `the header names the column ${JSON.stringify(name)} (${option}) twice, as columns ${i + 1} and ${again + 1}; ` +
          'rename one so that it is clear which to use',
        { path, line: header.line },
      );
    }
    return i;
  };
  const textIndex = column(textColumn, 'textColumn');
  const labelIndex = column(labelColumn, 'labelColumn');
  return rows.map(({ fields, line }) => {
    if (fields.length !== header.fields.length) {
      throw new TextDatasetError(
        `the record has ${fields.length} fields, but the header has ${header.fields.length}`,
        { path, line },
      );
    }
    const label = fields[labelIndex];
    if (label === '') throw new TextDatasetError(`empty label in column ${JSON.stringify(labelColumn)}`, { path, line });
    return { text: fields[textIndex], label };
  });
}

export function fromJsonl(content: string, path: string, textColumn: string, labelColumn: string): TextExample[] {
  const out: TextExample[] = [];
  content.split(/\r\n|\n|\r/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      throw new TextDatasetError(`invalid JSON: ${(cause as Error).message}`, { path, line, cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TextDatasetError(`expected a JSON object, got ${describe(value)}`, { path, line });
    }
    const record = value as Record<string, unknown>;
    const text = record[textColumn];
    const label = record[labelColumn];
    if (typeof text !== 'string') {
      throw new TextDatasetError(`"${textColumn}" must be a string, got ${describe(text)}`, { path, line });
    }
    if (!(typeof label === 'string' || typeof label === 'number' || typeof label === 'boolean') || label === '') {
      throw new TextDatasetError(
        `"${labelColumn}" must be a non-empty string, a number or a boolean, got ${describe(label)}`,
        { path, line },
      );
    }
    out.push({ text, label: String(label) });
  });
  return out;
}

// ───────────────────────────── train / test split ─────────────────────────────

/** Options of {@link trainTestSplit}. */
export interface TrainTestSplitOptions<T> {
  /** Fraction of the items in the test set, in (0, 1), rounded up; or a count ≥ 1. */
  testSize: number;
  /** Seed of the shuffle: the same seed and items always give the same split. */
  seed: number;
  /**
   * Keep the class proportions in both sets: `true` stratifies on `item.label`; a
   * function gives the class of an item.
   */
  stratify?: boolean | ((item: T) => string | number);
}

/**
 * Splits items into a shuffled train set and a shuffled test set, deterministically for a
 * given seed (mulberry32 + Fisher–Yates). With `stratify`, each class contributes to the
 * test set in proportion to its size: the per-class counts are the largest-remainder
 * rounding of `nTest · n_c / n`, so each is within 1 of its exact share and they sum to
 * `nTest`. Both sets must end up non-empty.
 *
 * @throws {TypeError} on an invalid option, or a test size that leaves either set empty.
 *
 * @example
 * ```ts
 * const { train, test } = trainTestSplit(data, { testSize: 0.2, seed: 42, stratify: true });
 * ```
 */
export function trainTestSplit<T>(items: readonly T[], options: TrainTestSplitOptions<T>): { train: T[]; test: T[] } {
  const fn = 'trainTestSplit';
  if (!Array.isArray(items)) throw new TypeError(`${fn}: items must be an array, got ${describe(items)}`);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${fn}: options must be { testSize, seed, stratify? }, got ${describe(options)}`);
  }
  const { testSize, stratify } = options;
  const seed = checkSeed(fn, options.seed);
  const n = items.length;
  let nTest: number;
  if (typeof testSize === 'number' && testSize > 0 && testSize < 1) {
    nTest = Math.ceil(testSize * n - 1e-9); // tolerance: 0.3 · 10 is 3.0000000000000004
  } else if (typeof testSize === 'number' && Number.isSafeInteger(testSize) && testSize >= 1) {
    nTest = testSize;
  } else {
    throw new TypeError(`${fn}: testSize must be a fraction in (0, 1) or an integer count ≥ 1, got ${describe(testSize)}`);
  }
  if (nTest < 1 || nTest > n - 1) {
    throw new TypeError(
      `${fn}: testSize ${testSize} puts ${nTest} of ${n} items in the test set; both sets must be non-empty`,
    );
  }
  const rng = mulberry32(seed);
  if (stratify === undefined || stratify === false) {
    const shuffled = shuffleInPlace(items.slice(), rng);
    return { test: shuffled.slice(0, nTest), train: shuffled.slice(nTest) };
  }
  const classOf = classifier(fn, stratify);
  const groups = new Map<string | number, T[]>();
  for (const item of items) {
    const c = classOf(item);
    const g = groups.get(c);
    if (g) g.push(item);
    else groups.set(c, [item]);
  }
  // Largest-remainder allocation of nTest over the classes (ties: first-seen class first).
  const classes = [...groups.values()];
  const exact = classes.map((g) => (nTest * g.length) / n);
  const counts = exact.map(Math.floor);
  let left = nTest - counts.reduce((a, b) => a + b, 0);
  const byRemainder = classes.map((_, i) => i).sort((a, b) => exact[b] - counts[b] - (exact[a] - counts[a]) || a - b);
  for (const i of byRemainder) {
    if (left === 0) break;
    counts[i]++;
    left--;
  }
  const train: T[] = [];
  const test: T[] = [];
  classes.forEach((g, i) => {
    const shuffled = shuffleInPlace(g.slice(), rng);
    test.push(...shuffled.slice(0, counts[i]));
    train.push(...shuffled.slice(counts[i]));
  });
  return { train: shuffleInPlace(train, rng), test: shuffleInPlace(test, rng) };
}

export function classifier<T>(fn: string, stratify: true | ((item: T) => string | number)): (item: T) => string | number {
  if (stratify === true) {
    return (item) => {
      const label = (item as { label?: unknown } | null)?.label;
      if (typeof label !== 'string' && typeof label !== 'number') {
        throw new TypeError(`${fn}: stratify: true needs every item to have a string or number label, got ${describe(label)}`);
      }
      return label;
    };
  }
  if (typeof stratify !== 'function') {
    throw new TypeError(`${fn}: stratify must be a boolean or a function, got ${describe(stratify)}`);
  }
  return (item) => {
    const c = stratify(item);
    if (typeof c !== 'string' && typeof c !== 'number') {
      throw new TypeError(`${fn}: the stratify function must return a string or number, got ${describe(c)}`);
    }
    return c;
  };
}
