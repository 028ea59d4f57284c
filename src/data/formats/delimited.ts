/**
 * Delimited text tables:
 *   - CSV: RFC 4180, "Common Format and MIME Type for Comma-Separated Values (CSV) Files"
 *     (https://www.rfc-editor.org/rfc/rfc4180), §2: fields separated by commas, records by
 *     CRLF (LF and lone CR accepted too), fields that contain commas, quotes or line breaks
 *     enclosed in double quotes, a quote inside a quoted field written as two quotes.
 *   - TSV: the IANA text/tab-separated-values registration: one record per line, fields
 *     separated by tabs, no quoting (a field cannot hold a tab or a line break).
 * (JSONL, one JSON object per line, is read by datasets/text-classification.ts.)
 */
import { describeArg as describe } from '../describe.js';

import { TextDatasetError } from './errors.js';
// ───────────────────────────── CSV / TSV / JSONL ─────────────────────────────

/** A parsed record and the (1-based) line on which it starts. */
export interface CsvRecord {
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

export function parseCsvRecords(text: string, options: ParseCsvOptions): CsvRecord[] {
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


export function splitTsv(content: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  content.split(/\r\n|\n|\r/).forEach((line, i) => {
    if (line !== '') records.push({ fields: line.split('\t'), line: i + 1 });
  });
  return records;
}
