/**
 * BERT's tokenizer, split by concern: unicode.ts (character classes, code points with
 * their source spans), basic.ts (pre-tokenization, HF `BasicTokenizer`), wordpiece.ts
 * (greedy longest-match-first WordPiece), bert.ts (`BertTokenizer`: vocabulary, special
 * tokens, pairs, truncation, padding, offsets, decoding).
 */
export { BertTokenizer, TokenizerError } from './bert.js';
export type { BertTokenizerOptions, DecodeOptions, EncodeOptions, Encoding, TruncationStrategy } from './bert.js';
export { BasicTokenizer, type BasicTokenizerOptions } from './basic.js';
export { WordpieceTokenizer } from './wordpiece.js';
