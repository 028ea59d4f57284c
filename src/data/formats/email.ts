/**
 * E-mail → text: RFC 5322 (header fields, folding), RFC 2045 (Content-Type,
 * Content-Transfer-Encoding: quoted-printable §6.7, base64 §6.8), RFC 2046 (multipart
 * boundaries §5.1), RFC 2047 (encoded words in headers); HTML parts reduced to their text.
 */
import { describeArg as describe } from '../describe.js';

// ───────────────────────────── e-mail → text ─────────────────────────────

/** Options of {@link emailToText}. */
export interface EmailToTextOptions {
  /** Cap on the returned text's length in UTF-16 code units (default 2000; `Infinity` for none). */
  maxChars?: number;
}

export interface MimeEntity {
  headers: Map<string, string>;
  body: string;
}

export interface ContentType {
  type: string;
  params: Record<string, string>;
}

export const HEADER_LINE = /^[!-9;-~]+:/; // RFC 5322 field name: printable ASCII except ":"
export const MAX_MIME_DEPTH = 20;

/** Splits an entity into its (unfolded, lower-cased) header fields and its body. */
export function parseEntity(raw: string): MimeEntity {
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
export function parseContentType(value: string | undefined): ContentType {
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
export function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
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
export function decodeQuotedPrintable(s: string): Uint8Array {
  // Soft line breaks: "=" at the end of a line (transport may have added blanks after it).
  const text = s.replace(/=[ \t]*\r?\n/g, '');
  // split() with a capture group alternates literal text and runs of "=XX" escapes.
  const pieces = text.split(/((?:=[0-9A-Fa-f]{2})+)/);
  return Buffer.concat(
    pieces.map((piece, i) => (i % 2 === 1 ? Buffer.from(piece.replace(/=/g, ''), 'hex') : Buffer.from(piece, 'utf8'))),
  );
}

export function decodeBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64'));
}

/** The body of a leaf entity as text, after its transfer encoding and charset. */
export function decodeBody(entity: MimeEntity, ct: ContentType): string {
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (encoding === 'base64') return decodeBytes(decodeBase64(entity.body), ct.params.charset);
  if (encoding === 'quoted-printable') return decodeBytes(decodeQuotedPrintable(entity.body), ct.params.charset);
  return entity.body; // 7bit, 8bit, binary: the corpus text is already decoded
}

/** RFC 2047 encoded words (`=?charset?B|Q?text?=`) in a header value → text. */
export function decodeEncodedWords(value: string): string {
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
export function splitMultipart(body: string, boundary: string): string[] | undefined {
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
export function collectText(entity: MimeEntity, out: { plain: string[]; html: string[] }, depth: number): void {
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

export const NAMED_ENTITIES: Record<string, string> = {
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

export function decodeHtmlEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]+);?/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

export const BLOCK_TAGS = /^(br|p|div|tr|td|th|li|ul|ol|table|h[1-6]|hr|title|blockquote|pre|center|form)$/i;

/** HTML → text: drops comments, script/style, tags; block tags become spaces; decodes entities. */
export function htmlToText(html: string): string {
  const stripped = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    .replace(/<\/?([A-Za-z][A-Za-z0-9]*)\b[^>]*>/g, (_, tag: string) => (BLOCK_TAGS.test(tag) ? ' ' : ''))
    .replace(/<![^>]*>/g, ' ');
  return decodeHtmlEntities(stripped);
}

export function normalizeWhitespace(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts `s` to at most `max` code units without splitting a surrogate pair. */
export function capLength(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return s.slice(0, end);
}

export function checkMaxChars(fn: string, maxChars: unknown): number {
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
