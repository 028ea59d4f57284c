/**
 * Lesson 08 — loading a HuggingFace-format BERT checkpoint and running it.
 *
 * A HF model folder holds three files: `config.json` (hyperparameters, snake_case),
 * `model.safetensors` (an 8-byte header length, a JSON header of name → dtype/shape/offsets,
 * then the raw little-endian tensors) and `vocab.txt` (one WordPiece token per line, id = line).
 * The parameter names are modeling_bert.py's (`bert.encoder.layer.0.attention.self.query.weight`,
 * Linear weights stored [out, in]), so the same code loads a real checkpoint.
 *
 * Masked-token prediction is BERT's pre-training task (§3.1): for the [MASK] position i,
 *
 *     p(w | x̃) = softmax(W_e · LayerNorm(gelu(W_t·h_i + b_t)) + b)_w
 *
 * with W_e the word-embedding matrix (the decoder is tied to it).
 *
 * Part 1 plays the model's author: it writes a checkpoint folder from a freshly initialised
 * BertForMaskedLM (random weights, so its predictions are noise). Part 2 is what a user does with
 * any such folder. Point MODEL_DIR at a real one (config.json, model.safetensors and vocab.txt of
 * huggingface.co/bert-base-uncased), or at out/mlm from lesson 04, to see real predictions:
 *
 *     MODEL_DIR=~/bert-base-uncased npx tsx examples/08-load-hf-checkpoint.ts
 *
 * Run: npx tsx examples/08-load-hf-checkpoint.ts
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, nn, noGrad, tensor } from '../src/index.js';
import { loadSafetensors, saveSafetensors } from '../src/data/safetensors.js';
import { BertTokenizer } from '../src/data/tokenizer/index.js';

const SENTENCE = process.env.SENTENCE ?? 'the captain ordered the men to lower the [MASK] .';
let dir = process.env.MODEL_DIR;

// ── Part 1: the author saves a checkpoint (skipped when MODEL_DIR is given) ─────────────────────
let author: nn.BertForMaskedLM | null = null;
if (!dir) {
  dir = process.env.OUT ?? join('out', process.env.TINY ? 'bert-hf-tiny' : 'bert-hf');
  manualSeed(0);
  const config = new nn.BertConfig({
    vocabSize: 30522, // bert-base-uncased's vocabulary, so its vocab.txt fits
    hiddenSize: process.env.TINY ? 16 : 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: process.env.TINY ? 32 : 256,
    maxPositionEmbeddings: 128,
  });
  author = new nn.BertForMaskedLM(config).eval();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config.toJSON(), architectures: ['BertForMaskedLM'] }, null, 2));
  saveSafetensors(author.stateDict(), join(dir, 'model.safetensors'));
  copyFileSync(new URL('../assets/vocab.txt', import.meta.url), join(dir, 'vocab.txt'));
  console.log(`wrote ${dir}/{config.json, model.safetensors, vocab.txt} from a randomly initialised BertForMaskedLM\n`);
}

// ── Part 2: a user loads the folder ───────────────────────────────────────────────────────────
const config = nn.BertConfig.fromJSON(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
const weights = loadSafetensors(join(dir, 'model.safetensors'));
const names = Object.keys(weights);
console.log(`${names.length} tensors in model.safetensors, e.g.`);
for (const k of names.filter((n) => /embeddings\.word|layer\.0\.attention\.self\.query\.weight|cls\.predictions\.bias/.test(n))) {
  console.log(`  ${k.padEnd(48)} ${weights[k]!.dtype} [${weights[k]!.shape.join(', ')}]`);
}
const model = new nn.BertForMaskedLM(config);
const { missingKeys, unexpectedKeys } = model.loadPretrained(weights); // HF names, tied decoder, legacy gamma/beta
console.log(`loaded: ${missingKeys.length} missing, ${unexpectedKeys.length} unused keys; ` +
  `${config.numHiddenLayers} layers × ${config.hiddenSize}, vocabulary ${config.vocabSize}, ${(model.numParameters() / 1e6).toFixed(2)}M parameters\n`);
model.eval(); // no dropout

const tokenizer = BertTokenizer.fromVocabFile(join(dir, 'vocab.txt'), { doLowerCase: true });
const enc = tokenizer.encode(SENTENCE);
const maskAt = enc.inputIds.indexOf(tokenizer.maskTokenId);
if (maskAt < 0) throw new Error(`the sentence has no [MASK]: ${SENTENCE}`);
console.log(`"${SENTENCE}" → ${JSON.stringify(tokenizer.convertIdsToTokens(enc.inputIds))}`);

const inputIds = tensor([enc.inputIds], { dtype: 'int32' }); // (1, T)
const attentionMask = tensor([enc.attentionMask], { dtype: 'int32' }); // (1, T)
const logits = noGrad(() => model.forward({ inputIds, attentionMask }).logits); // (1, T, V)
const probs = logits.select(1, maskAt).softmax(-1).toArray() as number[][]; // (1, V)
const top = probs[0]!.map((p, id) => [p, id] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
console.log('top predictions for [MASK]:');
for (const [p, id] of top) console.log(`  ${tokenizer.convertIdsToTokens([id])[0]!.padEnd(12)} ${(100 * p).toFixed(2)}%`);

// The round trip is exact: the loaded model computes the author's logits bit for bit.
if (author) {
  const same = noGrad(() => author!.forward({ inputIds, attentionMask }).logits).allclose(logits, 0, 0);
  console.log(same ? '✓ the loaded model reproduces the saved model exactly' : '✗ the loaded model differs from the saved one');
  if (!same) process.exitCode = 1;
}
