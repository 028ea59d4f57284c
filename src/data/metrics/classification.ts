/**
 * Sample-level classification metrics, scikit-learn's reports reproduced character for
 * character (entity-level metrics: seqeval.ts; shared types and formatting: report.ts).
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
 */
import { describeArg as describe } from '../describe.js';
import { MetricsError, ClassScores, ClassificationReport, Counts, LONGEST_AVERAGE_NAME, Label, ZeroDivision, accuracyLine, averages, checkDigits, checkLabelArrays, checkLabelsOption, checkZeroDivision, codePointLength, headerLine, rowLine, scoresOf, uniqueLabels } from './report.js';
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
