/**
 * Classification and named-entity evaluation metrics, with the reports of the two
 * reference implementations reproduced character for character.
 *
 * Token / sample level — scikit-learn (Pedregosa et al. 2011, "Scikit-learn: Machine
 * Learning in Python", JMLR 12), `sklearn/metrics/_classification.py`:
 * `accuracy_score`, `confusion_matrix`, `precision_recall_fscore_support` and
 * `classification_report` (scikit-learn 1.9, the version the golden fixture
 * `test/fixtures/metrics/` was made with):
 *
 *   - precision = tp / (tp + fp), recall = tp / (tp + fn), F1 from the counts,
 *     2·tp / (2·tp + fp + fn) (so the printed digits agree: tp 1, fp 4, fn 10 gives 0.125,
 *     printed 0.12, where 2·P·R / (P + R) gives 0.12500000000000003, printed 0.13); a 0/0
 *     precision, recall or F1 becomes `zeroDivision` (0 or 1);
 *   - micro average: the same formulas on the summed counts; macro: the unweighted mean
 *     over classes; weighted: the mean weighted by support, and when every listed label
 *     has support 0, the unweighted mean (scikit-learn >= 1.3's `_nanaverage`);
 *   - the 'micro avg' row is printed as 'accuracy' (F1 column only) when it equals the
 *     accuracy, i.e. when the classes reported include every label of the data.
 *
 * seqeval keeps F1 = 2·P·R / (P + R) (0 when P + R = 0) and, when every support is 0,
 * weighted P = F1 = `zeroDivision` if nothing was predicted, else 0, and R = `zeroDivision`.
 *
 * Entity level — seqeval (Hiroki Nakayama 2018, https://github.com/chakki-works/seqeval),
 * `seqeval/metrics/sequence_labeling.py` and `seqeval/metrics/v1.py`, whose default mode
 * is the chunking of the CoNLL shared tasks' `conlleval` script (Tjong Kim Sang &
 * De Meulder 2003, "Introduction to the CoNLL-2003 Shared Task", §2): an entity is a
 * maximal run of tokens of one type that (lenient) starts at a `B-`, or at an `I-` that
 * does not continue an entity of its type. An entity counts as correct only when type,
 * start and end all match. In strict mode (`{ mode: 'strict', scheme: 'IOB2' }`, seqeval's
 * `mode='strict', scheme=IOB2`) only well-formed entities count: `B-X` followed by `I-X`s;
 * a stray `I-X` is no entity at all.
 *
 * Departures, each for an input on which the reference raises or returns NaN:
 *   - `accuracy` and `classificationReport` of zero samples throw a {@link MetricsError}
 *     (scikit-learn returns NaN / fails on `max()` of an empty sequence);
 *   - `entityReport` with no entity in either input has no class rows and averages of
 *     `zeroDivision` (seqeval fails on `max()` of an empty sequence);
 *   - tags other than `O`, `B-…`, `I-…`, `E-…`, `S-…` throw (seqeval warns and goes on).
 */

/** Raised for invalid arguments of the metric functions; the message names the argument. */
export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsError';
  }
}

/** A class label: a string or a number (all labels of one call must be of one kind). */
export type Label = string | number;

/** Precision, recall, F1 and support (number of true instances) of one class. */
export interface ClassScores<L extends Label = string> {
  /** The class label (an entity type for entity reports). */
  label: L;
  /** The name printed in the report (`targetNames`, or the label as a string). */
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** An averaged row of a report; `support` is the total support. */
export interface AverageScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Result of {@link classificationReport}. */
export interface ClassificationReport<L extends Label = string> {
  classes: ClassScores<L>[];
  /** Fraction of samples whose prediction equals the truth (over all samples). */
  accuracy: number;
  microAvg: AverageScores;
  macroAvg: AverageScores;
  weightedAvg: AverageScores;
  /** The report laid out exactly as scikit-learn's `classification_report`. */
  toString(): string;
}

/** Result of {@link entityReport}. */
export interface EntityReport {
  classes: ClassScores<string>[];
  microAvg: AverageScores;
  macroAvg: AverageScores;
  weightedAvg: AverageScores;
  /** The report laid out exactly as seqeval's `classification_report`. */
  toString(): string;
}

/** Value of a precision or recall of 0/0 (scikit-learn's and seqeval's `zero_division`). */
export type ZeroDivision = 0 | 1;

/** A labelled entity span: `start` and `end` are token indices, both inclusive. */
export interface Entity {
  type: string;
  start: number;
  end: number;
}

/** How entities are read from tags; see the module comment. */
export interface EntityOptions {
  /** `'default'` (conlleval-style, lenient; the default) or `'strict'`. */
  mode?: 'default' | 'strict';
  /** Tagging scheme for strict mode; only `'IOB2'` is supported (and is the default). */
  scheme?: 'IOB2';
}

// ---------------------------------------------------------------------------------------
// Validation and formatting helpers
// ---------------------------------------------------------------------------------------

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `${typeof x} ${String(x)}`;
  return typeof x;
}

/** Compare strings by Unicode code point, as Python's `sorted` does. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

/** Length in code points, as Python's `len` and format padding count. */
function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function padLeft(s: string, width: number): string {
  const n = codePointLength(s);
  return n >= width ? s : ' '.repeat(width - n) + s;
}

/**
 * Python's `format(x, f'.{digits}f')`: correctly rounded, ties to even. JavaScript's
 * `toFixed` is also correctly rounded but breaks exact ties upwards (0.125 → "0.13",
 * Python "0.12"), so exact ties are detected from the exact expansion and redone.
 * NaN and ±Infinity print as Python prints them ('nan', 'inf', '-inf').
 *
 * @throws {MetricsError} when `digits` is not an integer in 0…50.
 *
 * @example
 * ```ts
 * formatFixed(0.125, 2); // '0.12' (a tie: to even)
 * formatFixed(0.375, 2); // '0.38'
 * formatFixed(2 / 3, 2); // '0.67'
 * ```
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 50) {
    throw new MetricsError(`formatFixed: digits must be an integer in 0…50, got ${describe(digits)}`);
  }
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const rounded = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return rounded;
  const exact = x.toFixed(100); // exact for every double below 1e21 that can be a tie here
  const point = exact.indexOf('.');
  const tail = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(tail)) return rounded;
  const truncated = digits === 0 ? exact.slice(0, point) : exact.slice(0, point + 1 + digits);
  const lastDigit = Number(truncated[truncated.length - 1]);
  return lastDigit % 2 === 0 ? truncated : rounded;
}

function checkDigits(digits: unknown, fn: string): number {
  if (typeof digits !== 'number' || !Number.isInteger(digits) || digits < 0 || digits > 50) {
    throw new MetricsError(`${fn}: digits must be an integer in 0…50, got ${describe(digits)}`);
  }
  return digits;
}

function checkZeroDivision(z: unknown, fn: string): ZeroDivision {
  if (z !== 0 && z !== 1) throw new MetricsError(`${fn}: zeroDivision must be 0 or 1, got ${describe(z)}`);
  return z;
}

/** Check two label arrays: same length, each element a string or a finite number, one kind. */
function checkLabelArrays<L extends Label>(yTrue: readonly L[], yPred: readonly L[], fn: string): void {
  if (!Array.isArray(yTrue)) throw new MetricsError(`${fn}: yTrue must be an array of labels, got ${describe(yTrue)}`);
  if (!Array.isArray(yPred)) throw new MetricsError(`${fn}: yPred must be an array of labels, got ${describe(yPred)}`);
  if (yTrue.length !== yPred.length) {
    throw new MetricsError(`${fn}: yTrue and yPred must have the same length, got ${yTrue.length} and ${yPred.length}`);
  }
  let kind: 'string' | 'number' | undefined;
  const check = (arr: readonly unknown[], name: string): void => {
    arr.forEach((y, i) => {
      const k = typeof y === 'string' ? 'string' : typeof y === 'number' && Number.isFinite(y) ? 'number' : undefined;
      if (k === undefined) throw new MetricsError(`${fn}: ${name}[${i}] must be a string or a finite number, got ${describe(y)}`);
      if (kind === undefined) kind = k;
      else if (k !== kind) {
        throw new MetricsError(`${fn}: labels must be all strings or all numbers, but ${name}[${i}] is ${describe(y)} after a ${kind}`);
      }
    });
  };
  check(yTrue, 'yTrue');
  check(yPred, 'yPred');
}

function checkLabelsOption<L extends Label>(labels: readonly L[], fn: string): void {
  if (!Array.isArray(labels) || labels.length === 0) {
    throw new MetricsError(`${fn}: labels must be a non-empty array, got ${describe(labels)}`);
  }
  const seen = new Set<Label>();
  labels.forEach((l, i) => {
    if (typeof l !== 'string' && !(typeof l === 'number' && Number.isFinite(l))) {
      throw new MetricsError(`${fn}: labels[${i}] must be a string or a finite number, got ${describe(l)}`);
    }
    if (seen.has(l)) throw new MetricsError(`${fn}: labels[${i}] repeats the label ${describe(l)}`);
    seen.add(l);
  });
}

/** Sorted distinct labels of both arrays (scikit-learn's `unique_labels`). */
function uniqueLabels<L extends Label>(yTrue: readonly L[], yPred: readonly L[]): L[] {
  return [...new Set<L>([...yTrue, ...yPred])].sort(compareLabels);
}

/** Per-class counts → scores, following `precision_recall_fscore_support`. */
interface Counts {
  tp: number;
  pred: number;
  true: number;
}

function divide(num: number, den: number, zeroDivision: ZeroDivision): number {
  return den === 0 ? zeroDivision : num / den;
}

function f1Of(p: number, r: number): number {
  const denom = p + r;
  return denom === 0 ? 0 : (2 * p * r) / denom;
}

/**
 * Which reference's formulas: `'sklearn'` (scikit-learn >= 1.3) takes F1 from the counts,
 * 2·tp / (2·tp + fp + fn) = 2·tp / (true + pred) (`zeroDivision` when both are 0), and its
 * weighted average over labels that all have zero support is the plain mean; `'seqeval'`
 * takes F1 = 2·P·R / (P + R) and the zero-support special case described in the header.
 */
type Reference = 'sklearn' | 'seqeval';

function scoresOf(c: Counts, zeroDivision: ZeroDivision, ref: Reference): AverageScores {
  const precision = divide(c.tp, c.pred, zeroDivision);
  const recall = divide(c.tp, c.true, zeroDivision);
  const f1 = ref === 'sklearn' ? divide(2 * c.tp, c.true + c.pred, zeroDivision) : f1Of(precision, recall);
  return { precision, recall, f1, support: c.true };
}

function mean(xs: number[], weights?: number[]): number {
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    const w = weights ? weights[i]! : 1;
    num += x * w;
    den += w;
  });
  return num / den;
}

/** Micro, macro and weighted averages of per-class counts and scores. */
function averages(
  counts: Counts[],
  rows: AverageScores[],
  zeroDivision: ZeroDivision,
  ref: Reference,
): { microAvg: AverageScores; macroAvg: AverageScores; weightedAvg: AverageScores } {
  const sum = (k: keyof Counts): number => counts.reduce((a, c) => a + c[k], 0);
  const total: Counts = { tp: sum('tp'), pred: sum('pred'), true: sum('true') };
  const microAvg = scoresOf(total, zeroDivision, ref);
  const support = total.true;
  // Every support 0 (or no class at all): scikit-learn's special case of 'weighted'.
  const degenerate: AverageScores = {
    precision: total.pred === 0 ? zeroDivision : 0,
    recall: zeroDivision,
    f1: total.pred === 0 ? zeroDivision : 0,
    support,
  };
  const macroAvg: AverageScores =
    rows.length === 0
      ? degenerate
      : {
          precision: mean(rows.map((r) => r.precision)),
          recall: mean(rows.map((r) => r.recall)),
          f1: mean(rows.map((r) => r.f1)),
          support,
        };
  const weights = rows.map((r) => r.support);
  const weightedAvg: AverageScores =
    support === 0
      ? // scikit-learn >= 1.3 (`_nanaverage`): all weights zero → the unweighted mean.
        ref === 'sklearn' && rows.length > 0
        ? { ...macroAvg }
        : degenerate
      : {
          precision: mean(
            rows.map((r) => r.precision),
            weights,
          ),
          recall: mean(
            rows.map((r) => r.recall),
            weights,
          ),
          f1: mean(
            rows.map((r) => r.f1),
            weights,
          ),
          support,
        };
  return { microAvg, macroAvg, weightedAvg };
}

/** Header and row layout shared by scikit-learn's and seqeval's reports. */
const HEADERS = ['precision', 'recall', 'f1-score', 'support'] as const;
/** Both libraries size the name column for their longest fixed row name. */
const LONGEST_AVERAGE_NAME = 'weighted avg';
/** Width of every numeric column (`{:>9}`). */
const COLUMN_WIDTH = 9;

function headerLine(width: number): string {
  // '{:>{width}s} ' + ' {:>9}' * 4
  return `${padLeft('', width)} ${HEADERS.map((h) => ` ${padLeft(h, COLUMN_WIDTH)}`).join('')}`;
}

function rowLine(name: string, s: AverageScores, width: number, digits: number): string {
  // '{:>{width}s} ' + ' {:>9.{digits}f}' * 3 + ' {:>9}'
  const nums = [s.precision, s.recall, s.f1].map((x) => ` ${padLeft(formatFixed(x, digits), COLUMN_WIDTH)}`).join('');
  return `${padLeft(name, width)} ${nums} ${padLeft(String(s.support), COLUMN_WIDTH)}`;
}

function accuracyLine(acc: number, support: number, width: number, digits: number): string {
  // '{:>{width}s} ' + ' {:>9.{digits}}' * 2 + ' {:>9.{digits}f}' + ' {:>9}', blanks for P and R
  const blank = ` ${' '.repeat(COLUMN_WIDTH)}`;
  return `${padLeft('accuracy', width)} ${blank}${blank} ${padLeft(formatFixed(acc, digits), COLUMN_WIDTH)} ${padLeft(String(support), COLUMN_WIDTH)}`;
}

// ---------------------------------------------------------------------------------------
// Sample-level metrics (scikit-learn)
// ---------------------------------------------------------------------------------------

/**
 * Fraction of positions where the prediction equals the truth
 * (scikit-learn's `accuracy_score`).
 *
 * @throws {MetricsError} for arrays of different lengths, zero samples, or labels that
 *   are not all strings or all finite numbers.
 *
 * @example
 * ```ts
 * accuracy(['O', 'B-PER', 'O'], ['O', 'O', 'O']); // 0.6666666666666666
 * ```
 */
export function accuracy<L extends Label>(yTrue: readonly L[], yPred: readonly L[]): number {
  checkLabelArrays(yTrue, yPred, 'accuracy');
  if (yTrue.length === 0) throw new MetricsError('accuracy: yTrue and yPred are empty; the accuracy of zero samples is undefined');
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/**
 * Confusion matrix: `matrix[i][j]` counts samples of true label `labels[i]` predicted
 * as `labels[j]` (scikit-learn's `confusion_matrix`; rows are the truth).
 *
 * @param options.labels - the classes and their order; samples whose true or predicted
 *   label is not among them are not counted. Default: the sorted labels of both arrays.
 * @throws {MetricsError} for arrays of different lengths, mixed label kinds, or a bad
 *   `labels` option (empty, repeated).
 *
 * @example
 * ```ts
 * confusionMatrix(['a', 'b', 'b'], ['a', 'a', 'b']);
 * // → { labels: ['a', 'b'], matrix: [[1, 0], [1, 1]] }
 * ```
 */
export function confusionMatrix<L extends Label>(
  yTrue: readonly L[],
  yPred: readonly L[],
  options: { labels?: readonly L[] } = {},
): { labels: L[]; matrix: number[][] } {
  checkLabelArrays(yTrue, yPred, 'confusionMatrix');
  if (options.labels !== undefined) checkLabelsOption(options.labels, 'confusionMatrix');
  const labels = options.labels ? [...options.labels] : uniqueLabels(yTrue, yPred);
  const index = new Map<Label, number>(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => labels.map(() => 0));
  for (let k = 0; k < yTrue.length; k++) {
    const i = index.get(yTrue[k]!);
    const j = index.get(yPred[k]!);
    if (i !== undefined && j !== undefined) matrix[i]![j]!++;
  }
  return { labels, matrix };
}

/** Options of {@link classificationReport}. */
export interface ClassificationReportOptions<L extends Label> {
  /** Classes to report, in this order. Default: sorted labels of `yTrue` and `yPred`. */
  labels?: readonly L[];
  /** Display names, one per reported class. */
  targetNames?: readonly string[];
  /** Decimals printed by `toString()` (default 2). */
  digits?: number;
  /** Precision or recall of 0/0 (default 0). */
  zeroDivision?: ZeroDivision;
}

/**
 * Per-class precision, recall, F1 and support, their micro / macro / weighted averages
 * and the accuracy — scikit-learn's `classification_report`, whose text layout
 * `toString()` reproduces exactly.
 *
 * @throws {MetricsError} for arrays of different lengths, zero samples, mixed label
 *   kinds, a bad `labels`, `targetNames` of the wrong length, or a bad `digits` /
 *   `zeroDivision`.
 *
 * @example
 * ```ts
 * const r = classificationReport(['cat', 'dog', 'dog'], ['cat', 'cat', 'dog']);
 * r.classes[0]; // { label: 'cat', name: 'cat', precision: 0.5, recall: 1, f1: 0.666…, support: 1 }
 * console.log(r.toString());
 * //               precision    recall  f1-score   support
 * //
 * //          cat       0.50      1.00      0.67         1
 * //          dog       1.00      0.50      0.67         2
 * //
 * //     accuracy                           0.67         3
 * //    macro avg       0.75      0.75      0.67         3
 * // weighted avg       0.83      0.67      0.67         3
 * ```
 */
export function classificationReport<L extends Label>(
  yTrue: readonly L[],
  yPred: readonly L[],
  options: ClassificationReportOptions<L> = {},
): ClassificationReport<L> {
  const fn = 'classificationReport';
  checkLabelArrays(yTrue, yPred, fn);
  if (yTrue.length === 0) throw new MetricsError(`${fn}: yTrue and yPred are empty; there is nothing to report`);
  const digits = checkDigits(options.digits ?? 2, fn);
  const zeroDivision = checkZeroDivision(options.zeroDivision ?? 0, fn);
  const present = uniqueLabels(yTrue, yPred);
  let labels: L[];
  if (options.labels !== undefined) {
    checkLabelsOption(options.labels, fn);
    labels = [...options.labels];
    const kind = typeof yTrue[0];
    labels.forEach((l, i) => {
      if (typeof l !== kind) throw new MetricsError(`${fn}: labels[${i}] is ${describe(l)} but the samples' labels are ${kind}s`);
    });
  } else {
    labels = present;
  }
  const wanted = new Set<Label>(labels);
  // scikit-learn: labels given but covering every label present → still 'accuracy'.
  const microIsAccuracy = present.every((l) => wanted.has(l));

  let names: string[];
  if (options.targetNames !== undefined) {
    const t = options.targetNames;
    if (!Array.isArray(t) || t.length !== labels.length || t.some((n) => typeof n !== 'string')) {
      throw new MetricsError(
        `${fn}: targetNames must be ${labels.length} strings, one per class (${labels.map(String).join(', ')}), got ${describe(t)}`,
      );
    }
    names = [...t];
  } else {
    names = labels.map((l) => String(l));
  }

  const index = new Map<Label, number>(labels.map((l, i) => [l, i]));
  const counts: Counts[] = labels.map(() => ({ tp: 0, pred: 0, true: 0 }));
  let correct = 0;
  for (let k = 0; k < yTrue.length; k++) {
    const t = yTrue[k]!;
    const p = yPred[k]!;
    if (t === p) correct++;
    const i = index.get(t);
    const j = index.get(p);
    if (i !== undefined) counts[i]!.true++;
    if (j !== undefined) counts[j]!.pred++;
    if (i !== undefined && t === p) counts[i]!.tp++;
  }
  const rows = counts.map((c) => scoresOf(c, zeroDivision, 'sklearn'));
  const classes: ClassScores<L>[] = rows.map((r, i) => ({ label: labels[i]!, name: names[i]!, ...r }));
  const { microAvg, macroAvg, weightedAvg } = averages(counts, rows, zeroDivision, 'sklearn');
  const acc = correct / yTrue.length;

  const toString = (): string => {
    const width = Math.max(...names.map(codePointLength), LONGEST_AVERAGE_NAME.length, digits);
    let out = `${headerLine(width)}\n\n`;
    for (const c of classes) out += `${rowLine(c.name, c, width, digits)}\n`;
    out += '\n';
    out += microIsAccuracy
      ? `${accuracyLine(microAvg.f1, microAvg.support, width, digits)}\n`
      : `${rowLine('micro avg', microAvg, width, digits)}\n`;
    out += `${rowLine('macro avg', macroAvg, width, digits)}\n`;
    out += `${rowLine('weighted avg', weightedAvg, width, digits)}\n`;
    return out;
  };
  return { classes, accuracy: acc, microAvg, macroAvg, weightedAvg, toString };
}

// ---------------------------------------------------------------------------------------
// Entity-level metrics (seqeval)
// ---------------------------------------------------------------------------------------

interface ParsedTag {
  /** 'O', 'B', 'I', 'E' or 'S'. */
  prefix: string;
  /** Entity type; '_' for 'O' as in seqeval (never equal to a real type's handling). */
  type: string;
}

const TAG_PATTERN = /^([BIES])-(.+)$/s;

function parseTag(tag: unknown, where: string, allowed: string): ParsedTag {
  if (tag === 'O') return { prefix: 'O', type: '_' };
  const m = typeof tag === 'string' ? TAG_PATTERN.exec(tag) : null;
  if (m === null || !allowed.includes(m[1]!)) {
    const forms = [...allowed].map((p) => `'${p}-TYPE'`).join(', ');
    throw new MetricsError(`${where}: expected 'O' or ${forms}, got ${describe(tag)}`);
  }
  return { prefix: m[1]!, type: m[2]! };
}

/** seqeval `end_of_chunk`: did a chunk end between the previous and the current tag? */
function endOfChunk(prev: ParsedTag, cur: ParsedTag): boolean {
  const p = prev.prefix;
  const t = cur.prefix;
  if (p === 'E' || p === 'S') return true;
  if ((p === 'B' || p === 'I') && (t === 'B' || t === 'S' || t === 'O')) return true;
  return p !== 'O' && prev.type !== cur.type;
}

/** seqeval `start_of_chunk`: does a chunk start at the current tag? */
function startOfChunk(prev: ParsedTag, cur: ParsedTag): boolean {
  const p = prev.prefix;
  const t = cur.prefix;
  if (t === 'B' || t === 'S') return true;
  if ((p === 'E' || p === 'S' || p === 'O') && (t === 'E' || t === 'I')) return true;
  return t !== 'O' && prev.type !== cur.type;
}

function checkEntityOptions(options: EntityOptions, fn: string): 'default' | 'strict' {
  const mode = options.mode ?? 'default';
  if (mode !== 'default' && mode !== 'strict') {
    throw new MetricsError(`${fn}: mode must be 'default' or 'strict', got ${describe(mode)}`);
  }
  if (options.scheme !== undefined && options.scheme !== 'IOB2') {
    throw new MetricsError(`${fn}: scheme must be 'IOB2' (the only scheme supported), got ${describe(options.scheme)}`);
  }
  return mode;
}

function checkTagSequence(tags: unknown, where: string): asserts tags is readonly string[] {
  if (!Array.isArray(tags)) throw new MetricsError(`${where} must be an array of tags, got ${describe(tags)}`);
}

function entitiesOf(tags: readonly string[], mode: 'default' | 'strict', where: string): Entity[] {
  const entities: Entity[] = [];
  if (mode === 'strict') {
    // IOB2, seqeval.scheme.IOB2: start = B-X; inside = I-X after B-X / I-X; anything else ends it.
    let current: Entity | undefined;
    tags.forEach((tag, i) => {
      const t = parseTag(tag, `${where}[${i}]`, 'BI');
      if (current !== undefined && t.prefix === 'I' && t.type === current.type) {
        current.end = i;
        return;
      }
      if (current !== undefined) entities.push(current);
      current = t.prefix === 'B' ? { type: t.type, start: i, end: i } : undefined;
    });
    if (current !== undefined) entities.push(current);
    return entities;
  }
  // Default mode: seqeval get_entities, a sentinel 'O' closing the last chunk.
  let prev: ParsedTag = { prefix: 'O', type: '' };
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const cur = i < tags.length ? parseTag(tags[i], `${where}[${i}]`, 'BIES') : { prefix: 'O', type: '_' };
    if (endOfChunk(prev, cur)) entities.push({ type: prev.type, start: begin, end: i - 1 });
    if (startOfChunk(prev, cur)) begin = i;
    prev = cur;
  }
  return entities;
}

/**
 * The entities of one sentence's tags, as seqeval's `get_entities` (default mode) or its
 * strict IOB2 reading. Spans are `{ type, start, end }` with `end` inclusive.
 *
 * Default mode is lenient, like conlleval: `I-X` after `O` (or after another type)
 * starts an entity, and the sentence end closes the open one. Strict mode keeps only
 * entities that begin with `B-X` and continue with `I-X`.
 *
 * @throws {MetricsError} for a tag that is not `O`, `B-…`, `I-…` (or, in default mode,
 *   `E-…`, `S-…`), or a bad option.
 *
 * @example
 * ```ts
 * getEntities(['B-PER', 'I-PER', 'O', 'I-LOC']);
 * // → [{ type: 'PER', start: 0, end: 1 }, { type: 'LOC', start: 3, end: 3 }]
 * getEntities(['B-PER', 'I-PER', 'O', 'I-LOC'], { mode: 'strict', scheme: 'IOB2' });
 * // → [{ type: 'PER', start: 0, end: 1 }]
 * ```
 */
export function getEntities(tags: readonly string[], options: EntityOptions = {}): Entity[] {
  const mode = checkEntityOptions(options, 'getEntities');
  checkTagSequence(tags, 'getEntities: tags');
  return entitiesOf(tags, mode, 'getEntities: tags');
}

/** Options of {@link entityReport}. */
export interface EntityReportOptions extends EntityOptions {
  /** Decimals printed by `toString()` (default 2). */
  digits?: number;
  /** Precision or recall of 0/0 (default 0). */
  zeroDivision?: ZeroDivision;
}

function checkSequences(trueSeqs: unknown, predSeqs: unknown, fn: string): void {
  if (!Array.isArray(trueSeqs)) throw new MetricsError(`${fn}: trueSeqs must be an array of tag arrays, got ${describe(trueSeqs)}`);
  if (!Array.isArray(predSeqs)) throw new MetricsError(`${fn}: predSeqs must be an array of tag arrays, got ${describe(predSeqs)}`);
  if (trueSeqs.length !== predSeqs.length) {
    throw new MetricsError(`${fn}: trueSeqs and predSeqs must hold the same number of sentences, got ${trueSeqs.length} and ${predSeqs.length}`);
  }
  trueSeqs.forEach((t, s) => {
    const p: unknown = predSeqs[s];
    checkTagSequence(t, `${fn}: trueSeqs[${s}]`);
    checkTagSequence(p, `${fn}: predSeqs[${s}]`);
    if (t.length !== p.length) {
      throw new MetricsError(`${fn}: sentence ${s} has ${t.length} true tags but ${p.length} predicted tags`);
    }
  });
}

/** Per-type sets of entity keys (sentence, start, end) of a corpus. */
function entitySets(seqs: readonly (readonly string[])[], mode: 'default' | 'strict', where: string): Map<string, Set<string>> {
  const byType = new Map<string, Set<string>>();
  seqs.forEach((tags, s) => {
    for (const e of entitiesOf(tags, mode, `${where}[${s}]`)) {
      let set = byType.get(e.type);
      if (set === undefined) byType.set(e.type, (set = new Set()));
      set.add(`${s}:${e.start}:${e.end}`);
    }
  });
  return byType;
}

function entityCounts(
  trueSeqs: readonly (readonly string[])[],
  predSeqs: readonly (readonly string[])[],
  mode: 'default' | 'strict',
  fn: string,
): { types: string[]; counts: Counts[] } {
  const t = entitySets(trueSeqs, mode, `${fn}: trueSeqs`);
  const p = entitySets(predSeqs, mode, `${fn}: predSeqs`);
  const types = [...new Set([...t.keys(), ...p.keys()])].sort(compareCodePoints);
  const counts = types.map((type) => {
    const ts = t.get(type) ?? new Set<string>();
    const ps = p.get(type) ?? new Set<string>();
    let tp = 0;
    for (const k of ps) if (ts.has(k)) tp++;
    return { tp, pred: ps.size, true: ts.size };
  });
  return { types, counts };
}

/**
 * Entity-level precision, recall, F1 and support per entity type, with micro / macro /
 * weighted averages — seqeval's `classification_report`; `toString()` reproduces its
 * layout exactly. Classes are the entity types found in either input, sorted.
 *
 * @param trueSeqs - gold tags, one array per sentence.
 * @param predSeqs - predicted tags, same shape.
 * @param options - `mode` ('default' | 'strict'), `scheme` ('IOB2'), `digits` (2),
 *   `zeroDivision` (0).
 * @throws {MetricsError} for a different number of sentences or of tags in a sentence
 *   (naming the sentence), an invalid tag, or a bad option.
 *
 * @example
 * ```ts
 * const yTrue = [['O', 'B-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
 * const yPred = [['B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
 * const r = entityReport(yTrue, yPred);
 * r.microAvg.f1; // 0.5
 * console.log(r.toString());
 * //               precision    recall  f1-score   support
 * //
 * //         MISC       0.00      0.00      0.00         1
 * //          PER       1.00      1.00      1.00         1
 * //
 * //    micro avg       0.50      0.50      0.50         2
 * //    macro avg       0.50      0.50      0.50         2
 * // weighted avg       0.50      0.50      0.50         2
 * ```
 */
export function entityReport(
  trueSeqs: readonly (readonly string[])[],
  predSeqs: readonly (readonly string[])[],
  options: EntityReportOptions = {},
): EntityReport {
  const fn = 'entityReport';
  const mode = checkEntityOptions(options, fn);
  const digits = checkDigits(options.digits ?? 2, fn);
  const zeroDivision = checkZeroDivision(options.zeroDivision ?? 0, fn);
  checkSequences(trueSeqs, predSeqs, fn);
  const { types, counts } = entityCounts(trueSeqs, predSeqs, mode, fn);
  const rows = counts.map((c) => scoresOf(c, zeroDivision, 'seqeval'));
  const classes: ClassScores<string>[] = rows.map((r, i) => ({ label: types[i]!, name: types[i]!, ...r }));
  const { microAvg, macroAvg, weightedAvg } = averages(counts, rows, zeroDivision, 'seqeval');
  const toString = (): string => {
    const width = Math.max(...types.map(codePointLength), LONGEST_AVERAGE_NAME.length, digits);
    const lines = classes.map((c) => rowLine(c.name, c, width, digits));
    lines.push('');
    lines.push(rowLine('micro avg', microAvg, width, digits));
    lines.push(rowLine('macro avg', macroAvg, width, digits));
    lines.push(rowLine('weighted avg', weightedAvg, width, digits));
    lines.push('');
    return `${headerLine(width)}\n\n${lines.join('\n')}`;
  };
  return { classes, microAvg, macroAvg, weightedAvg, toString };
}

/**
 * Entity-level micro F1 (seqeval's `f1_score`, the CoNLL-2003 headline number).
 *
 * @throws {MetricsError} as {@link entityReport}.
 *
 * @example
 * ```ts
 * entityF1([['B-PER', 'I-PER', 'O']], [['B-PER', 'O', 'O']]); // 0
 * entityF1([['B-PER', 'O', 'B-LOC']], [['B-PER', 'O', 'O']]); // 0.6666666666666666
 * ```
 */
export function entityF1(
  trueSeqs: readonly (readonly string[])[],
  predSeqs: readonly (readonly string[])[],
  options: EntityOptions & { zeroDivision?: ZeroDivision } = {},
): number {
  const fn = 'entityF1';
  const mode = checkEntityOptions(options, fn);
  const zeroDivision = checkZeroDivision(options.zeroDivision ?? 0, fn);
  checkSequences(trueSeqs, predSeqs, fn);
  const { counts } = entityCounts(trueSeqs, predSeqs, mode, fn);
  const total: Counts = counts.reduce((a, c) => ({ tp: a.tp + c.tp, pred: a.pred + c.pred, true: a.true + c.true }), {
    tp: 0,
    pred: 0,
    true: 0,
  });
  return scoresOf(total, zeroDivision, 'seqeval').f1;
}
