/**
 * The global random number generator. `manualSeed(n)` makes every random function of the
 * framework (rand, randn, randint, dropout, weight init, DataLoader shuffling) reproducible.
 *
 * Uniforms come from seedrandom's ARC4-based generator (`seedrandom(seed, { state: true })`),
 * whose state can be saved and restored (checkpoints resume with the same random stream).
 * Normals use the Box–Muller transform: z = √(−2 ln u₁)·cos(2πu₂).
 *
 * Bulk draws (dropout masks: ~10⁶ per BERT-tiny step) would spend 30 ms per step in ARC4, so
 * `bernoulliFill` takes one 32-bit seed from the ARC4 stream and expands it with xoshiro128**
 * (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 2021),
 * its state filled by a SplitMix-style sequence (golden-ratio increments through Wellons'
 * lowbias32 hash) — the generator state advances by exactly one draw per call, so
 * manualSeed / getRngState / setRngState reproduce masks as they reproduce everything else.
 */
import seedrandom from 'seedrandom';

export type RngState = { seed: string; arc4: unknown; spare: number | null };

export class Generator {
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>;
  private seedValue: string;
  /** Box–Muller yields normals in pairs; the second is kept for the next call. */
  private spare: number | null = null;

  constructor(seed: number | string = Date.now()) {
    this.seedValue = String(seed);
    this.rng = seedrandom(this.seedValue, { state: true });
  }

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
   * Fills `out` with `value` where a uniform draw u ≥ p (probability 1 − p), else 0 — a scaled
   * Bernoulli mask. Uses 32-bit uniforms from a xoshiro128** stream seeded by one ARC4 draw.
   * With `times`, also writes dst[i] = src[srcOffset + i]·out[i] in the same pass (dropout).
   */
  bernoulliFill(
    out: { length: number; [i: number]: number }, p: number, value: number,
    times?: { src: ArrayLike<number>; srcOffset: number; dst: { [i: number]: number } },
  ): void {
    if (!(p >= 0 && p <= 1)) throw new Error(`bernoulliFill: p must be in [0, 1], got ${p}`);
    // u = x / 2³² for a 32-bit x, so u ≥ p ⇔ x ≥ p·2³² (exact for p = 0 and p = 1)
    const threshold = p * 4294967296;
    // a SplitMix-style sequence expands the seed into xoshiro's 128-bit state (never all zero)
    let z = (this.rng.int32() >>> 0);
    const next = (): number => {
      z = (z + 0x9e3779b9) | 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    let s0 = next(), s1 = next(), s2 = next(), s3 = next();
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
    const n = out.length;
    const { src, srcOffset: so, dst } = times ?? { src: out, srcOffset: 0, dst: null };
    for (let i = 0; i < n; i++) {
      // xoshiro128**: result = rotl(s1·5, 7)·9
      const m = Math.imul(s1, 5);
      const r = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0);
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const v = r >= threshold ? value : 0;
      out[i] = v;
      // dropout's forward in the same pass: dst[i] = src[i]·mask[i]
      if (dst !== null) dst[i] = src[so + i]! * v;
    }
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

  getState(): RngState {
    return { seed: this.seedValue, arc4: structuredClone(this.rng.state()), spare: this.spare };
  }

  setState(state: RngState): void {
    if (!state || typeof state !== 'object' || !('arc4' in state)) throw new Error('Generator.setState: expected an object from getState()');
    this.seedValue = state.seed;
    this.rng = seedrandom('', { state: structuredClone(state.arc4) as seedrandom.State.Arc4 });
    this.spare = state.spare;
  }
}

/** The default generator behind every random function. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator, like torch.manual_seed. */
export function manualSeed(seed: number | string): void {
  defaultGenerator.manualSeed(seed);
}

export function getRngState(): RngState {
  return defaultGenerator.getState();
}

export function setRngState(state: RngState): void {
  defaultGenerator.setState(state);
}
