/**
 * Token classification (NER), as transformers' `TokenClassificationPipeline`
 * (pipelines/token_classification.py): per-token softmax scores, then one of the aggregation
 * strategies —
 *
 *   none     one entry per sub-word token: { entity, score, index, word, start, end }
 *   simple   adjacent tokens whose tags continue each other (B-X I-X I-X, or I-X I-X) are
 *            grouped: { entity_group: X, score: mean of their scores, word, start, end }
 *   first    tokens are first merged into words (a word takes the tag of its first token),
 *            then grouped as `simple`
 *   max      … a word takes the tag of its most confident token
 *   average  … a word takes the argmax of its tokens' mean scores
 *
 * A token continues a word (`is_subword`) when its text differs in length from its vocabulary
 * entry (`##ing` vs `ing`), exactly HF's test for WordPiece tokenizers; an [UNK] token shows the
 * original text and always starts a word. Entities tagged with an `ignoreLabels` label (default
 * `O`) are dropped. Offsets are UTF-16 indices into the text: `text.slice(start, end)`.
 */
import { EncoderPipeline, checks, type ParamSpec } from './base.js';
import { softmaxRow, tokensToString, type EncodedText } from './encoder.js';
import type { LoadedEncoder } from './load.js';

/** How token predictions become entities (transformers' `aggregation_strategy`): 'none' (one per token), 'simple' (B-/I- groups), 'first' / 'max' / 'average' (one label per word). */
export type AggregationStrategy = 'none' | 'simple' | 'first' | 'max' | 'average';
export const AGGREGATION_STRATEGIES: readonly AggregationStrategy[] = ['none', 'simple', 'first', 'max', 'average'];

/** One token (`aggregationStrategy: 'none'`). */
export interface TokenEntity {
  /** The token's predicted label (e.g. 'B-PER'). */
  entity: string;
  /** Softmax probability of that label, in [0, 1]. */
  score: number;
  /** Position of the token in the encoded sequence ([CLS] is 0). */
  index: number;
  /** The token's text (a `##` continuation keeps its prefix; [UNK] shows the original text). */
  word: string;
  /** UTF-16 index of the token's first character in the input text. */
  start: number;
  /** UTF-16 index just past the token's last character: `text.slice(start, end)`. */
  end: number;
}

/** A grouped entity (every other strategy). */
export interface GroupedEntity {
  /** The entity type without its B-/I- prefix (e.g. 'PER'). */
  entity_group: string;
  /** Mean of the grouped tokens' (or words') scores. */
  score: number;
  /** The entity's text, sub-words joined. */
  word: string;
  /** UTF-16 index of the entity's first character in the input text. */
  start: number;
  /** UTF-16 index just past the entity's last character: `text.slice(start, end)`. */
  end: number;
}

export interface TokenClassificationParams {
  /** Default 'none' (as transformers). */
  aggregationStrategy?: AggregationStrategy;
  /** Labels to drop (default ['O']). */
  ignoreLabels?: string[];
}

interface PreEntity {
  word: string;
  scores: Float64Array;
  start: number;
  end: number;
  index: number;
  isSubword: boolean;
}

interface WordEntity {
  entity: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

function argmax(v: Float64Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

function maxOf(v: Float64Array): number {
  return v[argmax(v)]!;
}

/** HF's get_tag: B-X → (B, X); I-X → (I, X); anything else → (I, itself). */
function getTag(name: string): [string, string] {
  if (name.startsWith('B-')) return ['B', name.slice(2)];
  if (name.startsWith('I-')) return ['I', name.slice(2)];
  return ['I', name];
}

/**
 * The token-classification (NER) pipeline (transformers' `TokenClassificationPipeline`): per-token
 * labels of a BertForTokenClassification folder, grouped into entities with character offsets.
 *
 * @example
 * const ner = pipeline('token-classification', 'out/ner', { aggregationStrategy: 'simple' });
 * ner('George Washington went to Washington');
 * // [{ entity_group: 'PER', score: 0.98, word: 'george washington', start: 0, end: 17 }, …]
 */
export class TokenClassificationPipeline extends EncoderPipeline<TokenClassificationParams, (TokenEntity | GroupedEntity)[]> {
  /** Always 'token-classification'. */
  readonly task = 'token-classification' as const;
  protected readonly perToken = true;
  protected readonly paramSpecs: ParamSpec[] = [
    { name: 'aggregationStrategy', check: checks.oneOf(AGGREGATION_STRATEGIES) },
    { name: 'ignoreLabels', check: (v, f) => (Array.isArray(v) && v.length === 0 ? [] : checks.strings(v, f)) },
  ];

  constructor(loaded: LoadedEncoder, readonly defaults: TokenClassificationParams = {}) {
    super(loaded);
  }

  postprocess(item: EncodedText, logits: Float32Array, params: TokenClassificationParams): (TokenEntity | GroupedEntity)[] {
    const strategy = params.aggregationStrategy ?? this.defaults.aggregationStrategy ?? 'none';
    const ignore = params.ignoreLabels ?? this.defaults.ignoreLabels ?? ['O'];
    const L = this.loaded.labels.length;
    const tok = this.loaded.tokenizer;
    const pre: PreEntity[] = [];
    for (let i = 0; i < item.inputIds.length; i++) {
      if (item.special[i]) continue;
      const id = item.inputIds[i]!;
      const [start, end] = item.offsets[i]!;
      const ref = item.text.slice(start, end);
      let word = tok.convertIdsToTokens([id])[0]!;
      let isSubword = word.length !== ref.length;
      if (id === tok.unkTokenId) {
        word = ref;
        isSubword = false;
      }
      pre.push({ word, scores: softmaxRow(logits, i * L, L), start, end, index: i, isSubword });
    }
    let entities: (TokenEntity | GroupedEntity)[];
    if (strategy === 'none' || strategy === 'simple') {
      const toks: TokenEntity[] = pre.map((p) => {
        const k = argmax(p.scores);
        return { entity: this.loaded.labels[k]!, score: p.scores[k]!, index: p.index, word: p.word, start: p.start, end: p.end };
      });
      entities = strategy === 'none' ? toks : groupEntities(toks);
    } else {
      entities = groupEntities(this.aggregateWords(pre, strategy));
    }
    return entities.filter((e) => !ignore.includes('entity' in e ? e.entity : e.entity_group));
  }

  private aggregateWords(pre: PreEntity[], strategy: 'first' | 'max' | 'average'): WordEntity[] {
    const words: WordEntity[] = [];
    let group: PreEntity[] | null = null;
    const flush = (g: PreEntity[]) => words.push(this.aggregateWord(g, strategy));
    for (const p of pre) {
      if (group === null) group = [p];
      else if (p.isSubword) group.push(p);
      else {
        flush(group);
        group = [p];
      }
    }
    if (group) flush(group);
    return words;
  }

  private aggregateWord(g: PreEntity[], strategy: 'first' | 'max' | 'average'): WordEntity {
    let scores: Float64Array;
    if (strategy === 'first') scores = g[0]!.scores;
    else if (strategy === 'max') scores = g.reduce((a, b) => (maxOf(b.scores) > maxOf(a.scores) ? b : a)).scores; // first of the ties, as Python's max
    else {
      scores = new Float64Array(g[0]!.scores.length);
      for (const p of g) p.scores.forEach((s, j) => (scores[j]! += s / g.length));
    }
    const k = argmax(scores);
    return { entity: this.loaded.labels[k]!, score: scores[k]!, word: tokensToString(g.map((p) => p.word)), start: g[0]!.start, end: g[g.length - 1]!.end };
  }
}

/** Python's `name.split("-", 1)[-1]`. */
function afterDash(name: string): string {
  const i = name.indexOf('-');
  return i < 0 ? name : name.slice(i + 1);
}

/** HF's group_entities: consecutive entities whose tag continues (same type, not B-) form one group. */
function groupEntities(entities: WordEntity[]): GroupedEntity[] {
  const groups: GroupedEntity[] = [];
  let cur: WordEntity[] = [];
  const flush = () => {
    groups.push({
      entity_group: afterDash(cur[0]!.entity), // "B-PER" → "PER"; "O" → "O"
      score: cur.reduce((s, e) => s + e.score, 0) / cur.length,
      word: tokensToString(cur.map((e) => e.word)),
      start: cur[0]!.start,
      end: cur[cur.length - 1]!.end,
    });
  };
  for (const e of entities) {
    if (cur.length === 0) {
      cur.push(e);
      continue;
    }
    const [bi, tag] = getTag(e.entity);
    const [, lastTag] = getTag(cur[cur.length - 1]!.entity);
    if (tag === lastTag && bi !== 'B') cur.push(e);
    else {
      flush();
      cur = [e];
    }
  }
  if (cur.length) flush();
  return groups;
}
