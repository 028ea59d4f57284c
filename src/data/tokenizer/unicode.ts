/**
 * The character layer of BERT's tokenizer: Unicode classes as the reference defines them
 * (`tokenization.py`: `_is_whitespace`, `_is_control`, `_is_punctuation`, the CJK ranges of
 * `_tokenize_chinese_chars`) and code points that carry their [start, end) span in the
 * original string through every transform (NFC, lower-casing, accent stripping), aligned
 * as HF's fast tokenizer aligns them (`NormalizedString::transform`).
 *
 * Used by basic.ts (pre-tokenization) and wordpiece.ts; see bert.ts for the whole pipeline.
 */

// ---------------------------------------------------------------------------------------
// Character classes (reference: tokenization.py, module-level helpers)

export const CATEGORY_C = /\p{C}/u;
export const CATEGORY_ZS = /\p{Zs}/u;
export const CATEGORY_P = /\p{P}/u;
export const CATEGORY_MN = /\p{Mn}/u;
/** Characters that NFC may compose with the character before them (see `clusters`). */
export const COMBINING = /[\p{M}\u1160-\u11FF]/u;
export const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** `_is_control`: category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r. */
export function isControl(c: string, cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  if (cp < 0x80) return cp < 0x20 || cp === 0x7f;
  return CATEGORY_C.test(c);
}

/** `_is_whitespace` (space, \t \n \r, Zs) plus U+2028/U+2029, which `str.split()` also splits on. */
export function isWhitespace(c: string, cp: number): boolean {
  if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) return true;
  if (cp < 0x80) return false;
  return cp === 0x2028 || cp === 0x2029 || CATEGORY_ZS.test(c);
}

/** `_is_punctuation`: all non-alphanumeric printable ASCII, plus Unicode category P*. */
export function isPunctuation(c: string, cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 0x80) return false;
  return CATEGORY_P.test(c);
}

/** `_is_chinese_char`: the CJK Unified Ideographs blocks, exactly the reference's ranges. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// ---------------------------------------------------------------------------------------
// Characters with their source spans

/** One code point `c` and the [s, e) span of the original string it came from. */
export interface Unit {
  c: string;
  s: number;
  e: number;
  /**
   * For a character NFC composed from several (`e` + U+0301 → `é`): the span of its base
   * alone, while [s, e) covers all of them. HF fast never composes, so an accent that
   * accent stripping removes must not count (`'cafe\u0301'` → (0, 4)), while one that
   * stays (cased tokenizers) does (`'Cafe\u0301'` → (0, 5)).
   */
  base?: [number, number];
  /**
   * For a composed character: its source characters, each with its own span (conjoining
   * Hangul jamo L + V + T → a syllable). Accent stripping decomposes it again and, when the
   * pieces are exactly these sources, gives each its own span, as fast (which never
   * composed them) does.
   */
  parts?: { c: string; s: number; e: number }[];
}

/** A pre-tokenized word: its code points, and whether it is a special token taken whole. */
export interface Word {
  units: Unit[];
  special: boolean;
}

/** One output token: vocabulary id, source span and the index of its word. */
export interface Piece {
  id: number;
  start: number;
  end: number;
  word: number;
}

export function joinUnits(units: Unit[]): string {
  let s = '';
  for (const u of units) s += u.c;
  return s;
}

export function spanOf(units: Unit[]): [number, number] {
  let s = Infinity;
  let e = -Infinity;
  for (const u of units) {
    if (u.s < s) s = u.s;
    if (u.e > e) e = u.e;
  }
  return [s, e];
}

/** Splits `text` into code points (a lone surrogate is one unit) with their UTF-16 spans. */
export function toUnits(text: string): Unit[] {
  const units: Unit[] = [];
  let i = 0;
  for (const c of text) {
    units.push({ c, s: i, e: i + c.length });
    i += c.length;
  }
  return units;
}

/** Groups a base character with the combining characters after it (NFC never composes across groups). */
export function clusters(units: Unit[]): Unit[][] {
  const groups: Unit[][] = [];
  for (const u of units) {
    const last = groups[groups.length - 1];
    if (last !== undefined && COMBINING.test(u.c)) last.push(u);
    else groups.push([u]);
  }
  return groups;
}

/** Longest cluster aligned by prefixes (quadratic); longer ones get the cluster's span. */
export const MAX_PREFIX_CLUSTER = 64;

/**
 * Applies a string transform to a word while keeping spans, as HF's fast tokenizer aligns
 * them (`NormalizedString::transform`): every output character takes the span of one
 * source character — the one whose arrival first made the output that long — so an
 * expansion (`İ` → `i̇`, NFD) shares its source's span and a removed character (a
 * stripped accent) takes no part in any token's offsets: `'cafe\u0301'` → `cafe` at
 * (0, 4), as in fast. `mode` `'compose'` (NFC) gives a composed character the union of
 * its sources' spans and remembers its base's span in `base`; `'strip'` (accent
 * stripping) falls back to that base span. Computed per cluster (a base and its marks; a
 * transform never crosses one) on the cluster's prefixes. If the per-cluster results ever
 * differed from transforming the whole word, every character gets the whole word's span,
 * so the tokens stay exact and only offsets coarsen.
 */
export function transform(units: Unit[], fn: (s: string) => string, mode: 'compose' | 'strip' | 'plain' = 'plain'): Unit[] {
  if (mode === 'strip') {
    // Undo a composition whose pieces strip to exactly what the composed character strips to.
    units = units.flatMap((u) =>
      u.parts !== undefined && u.parts.map((p) => fn(p.c)).join('') === fn(u.c) ? u.parts.map((p) => ({ c: p.c, s: p.s, e: p.e })) : [u],
    );
  }
  const whole = fn(joinUnits(units));
  const out: Unit[] = [];
  let concat = '';
  for (const group of clusters(units)) {
    const r = fn(joinUnits(group));
    concat += r;
    // src[j]: index in `group` of the source character of output character j;
    // owner[k]: the output character that source k went into (composition).
    const src: number[] = [];
    const owner: number[] = [];
    let perUnit = '';
    if (group.length > 1) for (const u of group) perUnit += fn(u.c);
    if (group.length === 1) {
      for (const _ of r) src.push(0);
      owner.push(0);
    } else if (perUnit === r) {
      // Each character transforms on its own (lower-casing, accent stripping, no composition).
      group.forEach((u, k) => {
        owner.push(src.length);
        for (const _ of fn(u.c)) src.push(k);
      });
    } else if (group.length > MAX_PREFIX_CLUSTER) {
      // A pathological run of marks: the whole cluster's span for every output character.
      const [gs, ge] = spanOf(group);
      for (const c of r) out.push({ c, s: gs, e: ge });
      continue;
    } else {
      let prefix = '';
      for (let k = 0; k < group.length; k++) {
        prefix += group[k]!.c;
        let len = 0;
        for (const _ of fn(prefix)) len++;
        owner.push(len > src.length ? src.length : Math.max(0, len - 1));
        while (src.length < len) src.push(k);
      }
    }
    // Composition: output character j spans every source that went into it.
    const unionS: number[] = [];
    const unionE: number[] = [];
    if (mode === 'compose') {
      owner.forEach((j, k) => {
        const g = group[k]!;
        unionS[j] = Math.min(unionS[j] ?? Infinity, g.s);
        unionE[j] = Math.max(unionE[j] ?? -Infinity, g.e);
      });
    }
    let j = 0;
    for (const c of r) {
      const u = group[src[j] ?? group.length - 1]!;
      if (mode === 'strip') {
        const [s, e] = u.base ?? [u.s, u.e];
        out.push({ c, s, e });
      } else if (mode === 'compose') {
        const s = Math.min(u.s, unionS[j] ?? u.s);
        const e = Math.max(u.e, unionE[j] ?? u.e);
        if (s === u.s && e === u.e) {
          out.push({ c, s, e });
        } else {
          const parts = group.flatMap((g, k) => (owner[k] === j ? (g.parts ?? [{ c: g.c, s: g.s, e: g.e }]) : []));
          out.push({ c, s, e, base: u.base ?? [u.s, u.e], parts });
        }
      } else {
        const v: Unit = { c, s: u.s, e: u.e };
        if (u.base !== undefined) v.base = u.base;
        // (lower-casing) the pieces of a composed character change as it does
        if (u.parts !== undefined) v.parts = u.parts.map((p) => ({ c: fn(p.c), s: p.s, e: p.e }));
        out.push(v);
      }
      j++;
    }
  }
  if (concat === whole) return out;
  const [s, e] = spanOf(units);
  return Array.from(whole, (c) => ({ c, s, e }));
}

export const nfc = (s: string): string => s.normalize('NFC');
export const lower = (s: string): string => s.toLowerCase();
/** `_run_strip_accents`: NFD, then drop nonspacing marks (Mn). */
export function stripAccentsOf(s: string): string {
  let out = '';
  for (const c of s.normalize('NFD')) if (!CATEGORY_MN.test(c)) out += c;
  return out;
}
