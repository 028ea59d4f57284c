/**
 * The counter-based random stream behind dropout masks (as PyTorch's Philox on GPUs): element i
 * of the stream keyed (k₁, k₂) is h(h(i + k₁) ⊕ k₂) as an unsigned 32-bit integer, with h Wellons'
 * lowbias32 hash. No state runs from element to element, so a backend kernel can compute any
 * element on its own (the CPU's wasm kernel does four lanes at a time on helper threads) and get
 * the same bits. The keys come from the seeded generator (tensor/random.ts `streamKeys`).
 */

/** Wellons' lowbias32 integer hash (a bijection of 32-bit integers with near-ideal avalanche). */
function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  return x ^ (x >>> 15);
}

/** Element i of the stream keyed (k₁, k₂): h(h(i + k₁) ⊕ k₂), unsigned. */
export function bernoulliBits(i: number, k1: number, k2: number): number {
  return lowbias32(lowbias32((i + k1) | 0) ^ k2) >>> 0;
}

/**
 * out[i] = value where u = bernoulliBits(i, k₁, k₂)/2³² ≥ p (probability 1 − p), else 0: a scaled
 * Bernoulli mask. With `times`, also dst[i] = src[srcOffset + i]·out[i] in the same pass (dropout),
 * using the stored (dtype-rounded) mask value, as the backward does.
 */
export function fillBernoulliFromKeys(
  out: { length: number; [i: number]: number }, p: number, value: number, k1: number, k2: number,
  times?: { src: ArrayLike<number>; srcOffset: number; dst: { [i: number]: number } },
): void {
  // u = x / 2³² for a 32-bit x, so u ≥ p ⇔ x ≥ p·2³² (exact for p = 0 and p = 1)
  const threshold = p * 4294967296;
  const n = out.length;
  const { src, srcOffset: so, dst } = times ?? { src: out, srcOffset: 0, dst: null };
  for (let i = 0; i < n; i++) {
    out[i] = bernoulliBits(i, k1, k2) >= threshold ? value : 0;
    if (dst !== null) dst[i] = src[so + i]! * out[i]!;
  }
}

/**
 * mulberry32 (Tommy Ettinger): a small, fast 32-bit PRNG; returns uniform floats in [0, 1).
 * The data splits, the load tests and the playground all draw from this one definition.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
