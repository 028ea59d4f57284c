/**
 * Reader for named-entity corpora in the CoNLL-2003 column format, and the small helpers
 * that turn such a corpus into token-classification training data.
 *
 * Reference: Erik F. Tjong Kim Sang and Fien De Meulder (2003), "Introduction to the
 * CoNLL-2003 Shared Task: Language-Independent Named Entity Recognition", Proceedings of
 * CoNLL-2003, pp. 142–147. Section 2 (Data and Evaluation) describes the file format:
 *
 *   - one token per line, the columns separated by white space; in the English data the
 *     columns are `word  POS-tag  chunk-tag  NE-tag`, the named-entity tag last:
 *         U.N.     NNP  I-NP  I-ORG
 *         official NN   I-NP  O
 *   - an empty line after each sentence;
 *   - a line `-DOCSTART- -X- -X- O` at the start of each document (a document
 *     boundary, never a token);
 *   - the original files (`eng.train`, `eng.testa`, `eng.testb`) use the IOB1 scheme, in
 *     which `B-` appears only between two adjacent entities of the same type; most
 *     redistributions (and HuggingFace's `conll2003`) use IOB2, in which every entity
 *     starts with `B-`. {@link iob1ToIob2} converts, {@link detectTagScheme} tells which.
 *
 * Label ids and the sub-word alignment follow HuggingFace transformers'
 * `examples/pytorch/token-classification/run_ner.py` (`tokenize_and_align_labels`):
 * the first sub-word of a word carries the word's label, later sub-words and special
 * tokens carry `-100`, the `ignore_index` of PyTorch's cross-entropy.
 */

import { existsSync, statSync } from 'node:fs';
import { checkEncoding, readTextFile, TextFileError, type TextEncodingName } from './text-file.js';
import { join } from 'node:path';
import { describeArg as describe } from './describe.js';
import { matchTag, type ParsedTag } from './metrics/tags.js';

/** One sentence of a CoNLL corpus: its tokens and one tag per token. */
export interface ConllSentence {
  /** The words of the sentence, column 0 of each line. */
  tokens: string[];
  /** One tag per token (e.g. 'B-PER', 'I-LOC', 'O'), from the tag column. */
  tags: string[];
}

/** Options of {@link parseConll} and {@link readConll}. */
export interface ConllParseOptions {
  /**
   * Column that holds the tag: 0-based from the left, or negative to count from the
   * right (-1, the default, is the last column, where CoNLL-2003 keeps the NE tag).
   * Column 0 is the token and cannot be the tag.
   */
  tagColumn?: number;
  /** Name of the input used in error messages (a path, say). Default `'<input>'`. */
  source?: string;
}

/** Options of {@link readConll} and {@link readConllSplits}: {@link ConllParseOptions} plus the file encoding. */
export interface ReadConllOptions extends ConllParseOptions {
  /**
   * `'utf-8'` (default; invalid bytes are an error naming the file and line, never a
   * silent U+FFFD) or `'latin1'` (ISO-8859-1, as some CoNLL-2002/2003 copies are).
   */
  encoding?: TextEncodingName;
}

/** The three splits of a corpus, as read by {@link readConllSplits}. */
export interface ConllSplits {
  /** Sentences of the training file. */
  train: ConllSentence[];
  /** Sentences of the development (validation) file. */
  dev: ConllSentence[];
  /** Sentences of the test file. */
  test: ConllSentence[];
  /** The file each split was read from. */
  paths: { train: string; dev: string; test: string };
}

/** Tagging scheme of a corpus, as told by {@link detectTagScheme}. */
export type TagScheme = 'IOB1' | 'IOB2' | 'mixed' | 'none';

/**
 * Raised for malformed CoNLL input and for invalid arguments of this module's functions.
 * File-parsing errors name the source and the 1-based line number.
 */
export class ConllError extends Error {
  /** 1-based line number of the offending line, when the error comes from parsing. */
  readonly line: number | undefined;
  /** Name of the input (a path, or `'<input>'`), when the error comes from parsing. */
  readonly source: string | undefined;

  constructor(message: string, where?: { source: string; line?: number }) {
    super(message);
    this.name = 'ConllError';
    this.source = where?.source;
    this.line = where?.line;
  }
}

/** The first column of a document-boundary line. */
const DOCSTART = '-DOCSTART-';
/** Columns are separated by runs of spaces or tabs (CoNLL-2003 uses one space). */
const COLUMN_SEPARATOR = /[ \t]+/;
/** Lines end in LF, CRLF or a lone CR. */
const LINE_BREAK = /\r\n|\n|\r/;

/** Shorten long input for an error message, and make it printable. */
function preview(s: string, max = 60): string {
  const shown = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(shown);
}

function checkTagColumn(tagColumn: unknown): number {
  if (tagColumn === undefined) return -1;
  if (typeof tagColumn !== 'number' || !Number.isInteger(tagColumn) || tagColumn === 0) {
    throw new ConllError(
      `tagColumn must be a non-zero integer (1, 2, … from the left or -1, -2, … from the right; column 0 is the token), got ${describe(tagColumn)}`,
    );
  }
  return tagColumn;
}

/**
 * Parse CoNLL-2003-style text into sentences.
 *
 * - Every non-blank line is one token: columns separated by spaces and/or tabs, the
 *   token in column 0 and the tag in `tagColumn` (default: the last column).
 * - Blank lines (or lines of white space only) end a sentence.
 * - Lines whose first column is `-DOCSTART-` are document boundaries: skipped, and they
 *   end the current sentence.
 * - LF, CRLF and CR line endings are accepted; U+FEFF (a byte-order mark, at the start
 *   or left in the middle by concatenating files) is removed wherever it appears, so it
 *   never ends up inside a token or tag (the WordPiece tokenizer drops it anyway).
 * - All token lines must have the same number of columns (at least 2); otherwise a
 *   {@link ConllError} names the line, what it had and what was expected.
 *
 * Placeholder columns such as `_` (used where no POS tagger was run) are ordinary values.
 *
 * @param text - the whole file content.
 * @param options - `tagColumn` (default -1) and `source` (for error messages).
 * @returns the sentences, in file order; no sentence is empty.
 * @throws {ConllError} for inconsistent or too few columns, or a bad `tagColumn`.
 *
 * @example
 * ```ts
 * const text = '-DOCSTART- -X- -X- O\n\nCaptain _ _ O\nAhab _ _ B-PER\n. _ _ O\n';
 * parseConll(text);
 * // → [{ tokens: ['Captain', 'Ahab', '.'], tags: ['O', 'B-PER', 'O'] }]
 * ```
 */
export function parseConll(text: string, options: ConllParseOptions = {}): ConllSentence[] {
  const source = options.source ?? '<input>';
  if (typeof text !== 'string') {
    throw new ConllError(`parseConll: text must be a string, got ${describe(text)}`, { source });
  }
  const tagColumn = checkTagColumn(options.tagColumn);
  const body = text.includes('\uFEFF') ? text.replaceAll('\uFEFF', '') : text;
  const lines = body.split(LINE_BREAK);

  const sentences: ConllSentence[] = [];
  let tokens: string[] = [];
  let tags: string[] = [];
  let expectedColumns = 0;
  let firstTokenLine = 0;
  let tagIndex = 0;

  const endSentence = (): void => {
    if (tokens.length > 0) sentences.push({ tokens, tags });
    tokens = [];
    tags = [];
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i]!.trim();
    if (trimmed === '') {
      endSentence();
      continue;
    }
    const columns = trimmed.split(COLUMN_SEPARATOR);
    if (columns[0] === DOCSTART) {
      endSentence();
      continue;
    }
    if (expectedColumns === 0) {
      if (columns.length < 2) {
        throw new ConllError(
          `${source}:${lineNo}: expected at least 2 columns (token and tag) separated by spaces or tabs, found 1: ${preview(trimmed)}`,
          { source, line: lineNo },
        );
      }
      if (tagColumn >= columns.length || -tagColumn > columns.length || columns.length + tagColumn === 0) {
        throw new ConllError(
          `${source}:${lineNo}: tagColumn ${tagColumn} does not name a tag column of a ${columns.length}-column line (valid: 1…${columns.length - 1} or -1…-${columns.length - 1}): ${preview(trimmed)}`,
          { source, line: lineNo },
        );
      }
      expectedColumns = columns.length;
      firstTokenLine = lineNo;
      tagIndex = tagColumn > 0 ? tagColumn : columns.length + tagColumn;
    } else if (columns.length !== expectedColumns) {
      throw new ConllError(
        `${source}:${lineNo}: expected ${expectedColumns} columns (as on line ${firstTokenLine}), found ${columns.length}: ${preview(trimmed)}`,
        { source, line: lineNo },
      );
    }
    tokens.push(columns[0]!);
    tags.push(columns[tagIndex]!);
  }
  endSentence();
  return sentences;
}

/**
 * Read and parse a CoNLL file (UTF-8 by default, or `encoding: 'latin1'`). Errors name
 * the path and line, invalid UTF-8 included.
 *
 * @param path - the file to read.
 * @param options - as {@link parseConll} (`source` defaults to `path`), plus `encoding`.
 * @throws {ConllError} when the file cannot be read, is not valid in its encoding, or is malformed.
 *
 * @example
 * ```ts
 * const train = readConll('data/ner/train.txt');
 * console.log(train.length, train[0].tokens, train[0].tags);
 * ```
 */
export function readConll(path: string, options: ReadConllOptions = {}): ConllSentence[] {
  if (typeof path !== 'string' || path === '') {
    throw new ConllError(`readConll: path must be a non-empty string, got ${describe(path)}`);
  }
  let text: string;
  try {
    text = readTextFile(path, checkEncoding('readConll', options.encoding));
  } catch (e) {
    if (e instanceof TextFileError) throw new ConllError(`readConll: ${e.message}`, { source: path, line: e.invalid?.line });
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConllError(`readConll: cannot read ${path}: ${reason}`, { source: path });
  }
  return parseConll(text, { ...options, source: options.source ?? path });
}

/** File names tried, in order, for each split by {@link readConllSplits}. */
export const SPLIT_FILE_NAMES: Readonly<Record<'train' | 'dev' | 'test', readonly string[]>> = {
  train: ['eng.train', 'train.txt', 'train.conll', 'train'],
  dev: ['eng.testa', 'valid.txt', 'dev.txt', 'validation.txt', 'dev.conll', 'valid', 'dev'],
  test: ['eng.testb', 'test.txt', 'test.conll', 'test'],
};

/**
 * Read the train, dev and test splits of a corpus directory, under the usual names:
 * `eng.train` / `eng.testa` / `eng.testb` (the original CoNLL-2003 release), or
 * `train.txt` / `valid.txt` or `dev.txt` / `test.txt` (common redistributions); the full list,
 * tried in order, is `SPLIT_FILE_NAMES` in src/data/conll.ts (the error for a missing split
 * names every file it looked for).
 *
 * @param dir - the directory holding the three files.
 * @param options - as {@link parseConll} (`source` is always the file's path).
 * @throws {ConllError} when `dir` is not a directory, when a split is missing (listing
 *   every name looked for), or when a file is malformed.
 *
 * @example
 * ```ts
 * const { train, dev, test, paths } = readConllSplits('data/ner');
 * console.log(paths.dev, dev.length);
 * ```
 */
export function readConllSplits(dir: string, options: Omit<ReadConllOptions, 'source'> = {}): ConllSplits {
  if (typeof dir !== 'string' || dir === '') {
    throw new ConllError(`readConllSplits: dir must be a non-empty string, got ${describe(dir)}`);
  }
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ConllError(`readConllSplits: ${dir} is not a directory`);

  const find = (split: 'train' | 'dev' | 'test'): string => {
    for (const name of SPLIT_FILE_NAMES[split]) {
      const p = join(dir, name);
      if (existsSync(p) && statSync(p).isFile()) return p;
    }
    throw new ConllError(
      `readConllSplits: no ${split} split in ${dir}; looked for ${SPLIT_FILE_NAMES[split].join(', ')}`,
    );
  };
  const paths = { train: find('train'), dev: find('dev'), test: find('test') };
  const { tagColumn, encoding } = options;
  return {
    train: readConll(paths.train, { tagColumn, encoding }),
    dev: readConll(paths.dev, { tagColumn, encoding }),
    test: readConll(paths.test, { tagColumn, encoding }),
    paths,
  };
}

/** A parsed `O` / `B-TYPE` / `I-TYPE` tag (the metrics' tag grammar, IOB prefixes only). */
type IobTag = ParsedTag;

function parseIobTag(tag: unknown, where: string): IobTag {
  const parsed = matchTag(tag, 'BI');
  if (parsed === null) throw new ConllError(`${where}: expected 'O', 'B-TYPE' or 'I-TYPE', got ${describe(tag)}`);
  return parsed;
}

function checkTagArray(tags: unknown, fn: string, arg: string): asserts tags is unknown[] {
  if (!Array.isArray(tags)) throw new ConllError(`${fn}: ${arg} must be an array of tags, got ${describe(tags)}`);
}

/**
 * Convert one sentence's tags from IOB1 to IOB2.
 *
 * In IOB1 (the original CoNLL-2003 files) an entity starts with `I-`, and `B-` marks
 * only the first token of an entity that directly follows another of the same type. In
 * IOB2 every entity starts with `B-`. An `I-X` becomes `B-X` when it starts an entity:
 * at the start of the sentence, after `O`, or after a tag of another type. Input that is
 * already IOB2 comes back unchanged.
 *
 * @param tags - one sentence's tags (`O`, `B-TYPE`, `I-TYPE`).
 * @returns a new array; the input is not modified.
 * @throws {ConllError} for a tag that is not `O`, `B-…` or `I-…`.
 *
 * @example
 * ```ts
 * iob1ToIob2(['I-PER', 'I-PER', 'O', 'I-LOC', 'B-LOC']);
 * // → ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC']
 * ```
 */
export function iob1ToIob2(tags: readonly string[]): string[] {
  checkTagArray(tags, 'iob1ToIob2', 'tags');
  const out: string[] = [];
  let prev: IobTag = { prefix: 'O', type: '_' };
  tags.forEach((tag, i) => {
    const t = parseIobTag(tag, `iob1ToIob2: tags[${i}]`);
    if (t.prefix === 'I' && (prev.prefix === 'O' || prev.type !== t.type)) {
      out.push(`B-${t.type}`);
    } else {
      out.push(tag);
    }
    prev = t;
  });
  return out;
}

/**
 * Tell which IOB scheme a corpus uses, from its tag sequences (one array per sentence).
 *
 * - An `I-X` that starts an entity (after `O`, a different type, or at the start) is
 *   impossible in IOB2; a `B-X` that does not follow an `X` token is impossible in IOB1.
 * - `'IOB1'`: only the first kind was seen; `'IOB2'`: only the second; `'mixed'`: both
 *   (the corpus is inconsistent); `'none'`: neither, which happens only when there are
 *   no entities at all (then either scheme describes it).
 *
 * @param sequences - tag arrays, or sentences with a `tags` field.
 * @throws {ConllError} for a tag that is not `O`, `B-…` or `I-…`.
 *
 * @example
 * ```ts
 * detectTagScheme([['I-PER', 'O', 'I-LOC', 'B-LOC']]); // → 'IOB1'
 * detectTagScheme([['B-PER', 'I-PER', 'O']]);          // → 'IOB2'
 * ```
 */
export function detectTagScheme(sequences: readonly (readonly string[] | ConllSentence)[]): TagScheme {
  checkTagArray(sequences, 'detectTagScheme', 'sequences');
  let iStartsEntity = false;
  let bAfterOther = false;
  sequences.forEach((seq, s) => {
    const tags: unknown = Array.isArray(seq) ? seq : (seq as ConllSentence | null)?.tags;
    checkTagArray(tags, 'detectTagScheme', `sequences[${s}]`);
    let prev: IobTag = { prefix: 'O', type: '_' };
    tags.forEach((tag, i) => {
      const t = parseIobTag(tag, `detectTagScheme: sequences[${s}][${i}]`);
      const continuesSameType = prev.prefix !== 'O' && prev.type === t.type;
      if (t.prefix === 'I' && !continuesSameType) iStartsEntity = true;
      if (t.prefix === 'B' && !continuesSameType) bAfterOther = true;
      prev = t;
    });
  });
  if (iStartsEntity && bAfterOther) return 'mixed';
  if (iStartsEntity) return 'IOB1';
  if (bAfterOther) return 'IOB2';
  return 'none';
}

/** The `config.json` fields of a HuggingFace token-classification model. */
export interface LabelConfig {
  id2label: Record<string, string>;
  label2id: Record<string, number>;
}

/**
 * A fixed, bijective mapping between tag strings and integer class ids.
 *
 * {@link LabelMap.fromSentences} builds the conventional order: `'O'` first (id 0), then
 * for each entity type in sorted order `B-TYPE`, `I-TYPE` — both, even when a corpus
 * never uses one of them, so a model can predict it. {@link LabelMap.fromLabels} keeps
 * an explicit order (a checkpoint's `id2label`, say).
 *
 * @example
 * ```ts
 * const map = LabelMap.fromSentences(readConll('data/ner/train.txt'));
 * map.labels;               // ['O', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']
 * map.labelToId('B-PER');   // 7
 * map.idToLabel(0);         // 'O'
 * ```
 */
export class LabelMap {
  /** The labels, index = id. */
  readonly labels: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  private constructor(labels: readonly string[]) {
    this.labels = Object.freeze([...labels]);
    this.ids = new Map(labels.map((l, i) => [l, i]));
  }

  /**
   * A map with exactly these labels, in this order.
   * @throws {ConllError} for an empty list, a non-string or empty label, or a duplicate.
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER', 'I-PER']).labelToId('I-PER'); // 2
   * ```
   */
  static fromLabels(labels: readonly string[]): LabelMap {
    if (!Array.isArray(labels) || labels.length === 0) {
      throw new ConllError(`LabelMap.fromLabels: labels must be a non-empty array of strings, got ${describe(labels)}`);
    }
    const seen = new Set<string>();
    labels.forEach((l, i) => {
      if (typeof l !== 'string' || l === '') {
        throw new ConllError(`LabelMap.fromLabels: labels[${i}] must be a non-empty string, got ${describe(l)}`);
      }
      if (seen.has(l)) throw new ConllError(`LabelMap.fromLabels: duplicate label ${preview(l)} at index ${i}`);
      seen.add(l);
    });
    return new LabelMap(labels);
  }

  /**
   * The conventional map of a corpus: `'O'`, then `B-T`, `I-T` for each type `T` found
   * in the tags, types sorted (by UTF-16 code units, as `Array.prototype.sort`).
   * @param sentences - sentences (with `tags`) or tag arrays.
   * @throws {ConllError} for a tag that is not `O`, `B-…` or `I-…`.
   * @example
   * ```ts
   * LabelMap.fromSentences([['B-PER', 'O', 'I-LOC']]).labels;
   * // → ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']
   * ```
   */
  static fromSentences(sentences: readonly (ConllSentence | readonly string[])[]): LabelMap {
    checkTagArray(sentences, 'LabelMap.fromSentences', 'sentences');
    const types = new Set<string>();
    sentences.forEach((seq, s) => {
      const tags: unknown = Array.isArray(seq) ? seq : (seq as ConllSentence | null)?.tags;
      checkTagArray(tags, 'LabelMap.fromSentences', `sentences[${s}]`);
      tags.forEach((tag, i) => {
        const t = parseIobTag(tag, `LabelMap.fromSentences: sentences[${s}] tag ${i}`);
        if (t.prefix !== 'O') types.add(t.type);
      });
    });
    const labels = ['O'];
    for (const type of [...types].sort()) labels.push(`B-${type}`, `I-${type}`);
    return new LabelMap(labels);
  }

  /**
   * Rebuild a map from a HuggingFace `config.json`'s `id2label` (ids 0…n−1, all present).
   * @throws {ConllError} when the ids are not exactly 0…n−1 or a label repeats.
   * @example
   * ```ts
   * LabelMap.fromConfig({ id2label: { '0': 'O', '1': 'B-PER' } }).labels; // ['O', 'B-PER']
   * ```
   */
  static fromConfig(config: { id2label: Record<string, string> }): LabelMap {
    const id2label = (config as { id2label?: unknown } | null)?.id2label;
    if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) {
      throw new ConllError(`LabelMap.fromConfig: config.id2label must be an object mapping ids to labels, got ${describe(id2label)}`);
    }
    const entries = Object.entries(id2label as Record<string, unknown>);
    const labels: string[] = new Array<string>(entries.length);
    for (const [key, label] of entries) {
      const id = Number(key);
      if (!/^(0|[1-9][0-9]*)$/.test(key) || id >= entries.length) {
        throw new ConllError(`LabelMap.fromConfig: id2label keys must be 0…${entries.length - 1}, got ${preview(key)}`);
      }
      labels[id] = label as string;
    }
    return LabelMap.fromLabels(labels);
  }

  /** Number of labels. */
  get size(): number {
    return this.labels.length;
  }

  /** Whether `label` is in the map. */
  has(label: string): boolean {
    return this.ids.has(label);
  }

  /**
   * The id of `label`.
   * @throws {ConllError} for a label not in the map (the message lists the known ones).
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER']).labelToId('B-PER'); // 1
   * ```
   */
  labelToId(label: string): number {
    const id = this.ids.get(label);
    if (id === undefined) {
      throw new ConllError(`LabelMap.labelToId: unknown label ${describe(label)}; known labels: ${this.labels.join(', ')}`);
    }
    return id;
  }

  /**
   * The label of class `id`.
   * @throws {ConllError} for an id that is not an integer in 0…size−1.
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER']).idToLabel(1); // 'B-PER'
   * ```
   */
  idToLabel(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.labels.length) {
      throw new ConllError(`LabelMap.idToLabel: id must be an integer in 0…${this.labels.length - 1}, got ${describe(id)}`);
    }
    return this.labels[id]!;
  }

  /**
   * Map every tag of a sentence to its id.
   * @throws {ConllError} for an unknown tag (naming its position).
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER']).encode(['B-PER', 'O']); // [1, 0]
   * ```
   */
  encode(tags: readonly string[]): number[] {
    checkTagArray(tags, 'LabelMap.encode', 'tags');
    return tags.map((t, i) => {
      const id = this.ids.get(t as string);
      if (id === undefined) {
        throw new ConllError(`LabelMap.encode: tags[${i}] is an unknown label ${describe(t)}; known labels: ${this.labels.join(', ')}`);
      }
      return id;
    });
  }

  /**
   * Map ids back to tags.
   * @throws {ConllError} for an id out of range.
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER']).decode([1, 0]); // ['B-PER', 'O']
   * ```
   */
  decode(ids: readonly number[]): string[] {
    checkTagArray(ids, 'LabelMap.decode', 'ids');
    return ids.map((id) => this.idToLabel(id as number));
  }

  /**
   * The id of the `I-` label matching a `B-` label (`B-PER` → `I-PER`), or the id itself
   * for any other label or when the map has no such `I-` label — the `b_to_i_label`
   * table of HuggingFace's `run_ner.py`.
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER', 'I-PER']).bToI(1); // 2
   * ```
   */
  bToI(id: number): number {
    const label = this.idToLabel(id);
    if (!label.startsWith('B-')) return id;
    return this.ids.get(`I-${label.slice(2)}`) ?? id;
  }

  /**
   * `id2label` and `label2id` as a HuggingFace `config.json` stores them.
   * @example
   * ```ts
   * LabelMap.fromLabels(['O', 'B-PER']).toConfig();
   * // → { id2label: { '0': 'O', '1': 'B-PER' }, label2id: { O: 0, 'B-PER': 1 } }
   * ```
   */
  toConfig(): LabelConfig {
    const id2label: Record<string, string> = {};
    const label2id: Record<string, number> = {};
    this.labels.forEach((l, i) => {
      id2label[String(i)] = l;
      label2id[l] = i;
    });
    return { id2label, label2id };
  }
}

/** Options of {@link alignLabels}. */
export interface AlignLabelsOptions {
  /**
   * Label every sub-word of a word, not just the first; continuation sub-words of a
   * `B-X` word get `I-X` (needs `labelMap`). Default false.
   */
  labelAllSubwords?: boolean;
  /** Label of positions the loss ignores. Default -100 (PyTorch's `ignore_index`). */
  ignoreIndex?: number;
  /** Needed with `labelAllSubwords`, to turn a `B-X` id into the `I-X` id. */
  labelMap?: LabelMap;
}

/**
 * Spread word-level label ids over the sub-word tokens of a tokenized sentence.
 *
 * `wordIds[j]` is the index of the word that sub-word `j` comes from, or `null` for a
 * special token (`[CLS]`, `[SEP]`, padding) — the `word_ids()` of a HuggingFace fast
 * tokenizer. As in `run_ner.py`: a special token gets `ignoreIndex`; a sub-word whose word
 * differs from the previous position's gets the word's label; a repeated word index gets
 * `ignoreIndex`, or with `labelAllSubwords` the word's label with `B-` turned into `I-`.
 *
 * @param wordIds - word index per sub-word, or null.
 * @param wordLabelIds - the label id of each word.
 * @param options - `labelAllSubwords` (false), `ignoreIndex` (-100), `labelMap`.
 * @returns one label id per sub-word (same length as `wordIds`).
 * @throws {ConllError} for a word index out of range or not an integer, a non-integer
 *   label id or `ignoreIndex`, or `labelAllSubwords` without `labelMap`.
 *
 * @example
 * ```ts
 * // [CLS] Ahab ##ab went [SEP], word labels: Ahab = B-PER (1), went = O (0)
 * alignLabels([null, 0, 0, 1, null], [1, 0]);           // → [-100, 1, -100, 0, -100]
 * const labelMap = LabelMap.fromLabels(['O', 'B-PER', 'I-PER']);
 * alignLabels([null, 0, 0, 1, null], [1, 0], { labelAllSubwords: true, labelMap });
 * // → [-100, 1, 2, 0, -100]
 * ```
 */
export function alignLabels(
  wordIds: readonly (number | null)[],
  wordLabelIds: readonly number[],
  options: AlignLabelsOptions = {},
): number[] {
  const { labelAllSubwords = false, ignoreIndex = -100, labelMap } = options;
  if (!Array.isArray(wordIds)) throw new ConllError(`alignLabels: wordIds must be an array, got ${describe(wordIds)}`);
  if (!Array.isArray(wordLabelIds)) {
    throw new ConllError(`alignLabels: wordLabelIds must be an array, got ${describe(wordLabelIds)}`);
  }
  if (!Number.isInteger(ignoreIndex)) throw new ConllError(`alignLabels: ignoreIndex must be an integer, got ${describe(ignoreIndex)}`);
  if (labelAllSubwords && !(labelMap instanceof LabelMap)) {
    throw new ConllError('alignLabels: labelAllSubwords needs options.labelMap, to turn B- labels into I- labels');
  }
  wordLabelIds.forEach((id, i) => {
    if (!Number.isInteger(id)) throw new ConllError(`alignLabels: wordLabelIds[${i}] must be an integer, got ${describe(id)}`);
  });
  const out: number[] = [];
  let previous: number | null = null;
  wordIds.forEach((w, j) => {
    if (w === null) {
      out.push(ignoreIndex);
    } else {
      if (!Number.isInteger(w) || w < 0 || w >= wordLabelIds.length) {
        throw new ConllError(
          `alignLabels: wordIds[${j}] must be null or an integer in 0…${wordLabelIds.length - 1} (one per word label), got ${describe(w)}`,
        );
      }
      const label = wordLabelIds[w]!;
      if (w !== previous) out.push(label);
      else if (labelAllSubwords) out.push(label === ignoreIndex ? label : labelMap!.bToI(label));
      else out.push(ignoreIndex);
    }
    previous = w;
  });
  return out;
}
