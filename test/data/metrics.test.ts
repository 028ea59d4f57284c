/**
 * Tests of src/data/metrics.ts.
 *
 * - scikit-learn's classification_report: golden values and text from
 *   test/fixtures/metrics/sklearn-classification-report.json (made by gen.py beside it,
 *   scikit-learn 1.9.1).
 * - seqeval: seqeval is not packaged for Debian, so its cases are computed by hand here,
 *   the arithmetic in a comment above each assertion; two are seqeval's own docstring
 *   and README examples, quoted with their printed output.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  classificationReport,
  confusionMatrix,
  entityF1,
  entityReport,
  formatFixed,
  getEntities,
  MetricsError,
  type ZeroDivision,
} from '../../src/data/metrics/index.js';

interface GoldenCase {
  name: string;
  yTrue: (string | number)[];
  yPred: (string | number)[];
  options: { labels?: (string | number)[]; targetNames?: string[]; digits?: number; zeroDivision?: ZeroDivision };
  accuracy: number;
  confusionMatrix: number[][] | { error: string };
  report: string;
  dict: Record<string, { precision: number; recall: number; 'f1-score': number; support: number } | number>;
}

const golden = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/metrics/sklearn-classification-report.json', import.meta.url)), 'utf8'),
) as { sklearn: string; cases: GoldenCase[] };

describe('formatFixed (Python format(x, ".Nf"))', () => {
  it('rounds exact ties to even, as Python does', () => {
    // 0.125, 0.375, 0.625 are exact binary fractions, so they are true ties at 2 digits.
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(0.625, 2)).toBe('0.62');
    expect(formatFixed(0.5, 0)).toBe('0');
    expect(formatFixed(1.5, 0)).toBe('2');
    expect(formatFixed(2.5, 0)).toBe('2');
  });
  it('rounds non-ties to nearest', () => {
    // 0.145 is stored as 0.14499999999999999001…, so Python prints 0.14 (not a tie).
    expect(formatFixed(0.145, 2)).toBe('0.14');
    expect(formatFixed(2 / 3, 2)).toBe('0.67');
    expect(formatFixed(1, 4)).toBe('1.0000');
    expect(formatFixed(0, 2)).toBe('0.00');
    expect(formatFixed(0.1, 1)).toBe('0.1');
  });
  it('is within half a unit of the last digit of the value', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 6 }), (x, d) => {
        const s = formatFixed(x, d);
        expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(0.5 * 10 ** -d + 1e-15);
        expect(s.split('.')[1]?.length ?? 0).toBe(d);
      }),
    );
  });
  it('rejects a bad digits argument', () => {
    expect(() => formatFixed(0.5, -1)).toThrow(MetricsError);
    expect(() => formatFixed(0.5, 1.5)).toThrow(/digits must be an integer/);
  });
});

describe('accuracy and confusionMatrix', () => {
  it('computes a hand-checked accuracy', () => {
    // 2 of 3 positions agree.
    expect(accuracy(['O', 'B-PER', 'O'], ['O', 'O', 'O'])).toBeCloseTo(2 / 3, 15);
    expect(accuracy([1, 2], [1, 2])).toBe(1);
  });
  it('builds a confusion matrix with rows = truth, columns = prediction', () => {
    expect(confusionMatrix(['a', 'b', 'b'], ['a', 'a', 'b'])).toEqual({
      labels: ['a', 'b'],
      matrix: [
        [1, 0],
        [1, 1],
      ],
    });
    // Explicit labels reorder and drop samples outside them ('c').
    expect(confusionMatrix(['a', 'b', 'c'], ['b', 'b', 'a'], { labels: ['b', 'a'] }).matrix).toEqual([
      [1, 0],
      [1, 0],
    ]);
    // Numbers sort numerically (10 after 9), as numpy does.
    expect(confusionMatrix([10, 9], [9, 9]).labels).toEqual([9, 10]);
  });
  it('throws MetricsError on mismatched lengths, empty input, mixed kinds', () => {
    expect(() => accuracy(['a'], ['a', 'b'])).toThrow(/same length, got 1 and 2/);
    expect(() => accuracy([], [])).toThrow(MetricsError);
    expect(() => accuracy(['a', 1] as (string | number)[], ['a', 1] as (string | number)[])).toThrow(/all strings or all numbers/);
    expect(() => accuracy([NaN], [NaN])).toThrow(/finite number/);
    expect(() => confusionMatrix(['a'], ['a'], { labels: ['a', 'a'] })).toThrow(/repeats/);
    expect(confusionMatrix([], [])).toEqual({ labels: [], matrix: [] });
  });
});

describe(`classificationReport against scikit-learn ${golden.sklearn}`, () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const r = classificationReport(c.yTrue, c.yPred, c.options);
      expect(r.toString()).toBe(c.report);
      expect(r.accuracy).toBeCloseTo(c.accuracy, 12);
      for (const cls of r.classes) {
        const g = c.dict[cls.name] as { precision: number; recall: number; 'f1-score': number; support: number };
        expect(cls.precision).toBeCloseTo(g.precision, 12);
        expect(cls.recall).toBeCloseTo(g.recall, 12);
        // F1 from counts, 2·tp / (2·tp + fp + fn), is the very same double as scikit-learn's
        expect(cls.f1).toBe(g['f1-score']);
        expect(cls.support).toBe(g.support);
      }
      const avg = (name: string) => c.dict[name] as { precision: number; recall: number; 'f1-score': number };
      for (const [name, got] of [
        ['macro avg', r.macroAvg],
        ['weighted avg', r.weightedAvg],
      ] as const) {
        expect(got.precision).toBeCloseTo(avg(name).precision, 12);
        expect(got.recall).toBeCloseTo(avg(name).recall, 12);
        expect(got.f1).toBeCloseTo(avg(name)['f1-score'], 12);
      }
      if ('micro avg' in c.dict) expect(r.microAvg.f1).toBeCloseTo(avg('micro avg')['f1-score'], 12);
      else expect(r.microAvg.f1).toBeCloseTo(c.dict.accuracy as number, 12);
      // (scikit-learn's confusion_matrix refuses labels of which none is in yTrue; ours counts them)
      if (Array.isArray(c.confusionMatrix)) {
        expect(confusionMatrix(c.yTrue, c.yPred, { labels: c.options.labels }).matrix).toEqual(c.confusionMatrix);
      }
    });
  }

  it('prints F1 from counts: tp 1, fp 4, fn 10 → 0.125 → "0.12" (2·P·R/(P+R) would print 0.13)', () => {
    const r = classificationReport([...'a'.repeat(11), ...'b'.repeat(4)], ['a', ...'b'.repeat(10), ...'a'.repeat(4)]);
    expect(r.classes[0]!.f1).toBe(0.125);
    expect(r.toString().split('\n')[2]).toBe('           a       0.20      0.09      0.12        11');
  });

  it('weighted average when every listed label has zero support: the plain mean (scikit-learn 1.9)', () => {
    const r = classificationReport(['a', 'a', 'b'], ['x', 'a', 'b'], { labels: ['x', 'y'], zeroDivision: 1 });
    expect(r.weightedAvg).toEqual({ precision: 0.5, recall: 1, f1: 0.5, support: 0 });
    expect(r.classes.map((c) => c.f1)).toEqual([0, 1]);
  });

  it('has micro P = R = F1 = accuracy when every class is reported', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: n, maxLength: n }), fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: n, maxLength: n })),
        ),
        ([yTrue, yPred]) => {
          const r = classificationReport(yTrue, yPred);
          const acc = accuracy(yTrue, yPred);
          expect(r.microAvg.precision).toBeCloseTo(acc, 12);
          expect(r.microAvg.recall).toBeCloseTo(acc, 12);
          expect(r.microAvg.f1).toBeCloseTo(acc, 12);
          expect(r.toString()).toContain('    accuracy ');
          expect(r.classes.reduce((s, c) => s + c.support, 0)).toBe(yTrue.length);
        },
      ),
    );
  });

  it('rejects bad arguments with a MetricsError naming them', () => {
    expect(() => classificationReport([], [])).toThrow(MetricsError);
    expect(() => classificationReport(['a', 'b'], ['a'])).toThrow(/same length, got 2 and 1/);
    expect(() => classificationReport(['a', 'b'], ['a', 'b'], { targetNames: ['x'] })).toThrow(/targetNames must be 2 strings/);
    expect(() => classificationReport(['a'], ['a'], { digits: -1 })).toThrow(/digits must be an integer/);
    expect(() => classificationReport(['a'], ['a'], { zeroDivision: 2 as ZeroDivision })).toThrow(/zeroDivision must be 0 or 1/);
    expect(() => classificationReport(['a'], ['a'], { labels: [1] as unknown as string[] })).toThrow(/labels\[0\] is number 1/);
  });
});

describe('getEntities (seqeval default and strict IOB2)', () => {
  it("matches seqeval's docstring example", () => {
    // >>> get_entities(['B-PER', 'I-PER', 'O', 'B-LOC'])  → [('PER', 0, 1), ('LOC', 3, 3)]
    expect(getEntities(['B-PER', 'I-PER', 'O', 'B-LOC'])).toEqual([
      { type: 'PER', start: 0, end: 1 },
      { type: 'LOC', start: 3, end: 3 },
    ]);
  });
  it('starts an entity at an I- without B- in default mode, not in strict mode', () => {
    expect(getEntities(['O', 'I-ORG', 'I-ORG', 'O'])).toEqual([{ type: 'ORG', start: 1, end: 2 }]);
    expect(getEntities(['O', 'I-ORG', 'I-ORG', 'O'], { mode: 'strict', scheme: 'IOB2' })).toEqual([]);
  });
  it('closes an entity at the sentence end', () => {
    expect(getEntities(['O', 'B-PER', 'I-PER'])).toEqual([{ type: 'PER', start: 1, end: 2 }]);
    expect(getEntities(['O', 'B-PER', 'I-PER'], { mode: 'strict' })).toEqual([{ type: 'PER', start: 1, end: 2 }]);
  });
  it('splits on a type change and on B- after B-', () => {
    // default: B-PER | I-LOC starts a LOC (type change); strict: the I-LOC is stray.
    expect(getEntities(['B-PER', 'I-LOC', 'B-LOC', 'B-LOC'])).toEqual([
      { type: 'PER', start: 0, end: 0 },
      { type: 'LOC', start: 1, end: 1 },
      { type: 'LOC', start: 2, end: 2 },
      { type: 'LOC', start: 3, end: 3 },
    ]);
    expect(getEntities(['B-PER', 'I-LOC', 'B-LOC', 'B-LOC'], { mode: 'strict' })).toEqual([
      { type: 'PER', start: 0, end: 0 },
      { type: 'LOC', start: 2, end: 2 },
      { type: 'LOC', start: 3, end: 3 },
    ]);
  });
  it('reads IOBES in default mode as seqeval does', () => {
    expect(getEntities(['S-PER', 'B-LOC', 'E-LOC', 'O', 'E-MISC'])).toEqual([
      { type: 'PER', start: 0, end: 0 },
      { type: 'LOC', start: 1, end: 2 },
      { type: 'MISC', start: 4, end: 4 },
    ]);
  });
  it('throws MetricsError for invalid tags and options', () => {
    expect(() => getEntities(['B-PER', 'PER'])).toThrow(/tags\[1\]: expected 'O' or 'B-TYPE'.*"PER"/);
    expect(() => getEntities(['B-'])).toThrow(MetricsError);
    expect(() => getEntities(['S-PER'], { mode: 'strict' })).toThrow(/expected 'O' or 'B-TYPE', 'I-TYPE'/);
    expect(() => getEntities(['O'], { mode: 'lenient' as 'strict' })).toThrow(/mode must be/);
    expect(() => getEntities(['O'], { scheme: 'IOBES' as 'IOB2' })).toThrow(/scheme must be 'IOB2'/);
  });
  it('never finds more strict entities than tokens, and every strict entity starts with B-', () => {
    const tag = fc.constantFrom('O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC');
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 30 }), (tags) => {
        const strict = getEntities(tags, { mode: 'strict' });
        for (const e of strict) {
          expect(tags[e.start]).toBe(`B-${e.type}`);
          for (let i = e.start + 1; i <= e.end; i++) expect(tags[i]).toBe(`I-${e.type}`);
        }
        // Every strict entity is also a default-mode entity (lenient reading only adds).
        const lenient = new Set(getEntities(tags).map((e) => `${e.type}:${e.start}:${e.end}`));
        for (const e of strict) expect(lenient.has(`${e.type}:${e.start}:${e.end}`)).toBe(true);
      }),
    );
  });
});

describe('entityReport / entityF1 (seqeval classification_report, f1_score)', () => {
  it("reproduces seqeval's docstring example exactly", () => {
    const yTrue = [
      ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const yPred = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const expected = [
      '              precision    recall  f1-score   support',
      '',
      '        MISC       0.00      0.00      0.00         1',
      '         PER       1.00      1.00      1.00         1',
      '',
      '   micro avg       0.50      0.50      0.50         2',
      '   macro avg       0.50      0.50      0.50         2',
      'weighted avg       0.50      0.50      0.50         2',
      '',
    ].join('\n');
    expect(entityReport(yTrue, yPred).toString()).toBe(expected);
    expect(entityF1(yTrue, yPred)).toBe(0.5);
  });

  it("matches seqeval's f1_score docstring (micro 2/3, macro 0.75, per class [0.5, 1])", () => {
    // MISC: true {(0,2,3), (0,4,4)}, pred {(0,2,3), (0,4,5)} → tp 1, P = R = F = 1/2.
    // PER: 1 of 1. micro: tp 2 / pred 3 / true 3 → 2/3. weighted: (0.5·2 + 1·1)/3 = 2/3.
    const yTrue = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'O', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const yPred = [
      ['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'I-MISC', 'O'],
      ['B-PER', 'I-PER', 'O'],
    ];
    const r = entityReport(yTrue, yPred);
    expect(r.classes.map((c) => [c.label, c.f1, c.support])).toEqual([
      ['MISC', 0.5, 2],
      ['PER', 1, 1],
    ]);
    expect(r.microAvg.f1).toBeCloseTo(2 / 3, 15);
    expect(r.macroAvg.f1).toBe(0.75);
    expect(r.weightedAvg.f1).toBeCloseTo(2 / 3, 15);
    expect(entityF1(yTrue, yPred)).toBeCloseTo(2 / 3, 15);
  });

  it("reproduces seqeval's README strict-mode example", () => {
    // Default: I-NP I-NP is the chunk (0,1), same as B-NP I-NP → 1.00.
    // Strict IOB2: the prediction has no entity → P = 0/0 → 0, R = 0/1 = 0.
    const yTrue = [['B-NP', 'I-NP', 'O']];
    const yPred = [['I-NP', 'I-NP', 'O']];
    expect(entityReport(yTrue, yPred).classes[0]).toMatchObject({ precision: 1, recall: 1, f1: 1, support: 1 });
    const strict = entityReport(yTrue, yPred, { mode: 'strict', scheme: 'IOB2' });
    expect(strict.toString()).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '          NP       0.00      0.00      0.00         1',
        '',
        '   micro avg       0.00      0.00      0.00         1',
        '   macro avg       0.00      0.00      0.00         1',
        'weighted avg       0.00      0.00      0.00         1',
        '',
      ].join('\n'),
    );
  });

  it('counts an entity cut by the sentence end as two entities', () => {
    // Sentence 0 ends in B-LOC, sentence 1 starts with I-LOC. Default mode: LOC (0,1,1)
    // and LOC (1,0,0) — never one entity across the boundary. Predicting B-LOC for both
    // gets 2 of 2. Strict mode: the gold I-LOC is no entity, so gold = 1, pred = 2,
    // tp = 1 → P = 1/2, R = 1, F1 = 2/3.
    const yTrue = [
      ['O', 'B-LOC'],
      ['I-LOC', 'O'],
    ];
    const yPred = [
      ['O', 'B-LOC'],
      ['B-LOC', 'O'],
    ];
    expect(entityReport(yTrue, yPred).classes).toEqual([
      { label: 'LOC', name: 'LOC', precision: 1, recall: 1, f1: 1, support: 2 },
    ]);
    const strict = entityReport(yTrue, yPred, { mode: 'strict' });
    expect(strict.classes[0]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(strict.classes[0]!.f1).toBeCloseTo(2 / 3, 15);
  });

  it('counts an I- without B- in the prediction as an entity in default mode only', () => {
    // Gold PER (0,1,2) from B-PER I-PER; predicted I-PER I-PER reads as the same span.
    const yTrue = [['O', 'B-PER', 'I-PER', 'O']];
    const yPred = [['O', 'I-PER', 'I-PER', 'O']];
    expect(entityF1(yTrue, yPred)).toBe(1);
    expect(entityF1(yTrue, yPred, { mode: 'strict', scheme: 'IOB2' })).toBe(0);
  });

  it('applies zeroDivision to a class with zero predictions', () => {
    // PER: 1/1. LOC: pred 0 → P = 0/0 → zeroDivision; R = 0/1 = 0; F1 = 0.
    // micro: tp 1, pred 1, true 2 → P 1, R 0.5, F1 2/3.
    const yTrue = [['B-PER', 'O', 'B-LOC']];
    const yPred = [['B-PER', 'O', 'O']];
    const r0 = entityReport(yTrue, yPred);
    expect(r0.classes.map((c) => [c.label, c.precision, c.recall, c.f1])).toEqual([
      ['LOC', 0, 0, 0],
      ['PER', 1, 1, 1],
    ]);
    expect(r0.toString()).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '         LOC       0.00      0.00      0.00         1',
        '         PER       1.00      1.00      1.00         1',
        '',
        '   micro avg       1.00      0.50      0.67         2',
        '   macro avg       0.50      0.50      0.50         2',
        'weighted avg       0.50      0.50      0.50         2',
        '',
      ].join('\n'),
    );
    const r1 = entityReport(yTrue, yPred, { zeroDivision: 1, digits: 3 });
    expect(r1.classes[0]).toMatchObject({ label: 'LOC', precision: 1, recall: 0, f1: 0 });
    expect(r1.macroAvg.precision).toBe(1);
    expect(r1.toString()).toContain('         LOC      1.000     0.000     0.000         1');
  });

  it('reports a type that is only predicted, with support 0', () => {
    // MISC predicted, never true: P = 0/1 = 0, R = 0/0 → zeroDivision (0), support 0.
    const r = entityReport([['B-PER', 'O']], [['B-PER', 'B-MISC']]);
    expect(r.classes.map((c) => c.label)).toEqual(['MISC', 'PER']);
    expect(r.classes[0]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
    // weighted by support (0 and 1): the PER row alone.
    expect(r.weightedAvg).toEqual({ precision: 1, recall: 1, f1: 1, support: 1 });
    expect(r.microAvg.precision).toBe(0.5);
  });

  it('handles empty inputs and inputs without entities', () => {
    const cases: [string[][], string[][]][] = [
      [[], []],
      [[[]], [[]]],
      [[['O', 'O']], [['O', 'O']]],
    ];
    for (const [t, p] of cases) {
      const r = entityReport(t, p);
      expect(r.classes).toEqual([]);
      expect(r.microAvg).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
      expect(r.macroAvg).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
      expect(r.toString()).toBe(
        [
          '              precision    recall  f1-score   support',
          '',
          '',
          '   micro avg       0.00      0.00      0.00         0',
          '   macro avg       0.00      0.00      0.00         0',
          'weighted avg       0.00      0.00      0.00         0',
          '',
        ].join('\n'),
      );
      expect(entityF1(t, p)).toBe(0);
      expect(entityF1(t, p, { zeroDivision: 1 })).toBe(1);
    }
  });

  it('throws a clear MetricsError for mismatched lengths', () => {
    expect(() => entityReport([['O']], [])).toThrow(/same number of sentences, got 1 and 0/);
    expect(() => entityReport([['O', 'B-PER']], [['O']])).toThrow(/sentence 0 has 2 true tags but 1 predicted tags/);
    expect(() => entityF1([['O'], ['O', 'O']], [['O'], ['O']])).toThrow(MetricsError);
    expect(() => entityReport([['X-PER']], [['O']])).toThrow(/trueSeqs\[0\]\[0\]/);
    expect(() => entityReport('B-PER' as unknown as string[][], [])).toThrow(/trueSeqs must be an array/);
  });

  it('is perfect on identical inputs and symmetric in F1', () => {
    const tag = fc.constantFrom('O', 'O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC', 'B-ORG');
    const corpus = fc.array(fc.array(tag, { maxLength: 12 }), { maxLength: 6 });
    fc.assert(
      fc.property(corpus, fc.infiniteStream(tag), (yTrue, noise) => {
        const yPred = yTrue.map((s) => s.map((t) => (noise.next().value === 'I-LOC' ? 'B-ORG' : t)));
        const hasEntities = yTrue.some((s) => getEntities(s).length > 0);
        expect(entityF1(yTrue, yTrue)).toBe(hasEntities ? 1 : 0);
        expect(entityF1(yTrue, yPred)).toBeCloseTo(entityF1(yPred, yTrue), 12);
        const r = entityReport(yTrue, yPred);
        expect(r.microAvg.support).toBe(yTrue.reduce((n, s) => n + getEntities(s).length, 0));
      }),
    );
  });
});
