// Issue #14 diagnosis: the release vocabulary's 128-token chunks of out/corpus/corpus.txt, shuffled, for explore.py.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildCompactVocab, chunkText } from '../../src/tasks/mlm.js';
import { Generator } from '../../src/tensor/random.js';
mkdirSync('out/diag', { recursive: true });
const T = 128;
const text = readFileSync('out/corpus/corpus.txt', 'utf8');
const tok = buildCompactVocab(text, { maxSize: 8000 }).tokenizer;
const vocab = tok.convertIdsToTokens(Array.from({ length: tok.vocabSize }, (_, i) => i));
const chunks = chunkText(text, tok, T);
const order = new Generator('chunks').permutation(chunks.length);
const ids = new Int32Array(chunks.length * T);
order.forEach((ci, j) => ids.set(chunks[ci]!, j * T));
writeFileSync('out/diag/chunks.bin', ids);
writeFileSync('out/diag/vocab.json', JSON.stringify({ n: chunks.length, T, cont: vocab.map((v) => v.startsWith('##') ? 1 : 0), vocab, special: [tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], mask: tok.maskTokenId, cls: tok.clsTokenId, sep: tok.sepTokenId }));
