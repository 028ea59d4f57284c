/**
 * One run of the PEFT comparison in its own process (bench/peft-compare.ts): runs
 * `tensorgrad <args>` in-process and writes a report to the JSON file named by the first argument:
 * wall seconds, max RSS (MiB), the number of optimiser steps and the median interval between them
 * (the time per training step; the median skips the evaluations between epochs).
 *
 *   node --import tsx bench/peft-child.ts report.json train-ner --peft lora …
 */
import { writeFileSync } from 'node:fs';
import { main } from '../src/cli/main.js';
import { Optimizer } from '../src/optim/optimizer.js';

const [reportPath, ...args] = process.argv.slice(2);
const stamps: number[] = [];
const step = Optimizer.prototype.step;
Optimizer.prototype.step = function patched(this: Optimizer, ...a: Parameters<typeof step>) {
  stamps.push(performance.now());
  return step.apply(this, a);
} as typeof step;

const t0 = performance.now();
const code = await main(args);
const seconds = (performance.now() - t0) / 1000;
const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!).sort((a, b) => a - b);
writeFileSync(reportPath!, JSON.stringify({
  code, seconds, steps: stamps.length, stepMs: gaps.length ? gaps[Math.floor(gaps.length / 2)] : null,
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
}));
process.exit(code);
