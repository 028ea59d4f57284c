/**
 * Entity-level metrics, seqeval's reports reproduced character for character (sample-level
 * metrics: classification.ts; shared types and formatting: report.ts; tag parsing: tags.ts).
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
import { describeArg as describe } from '../describe.js';
import { MetricsError, ClassScores, Counts, Entity, EntityOptions, EntityReport, LONGEST_AVERAGE_NAME, ZeroDivision, averages, checkDigits, checkZeroDivision, codePointLength, compareCodePoints, headerLine, rowLine, scoresOf } from './report.js';
import { ParsedTag, parseTag, endOfChunk, startOfChunk } from './tags.js';
// ---------------------------------------------------------------------------------------
// Entity-level metrics (seqeval)
// ---------------------------------------------------------------------------------------

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
