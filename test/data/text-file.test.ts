/**
 * Tests of src/data/text-file.ts: strict UTF-8 with the position of the first invalid
 * byte (Unicode Standard Table 3-7), and ISO-8859-1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeText, findInvalidUtf8, TextFileError } from '../../src/data/text-file.js';

describe('findInvalidUtf8', () => {
  it('agrees with a fatal TextDecoder on random bytes (valid exactly when it decodes)', () => {
    const utf8ish = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0a, 0xc3, 0xa9, 0xe0, 0xed, 0xf0, 0xf4, 0x80, 0xbf)), { maxLength: 24 });
    fc.assert(
      fc.property(utf8ish, (arr) => {
        const bytes = new Uint8Array(arr);
        let ok = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          ok = false;
        }
        expect(findInvalidUtf8(bytes) === undefined).toBe(ok);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('rejects overlong forms, surrogates and code points above U+10FFFF, with line and column', () => {
    expect(findInvalidUtf8(new Uint8Array([0x61, 0x0a, 0x62, 0xc0, 0x80]))).toEqual({ line: 2, column: 2, offset: 3, byte: 0xc0 });
    expect(findInvalidUtf8(new Uint8Array([0xe0, 0x80, 0x80]))?.offset).toBe(0); // overlong
    expect(findInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))?.offset).toBe(0); // surrogate U+D800
    expect(findInvalidUtf8(new Uint8Array([0xf4, 0x90, 0x80, 0x80]))?.offset).toBe(0); // > U+10FFFF
    expect(findInvalidUtf8(new Uint8Array([0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82]))?.offset).toBe(4); // 😀 then a truncated €
    expect(findInvalidUtf8(new TextEncoder().encode('ok é € 😀\n'))).toBeUndefined();
  });
});

describe('decodeText', () => {
  it('utf-8 drops a leading BOM and throws naming source, line and byte; latin1 maps bytes to code points', () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), 'utf-8', 'x')).toBe('a');
    expect(() => decodeText(new Uint8Array([0x61, 0x0a, 0xe9]), 'utf-8', 'f.txt')).toThrow(TextFileError);
    expect(() => decodeText(new Uint8Array([0x61, 0x0a, 0xe9]), 'utf-8', 'f.txt')).toThrow(/^f\.txt:2: invalid UTF-8 \(byte 0xE9 at column 1, file offset 2\)/);
    // ISO-8859-1, not Windows-1252: 0x80 is U+0080, not €
    expect(decodeText(new Uint8Array([0x63, 0xe9, 0x80]), 'latin1', 'x')).toBe('c\u00e9\u0080');
  });
});
