/**
 * Tests of src/data/conll.ts: the CoNLL-2003 reader (Tjong Kim Sang & De Meulder 2003),
 * IOB1 → IOB2, LabelMap, and the sub-word label alignment of HuggingFace's run_ner.py.
 * Fuzzing: random and corrupted files must give sentences or a ConllError, nothing else.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  alignLabels,
  ConllError,
  detectTagScheme,
  iob1ToIob2,
  LabelMap,
  parseConll,
  readConll,
  readConllSplits,
  type ConllSentence,
} from '../../src/data/conll.js';
import { getEntities } from '../../src/data/metrics/seqeval.js';

/** The first lines of CoNLL-2003's eng.train (IOB1; columns word, POS, chunk, NE). */
const ENG_TRAIN_HEAD = [
  '-DOCSTART- -X- -X- O',
  '',
  'EU NNP I-NP I-ORG',
  'rejects VBZ I-VP O',
  'German JJ I-NP I-MISC',
  'call NN I-NP O',
  'to TO I-VP O',
  'boycott VB I-VP O',
  'British JJ I-NP I-MISC',
  'lamb NN I-NP O',
  '. . O O',
  '',
  'Peter NNP I-NP I-PER',
  'Blackburn NNP I-NP I-PER',
  '',
].join('\n');

describe('parseConll', () => {
  it('reads the CoNLL-2003 layout: DOCSTART skipped, blank lines end sentences, tag last', () => {
    const s = parseConll(ENG_TRAIN_HEAD);
    expect(s).toEqual([
      {
        tokens: ['EU', 'rejects', 'German', 'call', 'to', 'boycott', 'British', 'lamb', '.'],
        tags: ['I-ORG', 'O', 'I-MISC', 'O', 'O', 'O', 'I-MISC', 'O', 'O'],
      },
      { tokens: ['Peter', 'Blackburn'], tags: ['I-PER', 'I-PER'] },
    ]);
  });

  it('selects another column with tagColumn (positive or negative)', () => {
    expect(parseConll(ENG_TRAIN_HEAD, { tagColumn: 1 })[1]!.tags).toEqual(['NNP', 'NNP']);
    expect(parseConll(ENG_TRAIN_HEAD, { tagColumn: -2 })[1]!.tags).toEqual(['I-NP', 'I-NP']);
  });

  it('accepts tabs, runs of spaces, CRLF, CR, a BOM, trailing white space and no final newline', () => {
    const text = '\uFEFFCaptain\t_\t_\tO\r\nAhab  _ _   B-PER  \r\n\r\nStarbuck _ _ B-PER\rspoke _ _ O';
    expect(parseConll(text)).toEqual([
      { tokens: ['Captain', 'Ahab'], tags: ['O', 'B-PER'] },
      { tokens: ['Starbuck', 'spoke'], tags: ['B-PER', 'O'] },
    ]);
  });

  it('treats -DOCSTART- as a boundary even without a blank line around it', () => {
    const text = 'Ahab _ _ B-PER\n-DOCSTART- -X- -X- O\nIshmael _ _ B-PER\n';
    expect(parseConll(text).map((s) => s.tokens)).toEqual([['Ahab'], ['Ishmael']]);
  });

  it('accepts a two-column file and placeholder columns', () => {
    expect(parseConll('Nantucket B-LOC\n_ O\n')).toEqual([{ tokens: ['Nantucket', '_'], tags: ['B-LOC', 'O'] }]);
  });

  it('returns no sentences for empty or blank input', () => {
    expect(parseConll('')).toEqual([]);
    expect(parseConll('\n\n  \t\n')).toEqual([]);
    expect(parseConll('-DOCSTART- -X- -X- O\n\n')).toEqual([]);
  });

  it('reports inconsistent column counts with the line number', () => {
    const text = 'a _ _ O\nb _ _ O\n\nc _ O\n';
    expect(() => parseConll(text, { source: 'x.conll' })).toThrow(ConllError);
    try {
      parseConll(text, { source: 'x.conll' });
    } catch (e) {
      const err = e as ConllError;
      expect(err.message).toBe('x.conll:4: expected 4 columns (as on line 1), found 3: "c _ O"');
      expect(err.line).toBe(4);
      expect(err.source).toBe('x.conll');
    }
  });

  it('rejects a one-column line and a tagColumn outside the line', () => {
    expect(() => parseConll('\n\nAhab\n')).toThrow(/<input>:3: expected at least 2 columns/);
    expect(() => parseConll('a b O\n', { tagColumn: 3 })).toThrow(/tagColumn 3 does not name a tag column/);
    expect(() => parseConll('a b O\n', { tagColumn: -3 })).toThrow(ConllError);
    expect(() => parseConll('a O\n', { tagColumn: 0 })).toThrow(/tagColumn must be a non-zero integer/);
    expect(() => parseConll('a O\n', { tagColumn: 1.5 })).toThrow(ConllError);
    expect(() => parseConll(42 as unknown as string)).toThrow(/text must be a string, got number 42/);
  });

  describe('fuzzing: only sentences or ConllError', () => {
    const valid = (s: ConllSentence[]): void => {
      for (const sentence of s) {
        expect(sentence.tokens.length).toBeGreaterThan(0);
        expect(sentence.tags.length).toBe(sentence.tokens.length);
        for (const t of [...sentence.tokens, ...sentence.tags]) {
          expect(t).not.toMatch(/[ \t\r\n]/);
          expect(t.length).toBeGreaterThan(0);
        }
        expect(sentence.tokens).not.toContain('-DOCSTART-');
      }
    };
    const run = (text: string, tagColumn?: number): void => {
      try {
        valid(parseConll(text, { tagColumn }));
      } catch (e) {
        expect(e).toBeInstanceOf(ConllError);
        expect((e as ConllError).message.length).toBeGreaterThan(10);
      }
    };

    it('random strings', () => {
      const alphabet = fc.constantFrom(' ', '\t', '\n', '\r', 'a', 'B-PER', 'O', '_', '-DOCSTART-', '\uFEFF', 'é', '\u2028');
      fc.assert(
        fc.property(fc.array(alphabet, { maxLength: 80 }).map((a) => a.join('')), fc.integer({ min: -5, max: 5 }), (text, col) => run(text, col)),
        { numRuns: 500 },
      );
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => run(text)), { numRuns: 300 });
    });

    it('corrupted valid files (lines dropped, duplicated, columns added or removed)', () => {
      const row = fc.tuple(fc.constantFrom('Ahab', 'Nantucket', ',', 'the', 'Pequod'), fc.constantFrom('O', 'B-PER', 'I-LOC', 'B-MISC'));
      const doc = fc.array(fc.array(row, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 });
      const edit = fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('drop', 'dup', 'addcol', 'dropcol', 'crlf', 'tab', 'docstart', 'garbage'),
      });
      fc.assert(
        fc.property(doc, fc.array(edit, { maxLength: 4 }), (sentences, edits) => {
          const lines = ['-DOCSTART- -X- -X- O', ''];
          for (const s of sentences) {
            for (const [tok, tag] of s) lines.push(`${tok} _ _ ${tag}`);
            lines.push('');
          }
          // Uncorrupted, it parses back exactly.
          expect(parseConll(lines.join('\n'))).toEqual(sentences.map((s) => ({ tokens: s.map((r) => r[0]), tags: s.map((r) => r[1]) })));
          for (const { at, kind } of edits) {
            const i = at % lines.length;
            const line = lines[i]!;
            if (kind === 'drop') lines.splice(i, 1);
            else if (kind === 'dup') lines.splice(i, 0, line);
            else if (kind === 'addcol') lines[i] = `${line} X`;
            else if (kind === 'dropcol') lines[i] = line.split(' ').slice(1).join(' ');
            else if (kind === 'crlf') lines[i] = `${line}\r`;
            else if (kind === 'tab') lines[i] = line.replace(/ /g, '\t');
            else if (kind === 'docstart') lines.splice(i, 0, '-DOCSTART-');
            else lines[i] = '\u0000\uFFFF  \t ';
          }
          run(lines.join('\n'));
        }),
        { numRuns: 500 },
      );
    });

    it('the other functions on random input', () => {
      const tag = fc.oneof(fc.constantFrom('O', 'B-PER', 'I-PER', 'I-LOC', 'B-', 'E-X', 'o'), fc.string({ maxLength: 4 }));
      const anything = fc.anything();
      const only = (f: () => unknown): void => {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(ConllError);
        }
      };
      fc.assert(
        fc.property(fc.array(tag, { maxLength: 10 }), anything, (tags, junk) => {
          only(() => iob1ToIob2(tags));
          only(() => detectTagScheme([tags]));
          only(() => LabelMap.fromSentences([tags]));
          only(() => LabelMap.fromLabels(tags));
          only(() => iob1ToIob2(junk as string[]));
          only(() => detectTagScheme(junk as string[][]));
          only(() => LabelMap.fromSentences(junk as string[][]));
          only(() => LabelMap.fromLabels(junk as string[]));
          only(() => LabelMap.fromConfig(junk as { id2label: Record<string, string> }));
        }),
        { numRuns: 300 },
      );
      const wordId = fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 6 }), fc.double());
      fc.assert(
        fc.property(fc.array(wordId, { maxLength: 10 }), fc.array(fc.integer({ min: -100, max: 4 }), { maxLength: 6 }), fc.boolean(), (w, l, all) => {
          const labelMap = LabelMap.fromLabels(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
          try {
            const out = alignLabels(w, l, { labelAllSubwords: all, labelMap });
            expect(out.length).toBe(w.length);
          } catch (e) {
            expect(e).toBeInstanceOf(ConllError);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('readConll / readConllSplits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conll-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and names it in errors', () => {
    const p = join(dir, 'bad.txt');
    writeFileSync(p, 'a _ _ O\nb _ O\n');
    expect(() => readConll(p)).toThrow(`${p}:2: expected 4 columns (as on line 1), found 3`);
    writeFileSync(p, 'a _ _ O\n');
    expect(readConll(p)).toEqual([{ tokens: ['a'], tags: ['O'] }]);
    expect(() => readConll(join(dir, 'missing.txt'))).toThrow(/cannot read .*missing\.txt/);
  });

  it('finds the original CoNLL-2003 names and the common redistribution names', () => {
    const orig = join(dir, 'orig');
    mkdirSync(orig);
    writeFileSync(join(orig, 'eng.train'), ENG_TRAIN_HEAD);
    writeFileSync(join(orig, 'eng.testa'), 'x _ _ O\n');
    writeFileSync(join(orig, 'eng.testb'), 'y _ _ O\n\nz _ _ O\n');
    const a = readConllSplits(orig);
    expect([a.train.length, a.dev.length, a.test.length]).toEqual([2, 1, 2]);
    expect(a.paths.dev).toBe(join(orig, 'eng.testa'));

    const hf = join(dir, 'hf');
    mkdirSync(hf);
    writeFileSync(join(hf, 'train.txt'), 'a O\n');
    writeFileSync(join(hf, 'dev.txt'), 'b O\n');
    writeFileSync(join(hf, 'test.txt'), 'c O\n');
    expect(readConllSplits(hf).dev).toEqual([{ tokens: ['b'], tags: ['O'] }]);
    writeFileSync(join(hf, 'valid.txt'), 'v O\n'); // valid.txt is preferred over dev.txt
    expect(readConllSplits(hf).dev[0]!.tokens).toEqual(['v']);
  });

  it('lists what it looked for when a split is missing', () => {
    const half = join(dir, 'half');
    mkdirSync(half);
    writeFileSync(join(half, 'train.txt'), 'a O\n');
    expect(() => readConllSplits(half)).toThrow(/no dev split in .*half; looked for eng\.testa, valid\.txt, dev\.txt/);
    expect(() => readConllSplits(join(dir, 'nope'))).toThrow(/is not a directory/);
  });
});

describe('iob1ToIob2 and detectTagScheme', () => {
  it('converts the CoNLL-2003 IOB1 example', () => {
    const [first, second] = parseConll(ENG_TRAIN_HEAD);
    expect(iob1ToIob2(first!.tags)).toEqual(['B-ORG', 'O', 'B-MISC', 'O', 'O', 'O', 'B-MISC', 'O', 'O']);
    expect(iob1ToIob2(second!.tags)).toEqual(['B-PER', 'I-PER']);
  });

  it('keeps B- between adjacent same-type entities and starts a new type with B-', () => {
    // IOB1: "I-LOC B-LOC" are two LOCs; "I-PER I-LOC" changes type.
    expect(iob1ToIob2(['I-LOC', 'B-LOC', 'I-LOC', 'I-PER', 'I-LOC', 'O'])).toEqual(['B-LOC', 'B-LOC', 'I-LOC', 'B-PER', 'B-LOC', 'O']);
  });

  it('is idempotent and leaves IOB2 unchanged', () => {
    const tag = fc.constantFrom('O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC');
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 20 }), (tags) => {
        const once = iob1ToIob2(tags);
        expect(iob1ToIob2(once)).toEqual(once);
        expect(['IOB2', 'none']).toContain(detectTagScheme([once]));
      }),
    );
  });

  it('detects the scheme', () => {
    expect(detectTagScheme(parseConll(ENG_TRAIN_HEAD))).toBe('IOB1');
    expect(detectTagScheme([['B-PER', 'I-PER', 'O', 'B-LOC']])).toBe('IOB2');
    expect(detectTagScheme([['I-PER', 'O'], ['B-LOC', 'O']])).toBe('mixed');
    expect(detectTagScheme([['O', 'O'], []])).toBe('none');
    expect(() => detectTagScheme([['O', 'S-PER']])).toThrow(/sequences\[0\]\[1\]: expected 'O', 'B-TYPE' or 'I-TYPE', got the string "S-PER"/);
  });
});

describe('LabelMap', () => {
  it("builds 'O' then sorted B-/I- pairs from sentences", () => {
    const map = LabelMap.fromSentences([
      { tokens: ['a', 'b'], tags: ['B-PER', 'O'] },
      { tokens: ['c'], tags: ['B-ORG'] },
      ['I-LOC', 'B-MISC'],
    ]);
    expect(map.labels).toEqual(['O', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']);
    expect(map.size).toBe(9);
    expect(map.labelToId('B-PER')).toBe(7);
    expect(map.idToLabel(0)).toBe('O');
    expect(map.encode(['O', 'I-ORG'])).toEqual([0, 6]);
    expect(map.decode([5, 0])).toEqual(['B-ORG', 'O']);
    expect(map.bToI(map.labelToId('B-MISC'))).toBe(map.labelToId('I-MISC'));
    expect(map.bToI(0)).toBe(0);
  });

  it('keeps an explicit order and round-trips a HuggingFace config', () => {
    const map = LabelMap.fromLabels(['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG']);
    expect(map.labelToId('B-ORG')).toBe(3);
    const config = map.toConfig();
    expect(config.id2label['3']).toBe('B-ORG');
    expect(config.label2id['I-PER']).toBe(2);
    expect(LabelMap.fromConfig(config).labels).toEqual(map.labels);
    // B- without a matching I- maps to itself.
    expect(LabelMap.fromLabels(['O', 'B-X']).bToI(1)).toBe(1);
  });

  it('throws ConllError for unknown labels and bad ids', () => {
    const map = LabelMap.fromLabels(['O', 'B-PER', 'I-PER']);
    expect(() => map.labelToId('B-LOC')).toThrow(/unknown label the string "B-LOC"; known labels: O, B-PER, I-PER/);
    expect(() => map.encode(['O', 'B-LOC'])).toThrow(/tags\[1\] is an unknown label/);
    expect(() => map.idToLabel(3)).toThrow(/id must be an integer in 0…2, got number 3/);
    expect(() => map.idToLabel(-1)).toThrow(ConllError);
    expect(() => map.idToLabel(0.5)).toThrow(ConllError);
    expect(() => LabelMap.fromLabels(['O', 'O'])).toThrow(/duplicate label "O" at index 1/);
    expect(() => LabelMap.fromLabels([])).toThrow(ConllError);
    expect(() => LabelMap.fromSentences([['B-PER', 'E-PER']])).toThrow(/sentences\[0\] tag 1/);
    expect(() => LabelMap.fromConfig({ id2label: { '0': 'O', '2': 'B-PER' } })).toThrow(/keys must be 0…1/);
  });
});

describe('alignLabels', () => {
  // "[CLS] Ahab ##ab went to Nan ##tuck ##et [SEP]"; words: Ahab(B-PER) went(O) to(O) Nantucket(B-LOC)
  const labelMap = LabelMap.fromLabels(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
  const wordIds = [null, 0, 0, 1, 2, 3, 3, 3, null];
  const wordLabels = [1, 0, 0, 3];

  it('labels the first sub-word and ignores the rest and the special tokens', () => {
    expect(alignLabels(wordIds, wordLabels)).toEqual([-100, 1, -100, 0, 0, 3, -100, -100, -100]);
    expect(alignLabels(wordIds, wordLabels, { ignoreIndex: -1 })).toEqual([-1, 1, -1, 0, 0, 3, -1, -1, -1]);
  });

  it('with labelAllSubwords, turns B- into I- on continuation sub-words', () => {
    expect(alignLabels(wordIds, wordLabels, { labelAllSubwords: true, labelMap })).toEqual([-100, 1, 2, 0, 0, 3, 4, 4, -100]);
  });

  it('throws ConllError for bad word ids or a missing labelMap', () => {
    expect(() => alignLabels([0, 4], wordLabels)).toThrow(/wordIds\[1\] must be null or an integer in 0…3/);
    expect(() => alignLabels([0, 1.5], wordLabels)).toThrow(ConllError);
    expect(() => alignLabels([0], [0.5])).toThrow(/wordLabelIds\[0\] must be an integer/);
    expect(() => alignLabels([0], [1], { labelAllSubwords: true })).toThrow(/needs options\.labelMap/);
    expect(() => alignLabels([0, 0], [9], { labelAllSubwords: true, labelMap })).toThrow(/idToLabel/);
  });

  it('keeps one label per sub-word and labels each word exactly once (property)', () => {
    const words = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 8 }); // sub-words per word
    fc.assert(
      fc.property(words, fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 8, maxLength: 8 }), (pieces, labels) => {
        const ids: (number | null)[] = [null];
        pieces.forEach((n, w) => ids.push(...Array<number>(n).fill(w)));
        ids.push(null);
        const out = alignLabels(ids, labels.slice(0, pieces.length));
        expect(out.length).toBe(ids.length);
        expect(out.filter((x) => x !== -100)).toEqual(labels.slice(0, pieces.length));
      }),
    );
  });
});

describe('the shipped NER sample data/ner', () => {
  const dir = fileURLToPath(new URL('../../data/ner', import.meta.url));
  const splits = readConllSplits(dir);
  const all = [...splits.train, ...splits.dev, ...splits.test];
  const typesOf = (sentences: ConllSentence[]): Set<string> =>
    new Set(sentences.flatMap((s) => s.tags.filter((t) => t !== 'O').map((t) => t.slice(2))));

  it('parses, in train.txt / dev.txt / test.txt, with at least 1,300 sentences', () => {
    expect(splits.paths.dev).toBe(join(dir, 'dev.txt'));
    expect(all.length).toBeGreaterThanOrEqual(1300);
    expect(splits.train.length).toBeGreaterThan(splits.dev.length + splits.test.length);
    expect(splits.dev.length).toBeGreaterThan(0);
    expect(splits.test.length).toBeGreaterThan(0);
  });

  it('has every entity type in every split, and no other type', () => {
    for (const split of [splits.train, splits.dev, splits.test]) {
      expect([...typesOf(split)].sort()).toEqual(['LOC', 'MISC', 'ORG', 'PER']);
    }
  });

  it('gives every type at least 150 train entities, and multi-word entities of every type (I- tags) in every split', () => {
    const count = (sentences: ConllSentence[], tag: string): number => sentences.reduce((n, s) => n + s.tags.filter((t) => t === tag).length, 0);
    for (const type of ['PER', 'LOC', 'ORG', 'MISC']) {
      expect(count(splits.train, `B-${type}`)).toBeGreaterThanOrEqual(150);
      for (const split of [splits.train, splits.dev, splits.test]) expect(count(split, `I-${type}`)).toBeGreaterThan(0);
    }
  });

  it('is IOB2, four space-separated columns with _ placeholders, DOCSTART first, ≤ 60 tokens a sentence', () => {
    expect(detectTagScheme(all)).toBe('IOB2');
    for (const name of ['train.txt', 'dev.txt', 'test.txt']) {
      const lines = readFileSync(join(dir, name), 'utf8').split('\n');
      expect(lines[0]).toBe('-DOCSTART- -X- -X- O');
      for (const line of lines) {
        if (line === '' || line.startsWith('-DOCSTART-')) continue;
        expect(line).toMatch(/^\S+ _ _ (O|[BI]-(PER|LOC|ORG|MISC))$/);
      }
    }
    for (const s of all) {
      expect(s.tokens.length).toBeGreaterThanOrEqual(8);
      expect(s.tokens.length).toBeLessThanOrEqual(60);
    }
    expect(LabelMap.fromSentences(splits.train).labels).toEqual(['O', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']);
  });

  it('tags the same string the same way everywhere (the gazetteer consistency check of the builder), but for 3 forms the guidelines split by context', () => {
    // every surface form tagged somewhere, and every whole occurrence of it: tagged as one
    // entity, untagged, or cut by an entity boundary; inside a longer entity is no conflict
    const forms = new Map<string, Set<string>>();
    const byFirst = new Map<string, string[][]>();
    for (const s of all) {
      for (const e of getEntities(s.tags)) {
        const form = s.tokens.slice(e.start, e.end + 1);
        if (forms.has(form.join(' '))) continue;
        forms.set(form.join(' '), new Set());
        byFirst.set(form[0]!, [...(byFirst.get(form[0]!) ?? []), form]);
      }
    }
    for (const s of all) {
      s.tokens.forEach((tok, i) => {
        for (const form of byFirst.get(tok) ?? []) {
          const end = i + form.length;
          if (!form.every((w, k) => s.tokens[i + k] === w)) continue;
          const span = s.tags.slice(i, end);
          const type = span[0]!.slice(2);
          const inside = span.every((t) => t.slice(2) === type) && type !== '' && (span[0]!.startsWith('I-') || s.tags[end] === `I-${type}`);
          if (inside) continue;
          const whole = span[0] === `B-${type}` && span.slice(1).every((t) => t === `I-${type}`);
          forms.get(form.join(' '))!.add(whole ? type : span.every((t) => t === 'O') ? 'O' : `cut: ${span.join(' ')}`);
        }
      });
    }
    const mixed = [...forms].filter(([, labels]) => labels.size > 1).map(([form, labels]) => `${form}: ${[...labels].sort().join(', ')}`);
    expect(mixed.sort()).toEqual(['Mark: O, PER', 'Oxford: LOC, ORG', 'Westminster: LOC, ORG']);
  });

  it('shares no sentence between splits, and holds no sentence twice', () => {
    const text = (s: ConllSentence): string => s.tokens.join(' ');
    expect(new Set(all.map(text)).size).toBe(all.length);
    const train = new Set(splits.train.map(text));
    const dev = new Set(splits.dev.map(text));
    for (const s of splits.dev) expect(train.has(text(s))).toBe(false);
    for (const s of splits.test) {
      expect(train.has(text(s))).toBe(false);
      expect(dev.has(text(s))).toBe(false);
    }
  });
});

describe('encodings and byte-order marks (issue #11 item 21)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-conll-enc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // "Müller B-PER" in Latin-1: ü is the single byte 0xFC, invalid as UTF-8.
  const latin1 = Buffer.concat([Buffer.from('-DOCSTART- O\n\nDer O\nM', 'latin1'), Buffer.from([0xfc]), Buffer.from('ller B-PER\n', 'latin1')]);

  it('Latin-1 bytes are an error naming the file and line (not a silent U+FFFD)', () => {
    const path = join(dir, 'latin1.txt');
    writeFileSync(path, latin1);
    let err: unknown;
    try {
      readConll(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConllError);
    expect((err as ConllError).line).toBe(4);
    expect((err as Error).message).toContain(`${path}:4: invalid UTF-8 (byte 0xFC at column 2`);
    expect((err as Error).message).toContain("encoding: 'latin1'");
  });

  it("encoding: 'latin1' reads it (ISO-8859-1), also through readConllSplits", () => {
    const path = join(dir, 'latin1.txt');
    writeFileSync(path, latin1);
    expect(readConll(path, { encoding: 'latin1' })).toEqual([{ tokens: ['Der', 'Müller'], tags: ['O', 'B-PER'] }]);
    const splits = join(dir, 'splits');
    mkdirSync(splits);
    for (const f of ['train.txt', 'valid.txt', 'test.txt']) writeFileSync(join(splits, f), latin1);
    expect(readConllSplits(splits, { encoding: 'latin1' }).dev[0]!.tokens).toEqual(['Der', 'Müller']);
    expect(() => readConllSplits(splits)).toThrow(/train\.txt:4: invalid UTF-8/);
    expect(() => readConll(path, { encoding: 'ebcdic' as 'latin1' })).toThrow(/encoding must be 'utf-8' or 'latin1', got "ebcdic"/);
  });

  it('a byte-order mark in the middle of the file (concatenated files) never stays inside a token or tag', () => {
    const path = join(dir, 'cat.txt');
    // two UTF-8 files with BOMs, concatenated; the second one's first line lacks a newline before the BOM-led token
    writeFileSync(path, Buffer.from('\uFEFFa O\nb B-LOC\n\n\uFEFFc O\nd \uFEFFB-PER\ne\uFEFF O\n', 'utf8'));
    const s = readConll(path);
    expect(s).toEqual([
      { tokens: ['a', 'b'], tags: ['O', 'B-LOC'] },
      { tokens: ['c', 'd', 'e'], tags: ['O', 'B-PER', 'O'] },
    ]);
    for (const x of s) for (const t of [...x.tokens, ...x.tags]) expect(t).not.toContain('\uFEFF');
  });
});
