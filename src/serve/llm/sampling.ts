/**
 * Next-token sampling for the serving engine, on one row of logits with a per-sequence
 * generator. With topP = 1 the arithmetic is exactly `GPT.generate`'s (src/nn/gpt.ts
 * `sampleNext`): z = logits/temperature in float64, topK keeps values ≥ the k-th largest,
 * softmax numerators exp(z − max), ONE uniform u·Σ, inverse CDF in vocabulary order; temperature
 * 0 is the argmax (first maximum). So a request with seed s and n = 1 samples what
 * `generate({ seed: s })` samples.
 *
 * Nucleus sampling (Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration"):
 * topP < 1 keeps the smallest set of most likely tokens whose probability sums to ≥ topP
 * (ties broken by the lower id), zeroing the rest before the inverse CDF.
 *
 * Sample i of a request draws from its own stream `sampleGenerator(seed, i)`, never from the
 * global generator, so what it samples does not depend on which other requests share the batch.
 */
import { Generator, sampleCategorical } from '../../tensor/random.js';

/** How the next token is drawn: temperature (0: greedy), top-k and top-p. */
export interface SamplingOptions {
  /** Divides the logits; 0 = greedy (argmax). */
  temperature: number;
  /** Keep only the k largest logits (ties with the k-th kept); null = all. */
  topK: number | null;
  /** Nucleus: keep the most likely tokens up to cumulative probability topP (1 = all). */
  topP: number;
}

/**
 * The generator of sample i of a request seeded `seed`: sample 0 is `new Generator(seed)` (what
 * `manualSeed(seed)` gives `generate`), sample i > 0 is seeded `${seed}/${i}`.
 * @example
 * const g = sampleGenerator(42, 1); g.random(); // the same number every run
 */
export function sampleGenerator(seed: number | string, i: number): Generator {
  if (!Number.isInteger(i) || i < 0) throw new Error(`sampleGenerator: sample index must be a non-negative integer, got ${i}`);
  if (typeof seed === 'number' && !Number.isFinite(seed)) throw new Error(`sampleGenerator: seed must be a finite number or a string, got ${seed}`);
  return new Generator(i === 0 ? seed : `${String(seed)}/${i}`);
}

/**
 * One token id from a row of logits (length V) under `opts`, drawing at most one uniform from `gen`.
 * @example
 * sampleToken(new Float32Array([0, 5, 1]), { temperature: 0, topK: null, topP: 1 }, new Generator(0)); // 1
 */
export function sampleToken(logits: Float32Array | Float64Array, opts: SamplingOptions, gen: Generator): number {
  const V = logits.length;
  if (V === 0) throw new Error('sampleToken: logits must not be empty');
  const { temperature, topK, topP } = opts;
  if (temperature === 0) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[j]! > logits[best]!) best = j;
    if (!Number.isFinite(logits[best]!)) throw new Error(`sampleToken: the logits are not finite (max ${logits[best]}); cannot sample`);
    return best;
  }
  const z = new Float64Array(V);
  for (let j = 0; j < V; j++) z[j] = logits[j]! / temperature;
  if (topK !== null && topK < V) {
    const kth = Float64Array.from(z).sort()[V - topK]!; // the k-th largest
    for (let j = 0; j < V; j++) if (z[j]! < kth) z[j] = -Infinity;
  }
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (z[j]! > m) m = z[j]!;
  if (!Number.isFinite(m)) throw new Error(`sampleToken: the logits are not finite (max ${m}); cannot sample`);
  let total = 0;
  for (let j = 0; j < V; j++) total += z[j] = Math.exp(z[j]! - m); // softmax numerators
  if (topP < 1) {
    const ids = Array.from({ length: V }, (_, j) => j).sort((a, b) => z[b]! - z[a]! || a - b); // most likely first
    let cum = 0;
    let keep = 0;
    while (keep < V && cum < topP * total) cum += z[ids[keep++]!]!;
    for (let r = keep; r < V; r++) z[ids[r]!] = 0;
    total = 0;
    for (let j = 0; j < V; j++) total += z[j]!;
  }
  return sampleCategorical(z, total, gen.random());
}
