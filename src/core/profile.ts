/**
 * A per-kernel / per-backward profiler. `TENSORGRAD_PROFILE=1` turns it on for the whole process
 * and prints a table sorted by total time at exit; `startProfile()` / `stopProfile()` measure a
 * region programmatically.
 *
 *   kernel:map:mul          — a backend kernel call (entry point and opcode)
 *   backward:softmax        — one op's backward formula (the kernels it runs are counted too)
 *   copy:in:gemm            — the copies between JS typed arrays and the wasm memory inside a
 *   copy:out:gemm             CPU kernel (operands in, results out; part of the kernel's time,
 *                             so "% kern" shows the share of all kernel time spent copying)
 */
export interface ProfileEntry {
  name: string;
  calls: number;
  ms: number;
}

const table = new Map<string, ProfileEntry>();
let active = false;

export function isProfiling(): boolean {
  return active;
}

export function record(name: string, ms: number): void {
  let e = table.get(name);
  if (!e) table.set(name, (e = { name, calls: 0, ms: 0 }));
  e.calls++;
  e.ms += ms;
}

/** Runs fn, recording its wall time under `name` when profiling. */
export function timed<T>(name: string, fn: () => T): T {
  if (!active) return fn();
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    record(name, performance.now() - t0);
  }
}

/** performance.now() when profiling, else 0 — the start of a copy for `copyDone`. */
export function copyStart(): number {
  return active ? performance.now() : 0;
}

/** Records the time since `copyStart` under `copy:<name>` when profiling. */
export function copyDone(name: string, t0: number): void {
  if (active) record(`copy:${name}`, performance.now() - t0);
}

/**
 * Starts recording the wall time of every op and backward formula (cleared first); `stopProfile()` returns the table, `formatProfile` prints it.
 * @example
 * startProfile(); model.forward(x).sum().backward(); console.log(formatProfile(stopProfile()));
 */
export function startProfile(): void {
  table.clear();
  active = true;
}

/**
 * Stops and returns the entries, slowest first.
 * @example
 * ```ts
 * startProfile();
 * randn([64, 64]).matmul(randn([64, 64])).sum();
 * const entries = stopProfile();          // [{ name, calls, ms }, …], slowest first
 * ```
 */
export function stopProfile(): ProfileEntry[] {
  active = false;
  return [...table.values()].sort((a, b) => b.ms - a.ms);
}

/**
 * The profile entries as a text table (name, calls, total ms, share), the `top` slowest first.
 * @example
 * ```ts
 * startProfile();
 * model.forward(x).sum().backward();
 * console.log(formatProfile(stopProfile(), 10)); // the 10 slowest entries: name, calls, total ms, share
 * ```
 */
export function formatProfile(entries: ProfileEntry[], top = 40): string {
  const kernelTotal = entries.filter((e) => e.name.startsWith('kernel:')).reduce((s, e) => s + e.ms, 0);
  const share = (e: ProfileEntry): boolean => e.name.startsWith('kernel:') || e.name.startsWith('copy:');
  const copies = entries.filter((e) => e.name.startsWith('copy:'));
  const copyMs = copies.reduce((s, e) => s + e.ms, 0);
  const rows = entries.slice(0, top).map((e) =>
    `${e.name.padEnd(36)}${String(e.calls).padStart(9)}${e.ms.toFixed(1).padStart(12)}${(share(e) && kernelTotal > 0 ? ((100 * e.ms) / kernelTotal).toFixed(1) + '%' : '').padStart(9)}`);
  const total = copies.length > 0 && kernelTotal > 0
    ? [`${'copy:* (all JS ↔ wasm copies)'.padEnd(36)}${String(copies.reduce((s, e) => s + e.calls, 0)).padStart(9)}${copyMs.toFixed(1).padStart(12)}${(((100 * copyMs) / kernelTotal).toFixed(1) + '%').padStart(9)}`]
    : [];
  return [`${'name'.padEnd(36)}${'calls'.padStart(9)}${'total ms'.padStart(12)}${'% kern'.padStart(9)}`, ...rows, ...total].join('\n');
}

if (typeof process !== 'undefined' && process.env?.TENSORGRAD_PROFILE === '1') {
  startProfile();
  process.on('exit', () => {
    process.stderr.write(`\nTENSORGRAD_PROFILE (kernels and backward formulas, slowest first)\n${formatProfile(stopProfile())}\n`);
  });
}
