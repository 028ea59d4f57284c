/**
 * The global random number generator. `manualSeed(n)` makes every random function of the
 * framework (rand, randn, randint, dropout, weight init, DataLoader shuffling) reproducible.
 *
 * Uniforms come from seedrandom's ARC4-based generator (`seedrandom(seed, { state: true })`),
 * whose state can be saved and restored (checkpoints resume with the same random stream).
 * Normals use the Box–Muller transform: z = √(−2 ln u₁)·cos(2πu₂).
 *
 * Bulk draws (dropout masks: ~10⁶ per BERT-tiny step) would spend 30 ms per step in ARC4, so
 * they are counter-based, like the Philox generator PyTorch uses on GPUs (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011): two 32-bit keys are drawn from the
 * ARC4 stream and element i gets h(h(i + k₁) ⊕ k₂), h being Wellons' lowbias32 integer hash
 * (`bernoulliBits`). No state is carried from element to element, so the CPU computes masks
 * four lanes at a time on both threads, and the generator advances by exactly two draws per
 * mask: manualSeed / getRngState / setRngState reproduce masks as everything else.
 */
import seedrandom from 'seedrandom';
import { fillBernoulliFromKeys } from '../core/random-bits.js';

/** The full state of a {@link Generator} (seed, ARC4 state, the spare Box–Muller normal): `getRngState()` / `setRngState()` resume a random stream exactly. */
export type RngState = { seed: string; arc4: unknown; spare: number | null };

/**
 * A seeded random number generator (seedrandom's ARC4), as torch.Generator: `random()` in [0, 1), `normal()` by Box–Muller; every random op draws from `defaultGenerator` unless given one.
 * @example
 * const g = new Generator(42);
 * g.random(); // the same number on every run
 */
export class Generator {
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;
  private seedValue: string;
  /** Box–Muller yields normals in pairs; the second is kept for the next call. */
  private spare: number | null = null;

  constructor(seed: number | string = Date.now()) {
    this.seedValue = String(seed);
    this.rng = seedrandom(this.seedValue, { state: true });
  }

  /**
   * Restarts the stream from `seed` (the same seed gives the same numbers); clears the cached Box–Muller normal.
   * @throws Error when `seed` is a non-finite number.
   * @returns this generator.
   */
  manualSeed(seed: number | string): this {
    if (typeof seed === 'number' && !Number.isFinite(seed)) throw new Error(`manualSeed: seed must be a finite number or a string, got ${seed}`);
    this.seedValue = String(seed);
    this.rng = seedrandom(this.seedValue, { state: true });
    this.spare = null;
    return this;
  }

  /** A uniform float in [0, 1) with 53 bits of randomness. */
  random(): number {
    return this.rng.double();
  }

  /** A standard normal N(0, 1) sample. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u1 = this.rng.double();
    while (u1 <= Number.MIN_VALUE) u1 = this.rng.double(); // ln(0) guard
    const u2 = this.rng.double();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Two 32-bit keys for a counter-based stream (see `bernoulliBits`), advancing this generator
   * by two draws — what `bernoulliFill` and the CPU's wasm dropout kernel start from.
   */
  streamKeys(): { k1: number; k2: number } {
    return { k1: this.rng.int32() | 0, k2: this.rng.int32() | 0 };
  }

  /**
   * Fills `out` with `value` where a uniform draw u ≥ p (probability 1 − p), else 0 — a scaled
   * Bernoulli mask, element i drawing u = bernoulliBits(i, k₁, k₂)/2³² from fresh keys.
   * With `times`, also writes dst[i] = src[srcOffset + i]·out[i] in the same pass (dropout).
   */
  bernoulliFill(
    out: { length: number; [i: number]: number }, p: number, value: number,
    times?: { src: ArrayLike<number>; srcOffset: number; dst: { [i: number]: number } },
  ): void {
    if (!(p >= 0 && p <= 1)) throw new Error(`bernoulliFill: p must be in [0, 1], got ${p}`);
    const { k1, k2 } = this.streamKeys();
    this.fillFromKeys(out, p, value, k1, k2, times);
  }

  /** bernoulliFill with keys already drawn (by `streamKeys`); see core/random-bits.ts. */
  fillFromKeys(
    out: { length: number; [i: number]: number }, p: number, value: number, k1: number, k2: number,
    times?: { src: ArrayLike<number>; srcOffset: number; dst: { [i: number]: number } },
  ): void {
    fillBernoulliFromKeys(out, p, value, k1, k2, times);
  }

  /** A uniform integer in [low, high). */
  randint(low: number, high: number): number {
    return low + Math.floor(this.rng.double() * (high - low));
  }

  /** Fisher–Yates shuffle of [0, n): a random permutation. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rng.double() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  /**
   * A snapshot of the generator (seed, ARC4 state, cached normal) to restore later with `setState`; a deep copy, safe to serialise.
   * @example
   * ```ts
   * const g = new Generator(0);
   * const s = g.getState();
   * const a = g.random();
   * g.setState(s);
   * g.random() === a; // true
   * ```
   */
  getState(): RngState {
    return { seed: this.seedValue, arc4: structuredClone(this.rng.state()), spare: this.spare };
  }

  /**
   * Restores a snapshot from `getState` (the stream continues exactly where it was taken).
   * @throws Error when `state` is not an object from getState().
   */
  setState(state: RngState): void {
    if (!state || typeof state !== 'object' || !('arc4' in state)) throw new Error('Generator.setState: expected an object from getState()');
    this.seedValue = state.seed;
    this.rng = seedrandom('', { state: structuredClone(state.arc4) as seedrandom.State.Arc4 });
    this.spare = state.spare;
  }
}

export { bernoulliBits } from '../core/random-bits.js';

/** The default generator behind every random function. */
export const defaultGenerator = new Generator(0);

/**
 * Seeds the default generator, like torch.manual_seed.
 * @example
 * ```ts
 * manualSeed(42);
 * const a = randn([3]);
 * manualSeed(42);
 * const b = randn([3]);                   // the same numbers as a
 * ```
 */
export function manualSeed(seed: number | string): void {
  defaultGenerator.manualSeed(seed);
}

/**
 * The default generator's state (`torch.get_rng_state`), for checkpoints.
 * @example
 * ```ts
 * const s = getRngState();
 * const a = rand([2]);
 * setRngState(s);
 * rand([2]).toArray();                    // the same values as a
 * ```
 */
export function getRngState(): RngState {
  return defaultGenerator.getState();
}

/**
 * Restores the default generator's state saved by `getRngState` (`torch.set_rng_state`): the random stream continues exactly.
 * @example
 * ```ts
 * const s = getRngState();                // e.g. stored in a checkpoint
 * const a = randn([2]);
 * setRngState(s);                         // resume the stream where it was
 * randn([2]).toArray();                   // the same values as a
 * ```
 */
export function setRngState(state: RngState): void {
  defaultGenerator.setState(state);
}

/**
 * Inverse-CDF draw from unnormalised non-negative weights: the first index j whose running
 * sum Σ_{i≤j} w_i exceeds u·Σw, where u ∈ [0, 1) is one uniform draw. Zero weights are never
 * picked (a u that lands past the last rounding-short sum takes the last non-zero index).
 * The one categorical sampler of `GPT.generate` and the serving engine, so both consume
 * the generator identically. Returns -1 when every weight is 0.
 */
export function sampleCategorical(weights: ArrayLike<number>, total: number, u: number): number {
  const target = u * total;
  let acc = 0;
  let pick = -1;
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j]!;
    if (w === 0) continue;
    acc += w;
    pick = j;
    if (target < acc) break;
  }
  return pick;
}
