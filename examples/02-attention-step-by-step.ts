/**
 * Lesson 02 — attention, step by step (Vaswani et al. 2017, Eq. 1):
 *
 *     Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k + M) · V
 *
 * Three tokens, the last one padding. The padding mask M puts −∞ (here the most negative
 * float) on the padded key so that after the softmax no query attends to it — the same
 * additive mask BERT builds from its attention_mask.
 *
 * Run: npx tsx examples/02-attention-step-by-step.ts
 */
import { F, manualSeed, randn, tensor } from '../src/index.js';

manualSeed(1);
const T = 3; // tokens
const dK = 4; // key/query size
const q = randn([T, dK]); // (T, d_k)
const k = randn([T, dK]); // (T, d_k)
const v = randn([T, 2]); // (T, d_v)

// 1. similarity of every query with every key, scaled by 1/√d_k so the softmax stays soft
const scores = q.matmul(k.transpose(0, 1)).div(Math.sqrt(dK)); // (T, T)
console.log('scores QKᵀ/√d_k =\n' + scores.toString());

// 2. the padding mask: attention_mask [1, 1, 0] → additive (1 − m)·min(float32)
const attentionMask = tensor([1, 1, 0]);
const M = attentionMask.neg().add(1).mul(-3.4028234663852886e38).unsqueeze(0); // (1, T) broadcast over queries
const masked = scores.add(M);

// 3. softmax over keys: each row sums to 1, the padded column is 0
const weights = masked.softmax(-1); // (T, T)
console.log('attention weights (the last column is the padding) =\n' + weights.toString());

// 4. a weighted average of the values
const out = weights.matmul(v); // (T, d_v)
console.log('output =\n' + out.toString());

// The library function computes the same thing in one call.
const ref = F.scaledDotProductAttention(q, k, v, { attnMask: M });
console.log(out.allclose(ref, 1e-6, 1e-7) ? '✓ matches F.scaledDotProductAttention' : '✗ mismatch');
const rowSums = weights.sum(-1);
console.log('row sums =', rowSums.toString(), ' padded column =', weights.select(1, 2).toString());
