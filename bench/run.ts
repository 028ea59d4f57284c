/**
 * tensorgrad benchmarks, side by side with peers.  `npm run bench`  (BENCH_QUICK=1 for ~1 min)
 *
 * BENCH_QUICK=1 (a sanity run of about a minute on an idle 2-core machine, ~5.5 min of the full
 * run's): matmul at n = 128/256/512 with shorter warm-up/timing (slow reference kernels 1 + 3
 * runs); the BERT-tiny training step and forward without tfjs-cpu (seconds per run); the RSS run
 * for 100 steps (not 1000); scaling in 2 interleaved rounds (not 3) of 2 timed runs, without
 * BERT-base and the 1024³ matmul, and its attention-memory table at seq 512 only.
 * Each section's wall and CPU seconds (this process and its finished children) go to stderr: on a
 * loaded machine the CPU seconds are the better estimate of the idle wall time. Measured
 * 2026-12-02 on the loaded 2-core machine: 77 s CPU over the sections (matmul 12, bert-train 21,
 * bert-forward 5, rss-long-run 17, scaling 22) — about 1 to 1¼ min idle, the 2-thread parts less;
 * before the trim ~150 s (tfjs-cpu alone ~45 s).
 *
 * Each workload is a `Section` (bench/harness.ts): it times itself (warm-up, then the median
 * of ≥ 5 runs) and returns a table with notes. This file runs the sections in order, prints
 * each table as markdown, and writes results.json and results.md to out/bench/ (untracked), or,
 * with BENCH_SAVE=1, to bench/ (the committed results the README quotes).
 *
 * Run one section: BENCH_ONLY=matmul npm run bench   (comma-separated ids; with BENCH_SAVE=1 only
 * those sections of the committed results are replaced)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadAverage, machineInfo, sectionMarkdown, type Section, type SectionResult } from './harness.js';
import { matmulSection } from './matmul.js';
import { bertSections } from './bert.js';
import { scalingSection } from './scaling.js';
import { int8Section } from './int8-section.js';

const SECTIONS: Section[] = [
  matmulSection,
  ...bertSections, // BERT-tiny training step, forward pass, RSS over 1000 steps (bench/bert.ts)
  scalingSection, // by sequence length, BERT-base, GPT decode, threads, GFLOP/s vs PyTorch, interleaved (bench/scaling.ts)
  int8Section, // int8 GEMM, QuantizedLinear and the quantized BERT forward vs float32 and PyTorch quantize_dynamic (bench/int8-section.ts)
];

/**
 * CPU seconds so far: this process (all its threads) plus its children that have exited (torch
 * workers, child node processes) — Linux /proc/self/stat cutime + cstime; elsewhere this process only.
 */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    children = (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16, 17) in clock ticks (USER_HZ = 100)
  } catch { /* not Linux */ }
  return (user + system) / 1e6 + (Number.isFinite(children) ? children : 0);
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const machine = machineInfo();
  const header = [
    '# tensorgrad benchmarks',
    '',
    `${machine.date} · Node ${machine.node} (V8 ${machine.v8}) · ${machine.platform} · ${machine.cpu} · ` +
      `${machine.logicalCores} logical cores · ${machine.totalMemGiB} GiB${machine.quick ? ' · BENCH_QUICK=1' : ''}`,
    '',
  ].join('\n');
  console.log(header);

  const t0 = performance.now();
  const results: SectionResult[] = [];
  for (const section of SECTIONS) {
    if (only && !only.includes(section.id)) continue;
    const s0 = performance.now(), c0 = cpuSeconds();
    const load0 = loadAverage();
    let out: SectionResult[];
    try {
      const r = await section.run();
      out = Array.isArray(r) ? r : [r];
    } catch (e) {
      out = [{ id: section.id, title: section.title, status: 'skipped', columns: [], rows: [], notes: [`Failed: ${(e as Error).stack ?? String(e)}`] }];
    }
    const load1 = loadAverage();
    for (const r of out) {
      if (r.status === 'ok') r.notes.push(`1-min load average ${load0} before, ${load1} after (this run included; well above the threads in use on ${machine.logicalCores} cores means other processes shared the CPUs).`);
      results.push(r);
      console.log(sectionMarkdown(r));
    }
    console.error(`[bench] ${section.id}: ${((performance.now() - s0) / 1000).toFixed(1)} s wall, ${(cpuSeconds() - c0).toFixed(1)} s CPU`);
  }
  const totalS = (performance.now() - t0) / 1000;
  const cpuS = cpuSeconds();

  const benchDir = path.dirname(fileURLToPath(import.meta.url));
  // the committed results change only when asked: BENCH_SAVE=1; otherwise out/bench/ (git-ignored)
  const dir = process.env.BENCH_SAVE === '1' ? benchDir : path.join(benchDir, '..', 'out', 'bench');
  mkdirSync(dir, { recursive: true });
  let sections = results;
  let footer = `_Total ${totalS.toFixed(0)} s (${cpuS.toFixed(0)} s CPU, startup included; 1-min load average ${loadAverage()} at the end)._`;
  const jsonPath = path.join(dir, 'results.json');
  if (only && existsSync(jsonPath)) {
    // BENCH_ONLY: replace those sections in the saved results, keep the others (each section's notes carry its own date and load)
    const saved = JSON.parse(readFileSync(jsonPath, 'utf8')) as { sections: SectionResult[] };
    const fresh = new Map(results.map((r) => [r.id, r]));
    sections = saved.sections.map((r) => fresh.get(r.id) ?? r);
    for (const r of results) if (!saved.sections.some((x) => x.id === r.id)) sections.push(r);
    for (const r of results) r.notes.push(`Section re-run alone (BENCH_ONLY=${only.join(',')}) on ${machine.date.slice(0, 10)}; the other sections are from the run dated in the header.`);
    footer = `_Sections ${only.join(', ')} updated by a BENCH_ONLY run (${totalS.toFixed(0)} s)._`;
    const savedMd = existsSync(path.join(dir, 'results.md')) ? readFileSync(path.join(dir, 'results.md'), 'utf8').split('\n').slice(0, 3).join('\n') : header;
    writeFileSync(jsonPath, JSON.stringify({ ...saved, sections }, null, 2) + '\n');
    writeFileSync(path.join(dir, 'results.md'), [savedMd, '', ...sections.map(sectionMarkdown), footer, ''].join('\n'));
  } else {
    writeFileSync(jsonPath, JSON.stringify({ machine, totalSeconds: totalS, cpuSeconds: cpuS, sections }, null, 2) + '\n');
    writeFileSync(path.join(dir, 'results.md'), [header, ...sections.map(sectionMarkdown), footer, ''].join('\n'));
  }
  console.error(`[bench] done in ${totalS.toFixed(1)} s (${cpuS.toFixed(1)} s CPU); wrote ${path.relative(process.cwd(), path.join(dir, 'results.json'))} and results.md`);
  // tfjs and worker handles must not keep the process alive
  process.exit(0);
}

void main();
