/**
 * Steps 0–4 of BERT's tokenizer (HF `BasicTokenizer`, Google's `tokenization.py`): special
 * tokens kept whole, per-code-point lower-casing, `_clean_text`, `_tokenize_chinese_chars`,
 * NFC + `whitespace_tokenize`, `_run_strip_accents`, `_run_split_on_punc` — every character
 * keeping its span in the original text. See bert.ts for the whole pipeline.
 */
import {
  ASCII_ONLY, isChineseChar, isControl, isPunctuation, isWhitespace, joinUnits, lower, nfc,
  stripAccentsOf, toUnits, transform, type Unit, type Word,
} from './unicode.js';

/** What the basic tokenizer needs to know (the options of `BertTokenizer`, resolved). */
export interface BasicTokenizerOptions {
  doLowerCase: boolean;
  stripAccents: boolean;
  tokenizeChineseChars: boolean;
  /** The special tokens ([UNK], [SEP], …): kept whole when written in the text, never split. */
  specialTokens: readonly string[];
}

/** Pre-tokenization: text → words of code points with their source spans. */
export class BasicTokenizer {
  private readonly doLowerCase: boolean;
  private readonly stripAccents: boolean;
  private readonly tokenizeChineseChars: boolean;
  private readonly specials: ReadonlySet<string>;
  /** Special tokens as code-point arrays, longest first (for leftmost-longest matching). */
  private readonly specialCps: readonly string[][];
  /** First code points of the special tokens: a quick reject for `specialAt`. */
  private readonly specialFirst: ReadonlySet<string>;

  constructor(opts: BasicTokenizerOptions) {
    this.doLowerCase = opts.doLowerCase;
    this.stripAccents = opts.stripAccents;
    this.tokenizeChineseChars = opts.tokenizeChineseChars;
    this.specials = new Set(opts.specialTokens);
    this.specialCps = [...this.specials].map((s) => [...s]).sort((a, b) => b.length - a.length);
    this.specialFirst = new Set(this.specialCps.map((cps) => cps[0]!));
  }

  private specialAt(units: Unit[], i: number): string[] | undefined {
    if (!this.specialFirst.has(units[i]!.c)) return undefined;
    for (const sp of this.specialCps) {
      if (i + sp.length > units.length) continue;
      let ok = true;
      for (let k = 0; k < sp.length; k++) {
        if (units[i + k]!.c !== sp[k]) {
          ok = false;
          break;
        }
      }
      if (ok) return sp;
    }
    return undefined;
  }

  /** Steps 0–4: the words of `text`, each character with its span in `text`. */
  preTokenize(text: string): Word[] {
    let units = toUnits(text);
    if (this.doLowerCase) {
      // Step 0: lower-case one code point at a time, leaving special tokens as written.
      const lowered: Unit[] = [];
      for (let i = 0; i < units.length; ) {
        const sp = this.specialAt(units, i);
        if (sp !== undefined) {
          for (let k = 0; k < sp.length; k++) lowered.push(units[i + k]!);
          i += sp.length;
          continue;
        }
        const u = units[i]!;
        const l = u.c.toLowerCase();
        if (l === u.c) lowered.push(u);
        else for (const c of l) lowered.push({ c, s: u.s, e: u.e });
        i++;
      }
      units = lowered;
    }

    const words: Word[] = [];
    let chunk: Unit[] = [];
    for (let i = 0; i < units.length; ) {
      const sp = this.specialAt(units, i);
      if (sp === undefined) {
        chunk.push(units[i]!);
        i++;
        continue;
      }
      this.basicTokenize_(chunk, words);
      chunk = [];
      words.push({ units: units.slice(i, i + sp.length), special: true });
      i += sp.length;
    }
    this.basicTokenize_(chunk, words);
    return words;
  }

  /** Steps 1–4 (`BasicTokenizer.tokenize`) on text containing no special token. */
  private basicTokenize_(units: Unit[], out: Word[]): void {
    // Steps 1–3: clean, isolate CJK ideographs, split on whitespace.
    let current: Unit[] = [];
    const raw: Unit[][] = [];
    const flush = (): void => {
      if (current.length > 0) raw.push(current);
      current = [];
    };
    for (const u of units) {
      const cp = u.c.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || isControl(u.c, cp)) continue;
      if (isWhitespace(u.c, cp)) {
        flush();
      } else if (this.tokenizeChineseChars && isChineseChar(cp)) {
        flush();
        raw.push([u]);
      } else {
        current.push(u);
      }
    }
    flush();

    for (let token of raw) {
      const ascii = ASCII_ONLY.test(joinUnits(token));
      if (!ascii) token = transform(token, nfc, 'compose');
      const str = joinUnits(token);
      // never_split: the special tokens (only reachable here when cleaning removed
      // characters from inside one, e.g. "[CL\u200bS]" with doLowerCase false).
      if (this.isSpecialString(str)) {
        out.push({ units: token, special: false });
        continue;
      }
      if (!ascii) {
        if (this.doLowerCase) {
          token = transform(token, lower);
          if (this.stripAccents) token = transform(token, stripAccentsOf, 'strip');
        } else if (this.stripAccents) {
          token = transform(token, stripAccentsOf, 'strip');
        }
      }
      // (An ASCII word needs none of these: step 0 already lower-cased it per character.)
      // _run_split_on_punc
      let word: Unit[] = [];
      for (const u of token) {
        const cp = u.c.codePointAt(0)!;
        if (isPunctuation(u.c, cp)) {
          if (word.length > 0) out.push({ units: word, special: false });
          word = [];
          out.push({ units: [u], special: false });
        } else {
          word.push(u);
        }
      }
      if (word.length > 0) out.push({ units: word, special: false });
    }
  }

  private isSpecialString(s: string): boolean {
    return this.specials.has(s);
  }
}
