/**
 * Reading text files for the dataset readers (CoNLL, CSV/TSV/JSONL): bytes → string with
 * a declared encoding, and invalid UTF-8 reported with its line instead of being turned
 * into U+FFFD silently (what `readFileSync(path, 'utf8')` does).
 *
 * UTF-8 validity follows the Unicode Standard, Table 3-7 "Well-Formed UTF-8 Byte
 * Sequences" (no overlong forms, no surrogates, nothing above U+10FFFF).
 */
import { readFileSync } from 'node:fs';

/** Encodings the dataset readers accept: UTF-8 (the default) or ISO-8859-1 (Latin-1). */
export type TextEncodingName = 'utf-8' | 'latin1';

/** Where a file first fails to be UTF-8. */
export interface InvalidUtf8 {
  /** 1-based line (counting LF bytes before the offending byte). */
  line: number;
  /** 1-based column in bytes within that line. */
  column: number;
  /** Byte offset in the file. */
  offset: number;
  /** The offending byte. */
  byte: number;
}

/** Thrown by {@link readTextFile}; the readers rethrow it as their own error type. */
export class TextFileError extends Error {
  override name = 'TextFileError';
  constructor(
    message: string,
    /** Where the bytes stop being UTF-8, for a decoding error. */
    readonly invalid?: InvalidUtf8,
    /** The message without its `source:line:` prefix. */
    readonly detail: string = message,
  ) {
    super(message);
  }
}

/** The first byte at which `bytes` stops being well-formed UTF-8, or undefined. */
export function findInvalidUtf8(bytes: Uint8Array): InvalidUtf8 | undefined {
  let line = 1;
  let lineStart = 0;
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const c = bytes[i]!;
    if (c < 0x80) {
      if (c === 0x0a) {
        line++;
        lineStart = i + 1;
      }
      i++;
      continue;
    }
    // Table 3-7: lead byte → number of continuation bytes and the range of the first one.
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else {
      return { line, column: i - lineStart + 1, offset: i, byte: c };
    }
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k];
      const okRange = k === 1 ? b !== undefined && b >= lo && b <= hi : b !== undefined && b >= 0x80 && b <= 0xbf;
      if (!okRange) return { line, column: i - lineStart + 1, offset: i, byte: c };
    }
    i += need + 1;
  }
  return undefined;
}

/**
 * Decodes a file's bytes. `'utf-8'`: strict (a leading byte-order mark is dropped);
 * invalid bytes throw a {@link TextFileError} naming the line, column and byte, and
 * suggesting `encoding: 'latin1'`. `'latin1'`: ISO-8859-1, every byte is the code point
 * of the same value (no Windows-1252 remapping of 0x80–0x9F).
 *
 * @example
 * ```ts
 * decodeText(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), 'latin1', 'x.txt'); // 'café'
 * ```
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncodingName, source: string): string {
  if (encoding === 'latin1') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    const bad = findInvalidUtf8(bytes);
    const what = bad
      ? `invalid UTF-8 (byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')} at column ${bad.column}, file offset ${bad.offset})`
      : 'invalid UTF-8';
    const detail = `${what}; if the file is Latin-1 (ISO-8859-1), pass { encoding: 'latin1' }, or convert it to UTF-8`;
    throw new TextFileError(`${source}${bad ? `:${bad.line}` : ''}: ${detail}`, bad, detail);
  }
}

/** Checks an `encoding` option: undefined → 'utf-8'. */
export function checkEncoding(where: string, v: unknown): TextEncodingName {
  if (v === undefined || v === 'utf-8' || v === 'utf8') return 'utf-8';
  if (v === 'latin1' || v === 'latin-1' || v === 'iso-8859-1') return 'latin1';
  throw new TextFileError(`${where}: encoding must be 'utf-8' or 'latin1', got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
}

/** Reads and decodes a text file ({@link decodeText}); I/O errors propagate as thrown by `fs`. */
export function readTextFile(path: string, encoding: TextEncodingName): string {
  return decodeText(readFileSync(path), encoding, path);
}
