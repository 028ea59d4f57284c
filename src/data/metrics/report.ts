/**
 * What the sample-level (classification.ts) and entity-level (seqeval.ts) metrics share: the
 * error type, the report types, argument checks, the averages and the report's text layout.
 */
import { describeArg as describe } from '../describe.js';

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
  /** One row per class: precision, recall, F1 and support, in the order of `labels` (default: the labels present, sorted). */
  classes: ClassScores<L>[];
  /** Fraction of samples whose prediction equals the truth (over all samples). */
  accuracy: number;
  /** Scores from the counts pooled over all classes (equal to accuracy when every label present is reported). */
  microAvg: AverageScores;
  /** Unweighted mean of the per-class scores. */
  macroAvg: AverageScores;
  /** Mean of the per-class scores weighted by each class's support. */
  weightedAvg: AverageScores;
  /** The report laid out exactly as scikit-learn's `classification_report`. */
  toString(): string;
}

/** Result of {@link entityReport}. */
export interface EntityReport {
  /** One row per entity type found in either input (sorted): precision, recall, F1 and support (gold entities). */
  classes: ClassScores<string>[];
  /** Scores from the entity counts pooled over all types (the CoNLL headline F1). */
  microAvg: AverageScores;
  /** Unweighted mean of the per-type scores. */
  macroAvg: AverageScores;
  /** Mean of the per-type scores weighted by each type's support. */
  weightedAvg: AverageScores;
  /** The report laid out exactly as seqeval's `classification_report`. */
  toString(): string;
}

/** Value of a precision or recall of 0/0 (scikit-learn's and seqeval's `zero_division`). */
export type ZeroDivision = 0 | 1;

/** A labelled entity span: `start` and `end` are token indices, both inclusive. */
export interface Entity {
  /** The entity type, e.g. 'PER' from the tags 'B-PER' / 'I-PER'. */
  type: string;
  /** Index of the entity's first token (inclusive). */
  start: number;
  /** Index of the entity's last token (inclusive). */
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


/** Compare strings by Unicode code point, as Python's `sorted` does. */
export function compareCodePoints(a: string, b: string): number {
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

export function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

/** Length in code points, as Python's `len` and format padding count. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function padLeft(s: string, width: number): string {
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

export function checkDigits(digits: unknown, fn: string): number {
  if (typeof digits !== 'number' || !Number.isInteger(digits) || digits < 0 || digits > 50) {
    throw new MetricsError(`${fn}: digits must be an integer in 0…50, got ${describe(digits)}`);
  }
  return digits;
}

export function checkZeroDivision(z: unknown, fn: string): ZeroDivision {
  if (z !== 0 && z !== 1) throw new MetricsError(`${fn}: zeroDivision must be 0 or 1, got ${describe(z)}`);
  return z;
}

/** Check two label arrays: same length, each element a string or a finite number, one kind. */
export function checkLabelArrays<L extends Label>(yTrue: readonly L[], yPred: readonly L[], fn: string): void {
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

export function checkLabelsOption<L extends Label>(labels: readonly L[], fn: string): void {
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
export function uniqueLabels<L extends Label>(yTrue: readonly L[], yPred: readonly L[]): L[] {
  return [...new Set<L>([...yTrue, ...yPred])].sort(compareLabels);
}

/** Per-class counts → scores, following `precision_recall_fscore_support`. */
export interface Counts {
  tp: number;
  pred: number;
  true: number;
}

export function divide(num: number, den: number, zeroDivision: ZeroDivision): number {
  return den === 0 ? zeroDivision : num / den;
}

export function f1Of(p: number, r: number): number {
  const denom = p + r;
  return denom === 0 ? 0 : (2 * p * r) / denom;
}

/**
 * Which reference's formulas: `'sklearn'` (scikit-learn >= 1.3) takes F1 from the counts,
 * 2·tp / (2·tp + fp + fn) = 2·tp / (true + pred) (`zeroDivision` when both are 0), and its
 * weighted average over labels that all have zero support is the plain mean; `'seqeval'`
 * takes F1 = 2·P·R / (P + R) and the zero-support special case described in the header.
 */
export type Reference = 'sklearn' | 'seqeval';

export function scoresOf(c: Counts, zeroDivision: ZeroDivision, ref: Reference): AverageScores {
  const precision = divide(c.tp, c.pred, zeroDivision);
  const recall = divide(c.tp, c.true, zeroDivision);
  const f1 = ref === 'sklearn' ? divide(2 * c.tp, c.true + c.pred, zeroDivision) : f1Of(precision, recall);
  return { precision, recall, f1, support: c.true };
}

export function mean(xs: number[], weights?: number[]): number {
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
export function averages(
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
export const HEADERS = ['precision', 'recall', 'f1-score', 'support'] as const;
/** Both libraries size the name column for their longest fixed row name. */
export const LONGEST_AVERAGE_NAME = 'weighted avg';
/** Width of every numeric column (`{:>9}`). */
export const COLUMN_WIDTH = 9;

export function headerLine(width: number): string {
  // '{:>{width}s} ' + ' {:>9}' * 4
  return `${padLeft('', width)} ${HEADERS.map((h) => ` ${padLeft(h, COLUMN_WIDTH)}`).join('')}`;
}

export function rowLine(name: string, s: AverageScores, width: number, digits: number): string {
  // '{:>{width}s} ' + ' {:>9.{digits}f}' * 3 + ' {:>9}'
  const nums = [s.precision, s.recall, s.f1].map((x) => ` ${padLeft(formatFixed(x, digits), COLUMN_WIDTH)}`).join('');
  return `${padLeft(name, width)} ${nums} ${padLeft(String(s.support), COLUMN_WIDTH)}`;
}

export function accuracyLine(acc: number, support: number, width: number, digits: number): string {
  // '{:>{width}s} ' + ' {:>9.{digits}}' * 2 + ' {:>9.{digits}f}' + ' {:>9}', blanks for P and R
  const blank = ` ${' '.repeat(COLUMN_WIDTH)}`;
  return `${padLeft('accuracy', width)} ${blank}${blank} ${padLeft(formatFixed(acc, digits), COLUMN_WIDTH)} ${padLeft(String(support), COLUMN_WIDTH)}`;
}
