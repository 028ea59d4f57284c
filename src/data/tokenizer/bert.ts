/**
 * BERT's WordPiece tokenizer, token for token identical to the reference.
 *
 * References:
 *   - Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
 *     Language Understanding" (§3 and Appendix A: WordPiece, [CLS]/[SEP], segment ids).
 *   - Google's `tokenization.py` (google-research/bert): `BasicTokenizer`,
 *     `WordpieceTokenizer`, `_is_whitespace`, `_is_control`, `_is_punctuation`.
 *   - HuggingFace transformers, slow `BertTokenizer` (`tokenization_bert.py`) and
 *     `PreTrainedTokenizer.tokenize` / `truncate_sequences` / `clean_up_tokenization`.
 *
 * Pipeline (each step cites the reference function it reproduces):
 *   0. `PreTrainedTokenizer.tokenize`: special tokens written in the text (`[MASK]`, …) are
 *      kept whole; with `doLowerCase`, every other character is lower-cased on its own
 *      (HF's `re.sub(... (.+?) ... .lower())` works one code point at a time, so a final
 *      capital sigma becomes `σ`, not `ς`, exactly as in HF slow and fast).
 *   1. `_clean_text`: drop U+0000, U+FFFD and every character of category C* except
 *      `\t \n \r`; `\t \n \r`, space and category Zs become separators.
 *   2. `_tokenize_chinese_chars`: CJK ideographs (the reference's code-point ranges)
 *      become words of their own.
 *   3. HF `BasicTokenizer`: NFC, then `whitespace_tokenize` (Python's `str.split()`, which
 *      also splits on U+2028 and U+2029, the only non-C, non-Zs whitespace left).
 *   4. Per word (unless it is in `never_split`, i.e. a special token): lower-case;
 *      `_run_strip_accents` (NFD, drop category Mn); `_run_split_on_punc` (ASCII 33–47,
 *      58–64, 91–96, 123–126 and category P* are words of their own).
 *   5. `WordpieceTokenizer`: greedy longest-match-first over code points, continuation
 *      pieces prefixed `##`; a word that cannot be covered, or has more than
 *      `maxInputCharsPerWord` code points, becomes `[UNK]` as a whole.
 *
 * Files: unicode.ts (character classes, spans), basic.ts (steps 0–4), wordpiece.ts (step 5),
 * this file (vocabulary, special tokens, pairs, truncation, padding, decoding).
 *
 * Every character carries its [start, end) span in the original string (UTF-16 indices,
 * so `text.slice(start, end)` works) through all the steps, which gives the offsets and
 * word ids that HF computes only in its fast (Rust) tokenizer, aligned as fast aligns
 * them (see `transform`; checked against `tokenizers` in test/fixtures/tokenizer/gen_fast.py). A step that merges or
 * reorders characters (NFC composition, NFD reordering) is applied per grapheme-like
 * cluster and checked against the whole-word result; if they ever differ, the word's
 * characters all get the word's span, so the tokens stay exact and only the offsets
 * coarsen.
 *
 * Unicode tables are the JavaScript engine's (`\p{…}` and `String#normalize`); Python's
 * `unicodedata` of a different Unicode version can classify newly assigned code points
 * differently (they are category Cn, hence removed, in an older table).
 */

import { nodeFs } from '../../core/node-fs.js';
import { describeArg as describe } from '../describe.js';
import { BasicTokenizer } from './basic.js';
import { joinUnits, spanOf, type Piece, type Word } from './unicode.js';
import { WordpieceTokenizer } from './wordpiece.js';

/** Thrown for every invalid argument, vocabulary or request this module receives. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/** Options of {@link BertTokenizer.fromVocab} and {@link BertTokenizer.fromVocabFile}. */
export interface BertTokenizerOptions {
  /** Lower-case the input (uncased models). Default true. */
  doLowerCase?: boolean;
  /** Strip accents (NFD, drop Mn). Default: the value of `doLowerCase`, as in HF. */
  stripAccents?: boolean;
  /** Surround CJK ideographs with spaces. Default true. */
  tokenizeChineseChars?: boolean;
  /** The unknown-word token; must be in the vocabulary. Default '[UNK]'. */
  unkToken?: string;
  /** The separator token ending each sequence; must be in the vocabulary. Default '[SEP]'. */
  sepToken?: string;
  /** The padding token; must be in the vocabulary. Default '[PAD]'. */
  padToken?: string;
  /** The classification token starting each input; must be in the vocabulary. Default '[CLS]'. */
  clsToken?: string;
  /** The masked-LM mask token; must be in the vocabulary. Default '[MASK]'. */
  maskToken?: string;
  /** Words with more code points than this become `[UNK]`. Default 100 (HF). */
  maxInputCharsPerWord?: number;
  /**
   * Length used by `truncation`/`padding: 'max_length'` when `encode` gets no
   * `maxLength` (HF's `model_max_length`). Default: none; 512 for `bertBaseUncased()`.
   */
  modelMaxLength?: number;
  /**
   * Which HF tokenizer to follow where HF's fast (Rust, the default of `AutoTokenizer`) and
   * slow (Python) BERT tokenizers disagree on pairs. Default `'fast'`:
   *   - `'longest_first'` on a pair: fast splits the budget in one step — the shorter
   *     sequence keeps min(its length, budget − the other's), and when both are too long
   *     they get ⌊budget/2⌋ and ⌈budget/2⌉, the longer sequence the larger half; slow
   *     removes one token at a time from the longer sequence (the second on ties).
   *   - an empty second text (`''`, or `[]` for pre-split words): fast encodes the first
   *     text alone (`[CLS] A [SEP]`), slow as a pair with an empty second part
   *     (`[CLS] A [SEP] [SEP]`).
   */
  compat?: 'fast' | 'slow';
}

/** HF truncation strategies; `true` means `'longest_first'`. */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/** Options of {@link BertTokenizer.encode} and friends. */
export interface EncodeOptions {
  /** Total length limit, special tokens included. */
  maxLength?: number;
  /**
   * How to shorten input longer than `maxLength`. Default: `'longest_first'` when a
   * `maxLength` is given. `false` makes an over-long input an error (see `encode`).
   */
  truncation?: boolean | TruncationStrategy;
  /** `'max_length'`: pad to `maxLength`; `'longest'`: to the longest of the batch. Default false. */
  padding?: false | 'max_length' | 'longest';
  /** Add `[CLS] … [SEP]` (`[CLS] A [SEP] B [SEP]` for a pair). Default true. */
  addSpecialTokens?: boolean;
  /** Also return `offsets`. Default false. */
  returnOffsets?: boolean;
}

/** The model inputs for one sequence (or pair), all arrays of the same length. */
export interface Encoding {
  /** Token ids, `[CLS] … [SEP]` with special tokens (unless `addSpecialTokens: false`) and padding ids at the end when padded. */
  inputIds: number[];
  /** Segment ids: 0 for the first sequence (and its specials), 1 for the second. */
  tokenTypeIds: number[];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[];
  /** Index of the word each token came from; null for special and pad tokens. */
  wordIds: (number | null)[];
  /**
   * [start, end) UTF-16 offsets into the source string (for a pair, the second sequence's
   * offsets index into the second text); [0, 0] for special and pad tokens.
   */
  offsets?: [number, number][];
}

/** Options of {@link BertTokenizer.decode}. */
export interface DecodeOptions {
  /** Drop [CLS], [SEP], [PAD], [MASK] and [UNK] (HF's `all_special_ids`). Default false. */
  skipSpecialTokens?: boolean;
  /** Apply HF's `clean_up_tokenization` (" ." → "." …). Default true, as for bert-base-uncased. */
  cleanUpTokenizationSpaces?: boolean;
}

// ---------------------------------------------------------------------------------------
// Argument checking

function checkString(where: string, name: string, v: unknown): string {
  if (typeof v !== 'string') throw new TokenizerError(`${where}: ${name} must be a string, got ${describe(v)}`);
  return v;
}

function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new TokenizerError(`${where}: ${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

function checkBool(where: string, name: string, v: unknown): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') {
    throw new TokenizerError(`${where}: ${name} must be a boolean, got ${describe(v)}`);
  }
  return v;
}

/**
 * HF fast (`tokenizers` 0.23, `pipeline_truncate_pair` with `LongestFirst`) on a pair of
 * lengths whose sum with the special tokens exceeds `maxLength`: each sequence is first cut
 * to `maxLength`; then, with budget = maxLength − special tokens and s ≤ l the shorter and
 * longer length, l is cut to max(s, budget − s); if that still does not fit, the shorter
 * gets ⌊budget/2⌋ and the longer ⌊budget/2⌋ + budget mod 2 (on equal lengths, the second
 * sequence counts as the longer). Returns the kept lengths in input order.
 *
 * e.g. (8, 9) tokens, maxLength 10 → budget 7 → (3, 4); slow would keep (4, 3).
 */
function longestFirstFast(n1: number, n2: number, maxLength: number, budget: number): [number, number] {
  n1 = Math.min(n1, maxLength);
  n2 = Math.min(n2, maxLength);
  const swap = n1 > n2;
  let s = swap ? n2 : n1;
  let l = s > budget ? s : Math.max(s, budget - s);
  if (s + l > budget) {
    s = Math.floor(budget / 2);
    l = s + (budget % 2);
  }
  return swap ? [l, s] : [s, l];
}

/** HF slow `truncate_sequences('longest_first')`: one token at a time from the longer, the second on ties. */
function longestFirstSlow(n1: number, n2: number, toRemove: number): [number, number] {
  for (let k = 0; k < toRemove; k++) {
    if (n1 > n2) n1--;
    else n2--;
  }
  return [n1, n2];
}

interface ResolvedEncode {
  maxLength: number | undefined;
  truncation: TruncationStrategy | false;
  padding: false | 'max_length' | 'longest';
  addSpecialTokens: boolean;
  returnOffsets: boolean;
}

const TRUNCATIONS: readonly TruncationStrategy[] = ['longest_first', 'only_first', 'only_second'];

// ---------------------------------------------------------------------------------------

interface SpecialTokens {
  unk: string;
  sep: string;
  pad: string;
  cls: string;
  mask: string;
}

/**
 * BERT's WordPiece tokenizer: tokens as HF's slow `BertTokenizer` (the reference
 * algorithm, NFC included); pairs (`longest_first`, an empty second text) and offsets as
 * HF's fast tokenizer by default (`compat: 'slow'` for the slow pair rules).
 *
 * @example
 * ```ts
 * const tok = BertTokenizer.bertBaseUncased();
 * tok.tokenize('i like strawberries'); // ['i', 'like', 'straw', '##berries']
 * tok.encode('i like strawberries').inputIds; // [101, 1045, 2066, 13137, 20968, 102]
 * ```
 */
export class BertTokenizer {
  private static cachedBaseUncased: BertTokenizer | undefined;

  private readonly vocab: Map<string, number>;
  private readonly idToToken: readonly string[];
  private readonly doLowerCase: boolean;
  private readonly stripAccents: boolean;
  private readonly tokenizeChineseChars: boolean;
  private readonly maxInputCharsPerWord: number;
  private readonly modelMaxLength: number | undefined;
  /** See {@link BertTokenizerOptions.compat}. */
  readonly compat: 'fast' | 'slow';
  private readonly special: SpecialTokens;
  /** Steps 0–4 (basic.ts). */
  private readonly basic: BasicTokenizer;
  /** Step 5 (wordpiece.ts). */
  private readonly wordpieceTokenizer: WordpieceTokenizer;
  private readonly specialIds: ReadonlySet<number>;

  /** Id of the unknown-word token (`unkToken`, default '[UNK]'). */
  readonly unkTokenId: number;
  /** Id of the separator token (`sepToken`, default '[SEP]'). */
  readonly sepTokenId: number;
  /** Id of the padding token (`padToken`, default '[PAD]'); the value padCollate should pad inputIds with. */
  readonly padTokenId: number;
  /** Id of the classification token (`clsToken`, default '[CLS]'). */
  readonly clsTokenId: number;
  /** Id of the mask token (`maskToken`, default '[MASK]'). */
  readonly maskTokenId: number;

  private constructor(tokens: readonly string[], opts: BertTokenizerOptions) {
    const where = 'BertTokenizer';
    if (typeof opts !== 'object' || opts === null) throw new TokenizerError(`${where}: opts must be an object, got ${describe(opts)}`);
    this.doLowerCase = checkBool(where, 'opts.doLowerCase', opts.doLowerCase) ?? true;
    this.stripAccents = checkBool(where, 'opts.stripAccents', opts.stripAccents) ?? this.doLowerCase;
    this.tokenizeChineseChars = checkBool(where, 'opts.tokenizeChineseChars', opts.tokenizeChineseChars) ?? true;
    this.maxInputCharsPerWord =
      opts.maxInputCharsPerWord === undefined ? 100 : checkPositiveInt(where, 'opts.maxInputCharsPerWord', opts.maxInputCharsPerWord);
    this.modelMaxLength =
      opts.modelMaxLength === undefined ? undefined : checkPositiveInt(where, 'opts.modelMaxLength', opts.modelMaxLength);
    if (opts.compat !== undefined && opts.compat !== 'fast' && opts.compat !== 'slow') {
      throw new TokenizerError(`${where}: opts.compat must be 'fast' or 'slow', got ${describe(opts.compat)}`);
    }
    this.compat = opts.compat ?? 'fast';
    this.special = {
      unk: checkString(where, 'opts.unkToken', opts.unkToken ?? '[UNK]'),
      sep: checkString(where, 'opts.sepToken', opts.sepToken ?? '[SEP]'),
      pad: checkString(where, 'opts.padToken', opts.padToken ?? '[PAD]'),
      cls: checkString(where, 'opts.clsToken', opts.clsToken ?? '[CLS]'),
      mask: checkString(where, 'opts.maskToken', opts.maskToken ?? '[MASK]'),
    };

    if (!Array.isArray(tokens)) throw new TokenizerError(`${where}: tokens must be an array of strings, got ${describe(tokens)}`);
    if (tokens.length === 0) throw new TokenizerError(`${where}: the vocabulary is empty`);
    const vocab = new Map<string, number>();
    tokens.forEach((t: unknown, id) => {
      if (typeof t !== 'string') throw new TokenizerError(`${where}: vocabulary entry ${id} must be a string, got ${describe(t)}`);
      if (t.length === 0) throw new TokenizerError(`${where}: vocabulary entry ${id} is empty`);
      if (/[\r\n]/.test(t)) throw new TokenizerError(`${where}: vocabulary entry ${id} (${describe(t)}) contains a line break`);
      const prev = vocab.get(t);
      if (prev !== undefined) throw new TokenizerError(`${where}: duplicate vocabulary entry ${describe(t)} at ids ${prev} and ${id}`);
      vocab.set(t, id);
    });
    this.vocab = vocab;
    this.idToToken = [...tokens];

    const idOf = (name: string, tok: string): number => {
      const id = vocab.get(tok);
      if (id === undefined) {
        throw new TokenizerError(`${where}: the vocabulary has no ${name} token ${describe(tok)}; set opts.${name}Token to one it has`);
      }
      return id;
    };
    this.unkTokenId = idOf('unk', this.special.unk);
    this.sepTokenId = idOf('sep', this.special.sep);
    this.padTokenId = idOf('pad', this.special.pad);
    this.clsTokenId = idOf('cls', this.special.cls);
    this.maskTokenId = idOf('mask', this.special.mask);
    const specials = [...new Set(Object.values(this.special))];
    this.basic = new BasicTokenizer({
      doLowerCase: this.doLowerCase,
      stripAccents: this.stripAccents,
      tokenizeChineseChars: this.tokenizeChineseChars,
      specialTokens: specials,
    });
    this.wordpieceTokenizer = new WordpieceTokenizer(vocab, this.unkTokenId, this.maxInputCharsPerWord);
    this.specialIds = new Set([this.unkTokenId, this.sepTokenId, this.padTokenId, this.clsTokenId, this.maskTokenId]);
  }

  /**
   * Builds a tokenizer from a vocabulary given as a token list (index = id).
   * Throws a {@link TokenizerError} for empty or duplicate entries and when a special
   * token (`[UNK]`, `[SEP]`, `[PAD]`, `[CLS]`, `[MASK]` or the configured ones) is missing.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'un', '##aff', '##able']);
   * tok.tokenize('unaffable'); // ['un', '##aff', '##able']
   * ```
   */
  static fromVocab(tokens: string[], opts: BertTokenizerOptions = {}): BertTokenizer {
    return new BertTokenizer(tokens, opts);
  }

  /**
   * Reads a `vocab.txt` (one token per line, line number = id; `\n` or `\r\n` line ends;
   * a final newline is optional) and builds a tokenizer from it.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.fromVocabFile('assets/vocab.txt', { doLowerCase: true });
   * tok.vocabSize; // 30522
   * ```
   */
  static fromVocabFile(path: string, opts: BertTokenizerOptions = {}): BertTokenizer {
    checkString('BertTokenizer.fromVocabFile', 'path', path);
    let text: string;
    try {
      text = nodeFs('BertTokenizer.fromVocabFile', "fetch the vocab.txt and pass its text to BertTokenizer.fromVocabText instead").readFileSync(path, 'utf8');
    } catch (err) {
      throw new TokenizerError(`BertTokenizer.fromVocabFile: cannot read vocabulary file ${describe(path)}: ${(err as Error).message}`);
    }
    return BertTokenizer.fromVocabText(text, opts);
  }

  /**
   * Builds a tokenizer from the text of a `vocab.txt` (one token per line, line number = id;
   * `\n` or `\r\n` line ends; a final newline is optional) — what `fromVocabFile` reads, for
   * runtimes without a file system (a browser: `await (await fetch(url)).text()`).
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.fromVocabText('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n');
   * tok.convertTokensToIds(['hello']); // [5]
   * ```
   */
  static fromVocabText(text: string, opts: BertTokenizerOptions = {}): BertTokenizer {
    checkString('BertTokenizer.fromVocabText', 'text', text);
    const lines = text.split(/\r?\n/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    return new BertTokenizer(lines, opts);
  }

  /**
   * The bert-base-uncased tokenizer, from the vocabulary shipped in `assets/vocab.txt`
   * (lower-casing, accent stripping, `modelMaxLength` 512). Cached after the first call.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * tok.convertTokensToIds(['[CLS]', 'hello', '[SEP]']); // [101, 7592, 102]
   * ```
   */
  static bertBaseUncased(): BertTokenizer {
    if (BertTokenizer.cachedBaseUncased === undefined) {
      // src/data/tokenizer.ts and the built dist/data/tokenizer.js both sit two levels below the package root.
      const url = new URL('../../../assets/vocab.txt', import.meta.url);
      let text: string;
      try {
        text = nodeFs('BertTokenizer.bertBaseUncased', "fetch assets/vocab.txt and call BertTokenizer.fromVocabText(text, { doLowerCase: true, modelMaxLength: 512 }) instead").readFileSync(url, 'utf8');
      } catch (err) {
        throw new TokenizerError(`BertTokenizer.bertBaseUncased: cannot read the shipped vocabulary ${url.href}: ${(err as Error).message}`);
      }
      BertTokenizer.cachedBaseUncased = BertTokenizer.fromVocabText(text, { doLowerCase: true, modelMaxLength: 512 });
    }
    return BertTokenizer.cachedBaseUncased;
  }

  /**
   * Number of entries in the vocabulary; every id is in [0, vocabSize).
   *
   * @example
   * ```ts
   * BertTokenizer.bertBaseUncased().vocabSize; // 30522
   * ```
   */
  get vocabSize(): number {
    return this.idToToken.length;
  }

  /**
   * The tokenizer as HF's files: `vocab.txt` (one token per line, id = line) and
   * `tokenizer_config.json` (class, casing, special tokens, max length), so that
   * `AutoTokenizer.from_pretrained(folder)` and `BertTokenizer.fromVocabFile` load it back.
   *
   * @example
   * const { 'vocab.txt': vocab, 'tokenizer_config.json': config } = tok.toHFFiles();
   */
  toHFFiles(): { 'vocab.txt': string; 'tokenizer_config.json': string } {
    const config = {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: this.doLowerCase,
      strip_accents: this.stripAccents === this.doLowerCase ? null : this.stripAccents,
      tokenize_chinese_chars: this.tokenizeChineseChars,
      unk_token: this.special.unk, sep_token: this.special.sep, pad_token: this.special.pad, cls_token: this.special.cls, mask_token: this.special.mask,
      ...(this.modelMaxLength !== undefined ? { model_max_length: this.modelMaxLength } : {}),
    };
    return { 'vocab.txt': this.idToToken.join('\n') + '\n', 'tokenizer_config.json': JSON.stringify(config, null, 2) + '\n' };
  }

  // -------------------------------------------------------------------------------------
  // Tokenization

  /**
   * Splits text into WordPiece tokens, without adding [CLS]/[SEP]. Special tokens written
   * in the text (`"[MASK]"`) are kept whole, as HF does.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * tok.tokenize('Héllo, WORLD!'); // ['hello', ',', 'world', '!']
   * tok.tokenize('i like strawberries'); // ['i', 'like', 'straw', '##berries']
   * ```
   */
  tokenize(text: string): string[] {
    checkString('BertTokenizer.tokenize', 'text', text);
    return this.pieces(this.basic.preTokenize(text)).map((p) => this.idToToken[p.id]!);
  }

  /**
   * The words that WordPiece then splits: whitespace- and punctuation-separated, lower-cased
   * and accent-stripped as configured (the reference `BasicTokenizer.tokenize` output,
   * plus special tokens written in the text).
   *
   * @example
   * ```ts
   * BertTokenizer.bertBaseUncased().basicTokenize("Don't stop"); // ['don', "'", 't', 'stop']
   * ```
   */
  basicTokenize(text: string): string[] {
    checkString('BertTokenizer.basicTokenize', 'text', text);
    return this.basic.preTokenize(text).map((w) => joinUnits(w.units));
  }

  /**
   * Maps tokens to ids; a token not in the vocabulary maps to `unkTokenId` (as in HF).
   *
   * @example
   * ```ts
   * BertTokenizer.bertBaseUncased().convertTokensToIds(['straw', '##berries', 'zzzzqqq']); // [13137, 20968, 100]
   * ```
   */
  convertTokensToIds(tokens: string[]): number[] {
    if (!Array.isArray(tokens)) throw new TokenizerError(`BertTokenizer.convertTokensToIds: tokens must be an array of strings, got ${describe(tokens)}`);
    return tokens.map((t, i) => this.vocab.get(checkString('BertTokenizer.convertTokensToIds', `tokens[${i}]`, t)) ?? this.unkTokenId);
  }

  /**
   * Maps ids to tokens; throws a {@link TokenizerError} for an id outside [0, vocabSize).
   *
   * @example
   * ```ts
   * BertTokenizer.bertBaseUncased().convertIdsToTokens([101, 7592, 102]); // ['[CLS]', 'hello', '[SEP]']
   * ```
   */
  convertIdsToTokens(ids: number[]): string[] {
    return this.checkIds('BertTokenizer.convertIdsToTokens', ids).map((id) => this.idToToken[id]!);
  }

  /**
   * Turns ids back into text: joins tokens with spaces, glues `##` pieces to the previous
   * token, trims, and (by default) applies HF's `clean_up_tokenization`
   * (" ." → ".", " ?" → "?", " !" → "!", " ," → ",", " ' " → "'", " n't", " 'm", " 's",
   * " 've", " 're" lose their space). Lower-casing and accent stripping are not undone.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * tok.decode([101, 7592, 1010, 2088, 999, 102]); // '[CLS] hello, world! [SEP]'
   * tok.decode([101, 7592, 1010, 2088, 999, 102], { skipSpecialTokens: true }); // 'hello, world!'
   * ```
   */
  decode(ids: number[], opts: DecodeOptions = {}): string {
    const where = 'BertTokenizer.decode';
    this.checkIds(where, ids);
    const skip = checkBool(where, 'opts.skipSpecialTokens', opts.skipSpecialTokens) ?? false;
    const cleanUp = checkBool(where, 'opts.cleanUpTokenizationSpaces', opts.cleanUpTokenizationSpaces) ?? true;
    const tokens = ids.filter((id) => !(skip && this.specialIds.has(id))).map((id) => this.idToToken[id]!);
    // convert_tokens_to_string: " ".join(tokens).replace(" ##", "").strip()
    let text = tokens.join(' ').replaceAll(' ##', '').trim();
    if (cleanUp) {
      text = text
        .replaceAll(' .', '.')
        .replaceAll(' ?', '?')
        .replaceAll(' !', '!')
        .replaceAll(' ,', ',')
        .replaceAll(" ' ", "'")
        .replaceAll(" n't", "n't")
        .replaceAll(" 'm", "'m")
        .replaceAll(" 's", "'s")
        .replaceAll(" 've", "'ve")
        .replaceAll(" 're", "'re");
    }
    return text;
  }

  // -------------------------------------------------------------------------------------
  // Encoding

  /**
   * Encodes a text, or a pair of texts, into model inputs: `[CLS] A [SEP]` or
   * `[CLS] A [SEP] B [SEP]` with segment ids 0/1, an attention mask, word ids (restarting
   * at 0 in the second text, like HF's `word_ids()`) and optionally character offsets.
   *
   * Length handling (HF-like, with two deliberate differences that turn silent surprises
   * into errors):
   *   - `maxLength` counts special tokens. When it is given and `truncation` is not,
   *     `'longest_first'` truncation applies (HF does so only when padding is off, and
   *     otherwise returns rows longer than `maxLength`).
   *   - `'longest_first'` on a pair splits the budget as HF's fast tokenizer does (see
   *     {@link BertTokenizerOptions.compat}; `compat: 'slow'` removes one token at a time
   *     from the longer sequence, the second on ties); an empty second text gives
   *     `[CLS] A [SEP]` (fast) or `[CLS] A [SEP] [SEP]` (slow); `'only_first'`/`'only_second'`
   *     shorten one sequence and throw if it is too short to absorb the cut (HF logs an
   *     error and returns the input untruncated); a single sequence must keep at least one
   *     token. `truncation` (or `padding: 'max_length'`) without `maxLength` uses the
   *     tokenizer's `modelMaxLength` (and then also truncates by default), and throws if
   *     there is none.
   *   - `truncation: false` with a `maxLength` throws when the input does not fit, so an
   *     over-long row can never reach a model with fixed position embeddings.
   *   - A `maxLength` smaller than the number of special tokens always throws.
   *   - Without special tokens, the second text still gets segment id 1 (HF fast does;
   *     HF slow gives 0).
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * const e = tok.encode(['who?', 'me'], { maxLength: 8, padding: 'max_length', returnOffsets: true });
   * e.inputIds;      // [101, 2040, 1029, 102, 2033, 102, 0, 0]
   * e.tokenTypeIds;  // [0, 0, 0, 0, 1, 1, 0, 0]
   * e.attentionMask; // [1, 1, 1, 1, 1, 1, 0, 0]
   * e.wordIds;       // [null, 0, 1, null, 0, null, null, null]
   * e.offsets;       // [[0,0], [0,3], [3,4], [0,0], [0,2], [0,0], [0,0], [0,0]]
   * ```
   */
  encode(text: string | [string, string], opts: EncodeOptions = {}): Encoding {
    const where = 'BertTokenizer.encode';
    const o = this.resolveEncode(where, opts);
    const [a, b] = this.textInput(where, 'text', text);
    const enc = this.build(where, a, b, o);
    return this.pad([enc], o)[0]!;
  }

  /**
   * Encodes pre-tokenized input (HF's `is_split_into_words=True`): each word is tokenized
   * on its own (it may still split at punctuation), and `wordIds` index into `words`,
   * which is what word-level labels (NER) are aligned with. `offsets` are relative to
   * the word they point to: `words[wordIds[i]].slice(...offsets[i])`. A word that yields
   * no token (empty, whitespace or control characters only) is absent from `wordIds`.
   * A pair is given as `[wordsA, wordsB]`. Options as for {@link BertTokenizer.encode}.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * const e = tok.encodeWords(['I', 'like', 'strawberries']);
   * e.inputIds; // [101, 1045, 2066, 13137, 20968, 102]
   * e.wordIds;  // [null, 0, 1, 2, 2, null]
   * ```
   */
  encodeWords(words: string[] | [string[], string[]], opts: EncodeOptions = {}): Encoding {
    const where = 'BertTokenizer.encodeWords';
    const o = this.resolveEncode(where, opts);
    const [a, b] = this.wordsInput(where, 'words', words);
    const enc = this.build(where, a, b, o);
    return this.pad([enc], o)[0]!;
  }

  /**
   * Encodes many texts (or pairs) with the same options; `padding: 'longest'` pads every
   * row to the longest row of the batch.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * const [x, y] = tok.encodeBatch(['hello', 'hello world'], { padding: 'longest' });
   * x.inputIds; // [101, 7592, 102, 0]
   * y.inputIds; // [101, 7592, 2088, 102]
   * ```
   */
  encodeBatch(texts: (string | [string, string])[], opts: EncodeOptions = {}): Encoding[] {
    const where = 'BertTokenizer.encodeBatch';
    if (!Array.isArray(texts)) throw new TokenizerError(`${where}: texts must be an array, got ${describe(texts)}`);
    const o = this.resolveEncode(where, opts);
    const encs = texts.map((t, i) => {
      const [a, b] = this.textInput(where, `texts[${i}]`, t);
      return this.build(`${where} (texts[${i}])`, a, b, o);
    });
    return this.pad(encs, o);
  }

  /**
   * {@link BertTokenizer.encodeWords} for a batch of pre-tokenized inputs.
   *
   * @example
   * ```ts
   * const tok = BertTokenizer.bertBaseUncased();
   * const rows = tok.encodeWordsBatch([['Paris'], ['in', 'Paris']], { padding: 'longest' });
   * rows[0].wordIds; // [null, 0, null, null]
   * ```
   */
  encodeWordsBatch(batch: (string[] | [string[], string[]])[], opts: EncodeOptions = {}): Encoding[] {
    const where = 'BertTokenizer.encodeWordsBatch';
    if (!Array.isArray(batch)) throw new TokenizerError(`${where}: batch must be an array, got ${describe(batch)}`);
    const o = this.resolveEncode(where, opts);
    const encs = batch.map((words, i) => {
      const [a, b] = this.wordsInput(where, `batch[${i}]`, words);
      return this.build(`${where} (batch[${i}])`, a, b, o);
    });
    return this.pad(encs, o);
  }

  // -------------------------------------------------------------------------------------
  // Internals: pre-tokenization (steps 0–4)

  /** Leftmost-longest special token starting at `units[i]`, or undefined. */
  // -------------------------------------------------------------------------------------
  // Internals: WordPiece (step 5)

  /** WordPiece over pre-tokenized words; `wordIndex(i)` gives the word id of words[i]. */
  private pieces(words: Word[], wordIndex: (i: number) => number = (i) => i): Piece[] {
    const out: Piece[] = [];
    words.forEach((w, i) => {
      const word = wordIndex(i);
      if (w.special) {
        const [start, end] = spanOf(w.units);
        out.push({ id: this.vocab.get(joinUnits(w.units))!, start, end, word });
        return;
      }
      for (const p of this.wordpieceTokenizer.tokenize(w.units)) out.push({ ...p, word });
    });
    return out;
  }

  /** `WordpieceTokenizer.tokenize` for one word: greedy longest-match-first. */
  // -------------------------------------------------------------------------------------
  // Internals: encode

  private resolveEncode(where: string, opts: EncodeOptions): ResolvedEncode {
    if (typeof opts !== 'object' || opts === null) throw new TokenizerError(`${where}: opts must be an object, got ${describe(opts)}`);
    const maxLength = opts.maxLength === undefined ? undefined : checkPositiveInt(where, 'opts.maxLength', opts.maxLength);
    const t = opts.truncation;
    if (t !== undefined && typeof t !== 'boolean' && !TRUNCATIONS.includes(t)) {
      throw new TokenizerError(`${where}: opts.truncation must be a boolean or one of ${TRUNCATIONS.join(', ')}, got ${describe(t)}`);
    }
    const p = opts.padding;
    if (p !== undefined && p !== false && p !== 'max_length' && p !== 'longest') {
      throw new TokenizerError(`${where}: opts.padding must be false, 'max_length' or 'longest', got ${describe(p)}`);
    }
    const addSpecialTokens = checkBool(where, 'opts.addSpecialTokens', opts.addSpecialTokens) ?? true;
    const returnOffsets = checkBool(where, 'opts.returnOffsets', opts.returnOffsets) ?? false;
    const asked: TruncationStrategy | false | undefined = t === true ? 'longest_first' : t;
    const padding = p ?? false;
    let limit = maxLength;
    if (limit === undefined && ((asked !== undefined && asked !== false) || padding === 'max_length')) {
      if (this.modelMaxLength === undefined) {
        const what = asked !== undefined && asked !== false ? `truncation ${describe(asked)}` : "padding 'max_length'";
        throw new TokenizerError(`${where}: ${what} needs opts.maxLength (this tokenizer has no modelMaxLength)`);
      }
      limit = this.modelMaxLength;
    }
    // Unless told otherwise, truncate whenever a length limit is in force.
    const truncation = asked ?? (limit !== undefined ? 'longest_first' : false);
    return { maxLength: limit, truncation, padding, addSpecialTokens, returnOffsets };
  }

  private textInput(where: string, name: string, v: unknown): [Piece[], Piece[] | undefined] {
    if (typeof v === 'string') return [this.pieces(this.basic.preTokenize(v)), undefined];
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') {
      // HF fast (`text_pair` falsy): an empty second text means a single sequence.
      if (v[1] === '' && this.compat === 'fast') return [this.pieces(this.basic.preTokenize(v[0])), undefined];
      return [this.pieces(this.basic.preTokenize(v[0])), this.pieces(this.basic.preTokenize(v[1]))];
    }
    throw new TokenizerError(`${where}: ${name} must be a string or a [string, string] pair, got ${describe(v)}`);
  }

  private wordsInput(where: string, name: string, v: unknown): [Piece[], Piece[] | undefined] {
    const isWords = (x: unknown): x is string[] => Array.isArray(x) && x.every((w) => typeof w === 'string');
    if (isWords(v)) return [this.wordPieces(v), undefined];
    if (Array.isArray(v) && v.length === 2 && isWords(v[0]) && isWords(v[1])) {
      if (v[1].length === 0 && this.compat === 'fast') return [this.wordPieces(v[0]), undefined];
      return [this.wordPieces(v[0]), this.wordPieces(v[1])];
    }
    throw new TokenizerError(`${where}: ${name} must be an array of strings or a [string[], string[]] pair, got ${describe(v)}`);
  }

  /** Pieces of pre-split words: each word tokenized alone, word ids = its index in `words`. */
  private wordPieces(words: string[]): Piece[] {
    const out: Piece[] = [];
    words.forEach((w, i) => {
      for (const p of this.pieces(this.basic.preTokenize(w), () => i)) out.push(p);
    });
    return out;
  }

  /** Truncates (HF `truncate_sequences`) and adds special tokens; no padding yet. */
  private build(where: string, a: Piece[], b: Piece[] | undefined, o: ResolvedEncode): Encoding {
    const numSpecial = o.addSpecialTokens ? (b === undefined ? 2 : 3) : 0;
    if (o.maxLength !== undefined && o.maxLength < numSpecial) {
      throw new TokenizerError(
        `${where}: maxLength ${o.maxLength} cannot hold the ${numSpecial} special tokens of a ${b === undefined ? 'single sequence' : 'pair'}`,
      );
    }
    const total = a.length + (b?.length ?? 0) + numSpecial;
    if (o.maxLength !== undefined && total > o.maxLength) {
      const toRemove = total - o.maxLength;
      const t = o.truncation;
      if (t === false) {
        throw new TokenizerError(
          `${where}: the input is ${total} tokens long, more than maxLength ${o.maxLength}, and truncation is false; ` +
            `allow truncation or raise maxLength`,
        );
      }
      if (t === 'only_first' || (t === 'longest_first' && b === undefined)) {
        if (a.length <= toRemove) {
          throw new TokenizerError(
            `${where}: truncation ${describe(t)} must remove ${toRemove} tokens but the first sequence has only ${a.length}; ` +
              `raise maxLength or choose another truncation strategy`,
          );
        }
        a = a.slice(0, a.length - toRemove);
      } else if (t === 'only_second') {
        if (b === undefined) {
          throw new TokenizerError(`${where}: truncation 'only_second' needs a pair of sequences, got a single one of ${total} tokens`);
        }
        if (b.length <= toRemove) {
          throw new TokenizerError(
            `${where}: truncation 'only_second' must remove ${toRemove} tokens but the second sequence has only ${b.length}; ` +
              `raise maxLength or choose another truncation strategy`,
          );
        }
        b = b.slice(0, b.length - toRemove);
      } else {
        const [na, nb] = this.compat === 'fast' ? longestFirstFast(a.length, b!.length, o.maxLength, o.maxLength - numSpecial) : longestFirstSlow(a.length, b!.length, toRemove);
        a = a.slice(0, na);
        b = b!.slice(0, nb);
      }
    }

    const enc: Encoding = { inputIds: [], tokenTypeIds: [], attentionMask: [], wordIds: [], offsets: [] };
    const push = (id: number, type: number, word: number | null, off: [number, number]): void => {
      enc.inputIds.push(id);
      enc.tokenTypeIds.push(type);
      enc.attentionMask.push(1);
      enc.wordIds.push(word);
      enc.offsets!.push(off);
    };
    if (o.addSpecialTokens) push(this.clsTokenId, 0, null, [0, 0]);
    for (const p of a) push(p.id, 0, p.word, [p.start, p.end]);
    if (o.addSpecialTokens) push(this.sepTokenId, 0, null, [0, 0]);
    if (b !== undefined) {
      for (const p of b) push(p.id, 1, p.word, [p.start, p.end]);
      if (o.addSpecialTokens) push(this.sepTokenId, 1, null, [0, 0]);
    }
    if (!o.returnOffsets) delete enc.offsets;
    return enc;
  }

  /** Right-pads every encoding to the padding target (pad id, segment 0, mask 0, word null, offset [0,0]). */
  private pad(encs: Encoding[], o: ResolvedEncode): Encoding[] {
    if (o.padding === false) return encs;
    const target = o.padding === 'max_length' ? o.maxLength! : encs.reduce((m, e) => Math.max(m, e.inputIds.length), 0);
    for (const e of encs) {
      for (let k = e.inputIds.length; k < target; k++) {
        e.inputIds.push(this.padTokenId);
        e.tokenTypeIds.push(0);
        e.attentionMask.push(0);
        e.wordIds.push(null);
        e.offsets?.push([0, 0]);
      }
    }
    return encs;
  }

  private checkIds(where: string, ids: unknown): number[] {
    if (!Array.isArray(ids)) throw new TokenizerError(`${where}: ids must be an array of integers, got ${describe(ids)}`);
    ids.forEach((id: unknown, i) => {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new TokenizerError(`${where}: ids[${i}] must be an integer in [0, ${this.vocabSize}), got ${describe(id)}`);
      }
    });
    return ids as number[];
  }
}
