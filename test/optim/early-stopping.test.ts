/** Tests of EarlyStopping: both modes, minDelta, NaN metrics, patience, state round trip, checks. */
import { describe, expect, it } from 'vitest';
import * as optim from '../../src/optim/index.js';
import { errorOf } from '../helpers.js';

/** Feeds metrics until step() says stop; returns the index where it stopped (−1: never). */
function stopIndex(stopper: optim.EarlyStopping, metrics: number[]): number {
  for (const [i, m] of metrics.entries()) if (stopper.step(m)) return i;
  return -1;
}

describe('EarlyStopping', () => {
  it("mode 'max': stops after `patience` evaluations without improvement (the docstring example)", () => {
    const s = new optim.EarlyStopping({ patience: 2, mode: 'max' });
    expect(s.bestValue).toBeNull();
    expect(s.bestEpoch).toBeNull();
    expect(stopIndex(s, [0.5, 0.6, 0.59, 0.58, 0.7])).toBe(3);
    expect(s.bestValue).toBe(0.6);
    expect(s.bestEpoch).toBe(1);
    expect(s.numBadEpochs).toBe(2);
    expect(s.shouldStop).toBe(true);
  });

  it("mode 'min': an improvement resets the count", () => {
    const s = new optim.EarlyStopping({ patience: 2, mode: 'min' });
    // 1.0 best; 1.1 bad(1); 0.9 best (reset); 0.95 bad(1); 0.92 bad(2) → stop at index 4
    expect(stopIndex(s, [1.0, 1.1, 0.9, 0.95, 0.92, 0.1])).toBe(4);
    expect([s.bestValue, s.bestEpoch]).toEqual([0.9, 2]);
  });

  it('minDelta: changes no larger than minDelta are not improvements', () => {
    const s = new optim.EarlyStopping({ patience: 3, mode: 'min', minDelta: 0.1 });
    // 1.0 best; 0.95 (not < 0.9) bad 1; 0.9 (not < 0.9) bad 2; 0.85 (< 0.9) best; then 3 bad
    expect(stopIndex(s, [1.0, 0.95, 0.9, 0.85, 0.8, 0.79, 0.76])).toBe(6);
    expect([s.bestValue, s.bestEpoch]).toEqual([0.85, 3]);
  });

  it('a NaN metric is never an improvement, also on the first evaluation', () => {
    const s = new optim.EarlyStopping({ patience: 2, mode: 'max' });
    expect(s.step(NaN)).toBe(false);
    expect(s.bestValue).toBeNull();
    expect(s.step(0.3)).toBe(false);
    expect(s.step(NaN)).toBe(false);
    expect(s.step(NaN)).toBe(true);
    expect([s.bestValue, s.bestEpoch]).toEqual([0.3, 1]);
  });

  it('patience 1 stops at the first evaluation without improvement', () => {
    const s = new optim.EarlyStopping({ patience: 1, mode: 'max' });
    expect(stopIndex(s, [1, 2, 3, 3])).toBe(3); // equal is not better
  });

  it('stateDict / loadStateDict resume the counters; reset() forgets', () => {
    const a = new optim.EarlyStopping({ patience: 3, mode: 'max' });
    [0.1, 0.4, 0.3].forEach((m) => a.step(m));
    const sd = a.stateDict();
    expect(sd).toEqual({ mode: 'max', bestValue: 0.4, bestEpoch: 1, numBadEpochs: 1, epoch: 2 });
    const b = new optim.EarlyStopping({ patience: 3, mode: 'max' });
    b.loadStateDict(sd);
    for (const m of [0.35, 0.2]) expect(b.step(m)).toBe(a.step(m));
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(b.shouldStop).toBe(true);
    b.reset();
    expect(b.stateDict()).toEqual({ mode: 'max', bestValue: null, bestEpoch: null, numBadEpochs: 0, epoch: -1 });
  });

  it('validates its arguments', () => {
    expect(errorOf(() => new optim.EarlyStopping({ patience: 0, mode: 'max' }))).toBe('EarlyStopping: invalid patience: expected an integer ≥ 1, got 0');
    expect(errorOf(() => new optim.EarlyStopping({ patience: 2.5, mode: 'max' }))).toBe('EarlyStopping: invalid patience: expected an integer ≥ 1, got 2.5');
    expect(errorOf(() => new optim.EarlyStopping({ patience: 2, mode: 'min', minDelta: -0.1 }))).toBe('EarlyStopping: invalid minDelta: expected a finite number ≥ 0, got -0.1');
    expect(errorOf(() => new optim.EarlyStopping({ patience: 2, mode: 'maximum' as never }))).toBe(`EarlyStopping: invalid mode: expected 'max' or 'min', got "maximum"`);
    expect(errorOf(() => new optim.EarlyStopping({ patience: 2 } as never))).toBe(`EarlyStopping: invalid mode: expected 'max' or 'min', got undefined`);
    expect(errorOf(() => new optim.EarlyStopping({ patience: 2, mode: 'max', min_delta: 0 } as never))).toMatch(/^EarlyStopping: unknown option 'min_delta' in options/);
    const s = new optim.EarlyStopping({ patience: 2, mode: 'max' });
    expect(errorOf(() => s.step('0.5' as never))).toBe('EarlyStopping.step: invalid metric: expected a number, got "0.5"');
    expect(errorOf(() => s.loadStateDict({ ...s.stateDict(), mode: 'min' }))).toBe(`EarlyStopping.loadStateDict: invalid stateDict.mode: expected 'max' (this EarlyStopping's mode), got "min"`);
    expect(errorOf(() => s.loadStateDict({ mode: 'max', bestValue: 1, bestEpoch: 4, numBadEpochs: 0, epoch: 2 }))).toBe(
      'EarlyStopping.loadStateDict: invalid stateDict.bestEpoch: expected an integer in [0, 2], got 4',
    );
  });
});
