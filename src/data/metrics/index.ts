/**
 * Evaluation metrics: sample-level (scikit-learn's accuracy, confusion matrix and
 * classification report; classification.ts) and entity-level (seqeval; seqeval.ts), with the
 * report types and text layout they share (report.ts).
 */
export { accuracy, confusionMatrix, classificationReport } from './classification.js';
export type { ClassificationReportOptions } from './classification.js';
export { getEntities, entityReport, entityF1 } from './seqeval.js';
export type { EntityReportOptions } from './seqeval.js';
export { MetricsError, formatFixed } from './report.js';
export type { Label, ClassScores, AverageScores, ClassificationReport, EntityReport, ZeroDivision, Entity, EntityOptions } from './report.js';
