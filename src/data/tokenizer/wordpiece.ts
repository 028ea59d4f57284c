/**
 * Step 5 of BERT's tokenizer: WordPiece (Wu et al. 2016, "Google's Neural Machine
 * Translation System", §4.1; Google's `WordpieceTokenizer.tokenize`): greedy
 * longest-match-first over code points, continuation pieces prefixed `##`; a word that
 * cannot be covered, or has more than `maxInputCharsPerWord` code points, becomes `[UNK]`
 * as a whole. Each piece keeps the span of its characters in the original text.
 */
import { spanOf, type Unit } from './unicode.js';

/** WordPiece over one pre-tokenized word at a time. */
export class WordpieceTokenizer {
  /** Longest vocabulary entry in code points, `##` excluded: bounds the greedy search. */
  private readonly maxPieceChars: number;

  constructor(
    private readonly vocab: ReadonlyMap<string, number>,
    private readonly unkId: number,
    private readonly maxInputCharsPerWord: number,
  ) {
    let maxPieceChars = 0;
    for (const t of vocab.keys()) {
      const n = [...t].length - (t.startsWith('##') ? 2 : 0);
      if (n > maxPieceChars) maxPieceChars = n;
    }
    this.maxPieceChars = maxPieceChars;
  }

  tokenize(units: Unit[]): { id: number; start: number; end: number }[] {
    const n = units.length;
    if (n > this.maxInputCharsPerWord) {
      const [start, end] = spanOf(units);
      return [{ id: this.unkId, start, end }];
    }
    const chars = units.map((u) => u.c);
    const result: { id: number; start: number; end: number }[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxPieceChars);
      let id: number | undefined;
      while (start < end) {
        const sub = chars.slice(start, end).join('');
        id = this.vocab.get(start > 0 ? '##' + sub : sub);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) {
        const [s, e] = spanOf(units);
        return [{ id: this.unkId, start: s, end: e }];
      }
      const [s, e] = spanOf(units.slice(start, end));
      result.push({ id, start: s, end: e });
      start = end;
    }
    return result;
  }
}
