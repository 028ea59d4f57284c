// Issue #14 diagnosis: trains tensorgrad's BertForMaskedLM on fixed, dumped batches and writes the batches and the
// initial weights for torch-reference.py (the same maths in PyTorch), so the two loss curves compare step by step.
// Run from the repository root, after `npx tsx scripts/build-corpus.ts --out out/corpus`:
//   npx tsx bench/pretrain-diagnosis/ts-run.ts && /usr/bin/python3 bench/pretrain-diagnosis/torch-reference.py
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { buildCompactVocab, chunkText, maskTokens, mlmLoss } from '../../src/tasks/mlm.js';
import { BertConfig, BertForMaskedLM } from '../../src/nn/bert.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { fromTypedArray } from '../../src/tensor/creation.js';
import { adamWWithWarmup } from '../../src/train/step.js';
import { clipGradNorm } from '../../src/optim/index.js';
import { tidy } from '../../src/tensor/scope.js';
import { saveSafetensors } from '../../src/data/safetensors.js';
mkdirSync('out/diag', { recursive: true });
const K = Number(process.env.K ?? 300), B = Number(process.env.B ?? 16), T = 128, LR = Number(process.env.LR ?? 1e-3);
manualSeed(42);
const text = readFileSync('out/corpus/corpus.txt', 'utf8');
const cv = buildCompactVocab(text, { maxSize: 8000 });
const tok = cv.tokenizer;
const vocab = tok.convertIdsToTokens(Array.from({ length: tok.vocabSize }, (_, i) => i));
const chunks = chunkText(text, tok, T);
console.error('chunks', chunks.length, 'vocab', tok.vocabSize);
const special = new Set([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId]);
// unigram entropy of non-special tokens (the plateau)
const counts = new Float64Array(tok.vocabSize); let n = 0;
for (const c of chunks) for (const id of c) if (!special.has(id)) { counts[id]++; n++; }
let H = 0; for (const c of counts) if (c > 0) H -= (c / n) * Math.log(c / n);
console.error('unigram entropy (nats)', H.toFixed(3), 'tokens', n);
const rng = new Generator('diag');
const order = rng.permutation(chunks.length);
const ids = new Int32Array(K * B * T), am = new Int32Array(K * B * T), lab = new Int32Array(K * B * T).fill(-100);
for (let k = 0; k < K; k++) for (let b = 0; b < B; b++) {
  const c = chunks[order[(k * B + b) % chunks.length]!]!;
  const m = maskTokens(c, { maskTokenId: tok.maskTokenId, specialIds: special, vocabSize: tok.vocabSize, rng, isContinuation: (id) => vocab[id]!.startsWith('##') });
  const o = (k * B + b) * T;
  for (let t = 0; t < c.length; t++) { ids[o + t] = m.inputIds[t]!; am[o + t] = 1; lab[o + t] = m.labels[t]!; }
}
writeFileSync('out/diag/ids.bin', ids); writeFileSync('out/diag/am.bin', am); writeFileSync('out/diag/lab.bin', lab);
const config = new BertConfig({ vocabSize: tok.vocabSize, hiddenSize: 128, numHiddenLayers: 4, numAttentionHeads: 2, intermediateSize: 512, maxPositionEmbeddings: T, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, padTokenId: 0 });
const model = new BertForMaskedLM(config);
saveSafetensors(model.stateDict(), 'out/diag/init.safetensors');
writeFileSync('out/diag/meta.json', JSON.stringify({ K, B, T, V: tok.vocabSize, LR }));
if (process.env.DUMP_ONLY) process.exit(0);
const { optimizer, scheduler } = adamWWithWarmup(model, { lr: LR, weightDecay: 0.01, warmupRatio: 0.05, totalSteps: K });
const params = [...model.parameters()].filter((p) => p.requiresGrad);
const losses: number[] = [];
const t0 = performance.now();
for (let k = 0; k < K; k++) {
  optimizer.zeroGrad();
  const sl = (a: Int32Array) => fromTypedArray(a.slice(k * B * T, (k + 1) * B * T), [B, T], { dtype: 'int32' });
  const loss = tidy(() => { const r = mlmLoss(model, { inputIds: sl(ids), attentionMask: sl(am), labels: sl(lab) }); r.loss.backward(); return r.loss.item(); });
  const gn = tidy(() => clipGradNorm(params, 1.0));
  tidy(() => optimizer.step()); scheduler.step();
  losses.push(loss);
  if (k % 25 === 0) console.error(k, loss.toFixed(4), Number(gn).toFixed?.(3) ?? gn, ((performance.now() - t0) / (k + 1)).toFixed(0) + ' ms/step');
}
writeFileSync(`out/diag/ts_losses_${LR}.json`, JSON.stringify(losses));
