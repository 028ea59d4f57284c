/**
 * Interleaved before/after timing of the BERT-tiny training step across source trees — e.g. main
 * before a refactoring round (a `git worktree` of an old commit) against the working tree — so
 * that both see the same machine load: one child process per tree (model built once, warmed up),
 * then rounds in which each child in turn times a few steps (the order reversed every other
 * round). Per tree: the median of each round's step times, then the median of those per-round
 * medians (robust to a round that a neighbour's process slowed down), and the median over rounds
 * of the ratio to the first tree's round median (paired: trees of one round ran back to back).
 *
 *   npx tsx bench/interleaved.ts [--rounds 10] [--steps 6] [--warmup 4] name=DIR [name=DIR …]
 *   e.g. git worktree add /tmp/tg-pre 962e8e1 && ln -s "$PWD/node_modules" /tmp/tg-pre/node_modules
 *        npx tsx bench/interleaved.ts pre-round=/tmp/tg-pre now=.
 *
 * The workload is bench/bert.ts's (the project's performance issue): BERT-tiny (vocab 1000,
 * hidden 128, 2 layers, 2 heads, FFN 512, dropout 0.1) with a token-classification head, batch
 * 16 × 64 tokens, mean cross-entropy, AdamW (lr 1e-3, weight decay 0.01), each step inside
 * tidy(), on 'cpu'. It uses only API that every tree since the performance round has
 * (`nn.BertForTokenClassification`, `optim.AdamW`, `tidy`, `manualSeed`, `randint`), and checks
 * that all trees compute the same first-step loss (the same seed, the same numerics).
 * Reports; asserts no time.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);

// ---- child: one tree's training step ------------------------------------------------------------

async function child(root: string): Promise<void> {
  // the tree's own public API (its src/index.ts, compiled on the fly by tsx)
  const tg = await import(pathToFileURL(path.join(root, 'src/index.ts')).href);
  tg.manualSeed(0);
  const config = new tg.nn.BertConfig({
    vocabSize: 1000, hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 512,
    hiddenAct: 'gelu', layerNormEps: 1e-12, maxPositionEmbeddings: 512, typeVocabSize: 2, initializerRange: 0.02,
    numLabels: 9, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1,
  });
  const model = new tg.nn.BertForTokenClassification(config);
  const opt = new tg.optim.AdamW(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  const ids = tg.randint(1, 1000, [16, 64]); // (B, T) int32, no padding id
  const labels = tg.randint(0, 9, [16, 64]);
  const step = (): number => tg.tidy(() => {
    const { loss } = model.forward({ inputIds: ids, labels });
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item() as number;
  });
  const send = (m: unknown) => process.stdout.write(`${JSON.stringify(m)}\n`);
  const firstLoss = step();
  send({ ready: true, firstLoss });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { steps: number } | { quit: true };
    if ('quit' in cmd) break;
    const ms: number[] = [];
    for (let i = 0; i < cmd.steps; i++) {
      const t0 = performance.now();
      step();
      ms.push(performance.now() - t0);
    }
    send({ ms });
  }
  process.exit(0);
}

// ---- parent: interleaved rounds -------------------------------------------------------------------

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Peer { name: string; root: string; proc: ChildProcessByStdio<Writable, Readable, null>; next: () => Promise<unknown>; roundMedians: number[]; all: number[] }

function startChild(name: string, root: string): Peer {
  const tsx = path.join(path.dirname(SELF), '..', 'node_modules', '.bin', 'tsx');
  const proc = spawn(tsx, [SELF, '--child', root], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    for (;;) {
      const r = await lines.next();
      if (r.done) throw new Error(`${name}: the child process ended early`);
      const t = r.value.trim();
      if (t.startsWith('{')) return JSON.parse(t); // skip anything else a tree prints
    }
  };
  return { name, root, proc, next, roundMedians: [], all: [] };
}

async function parent(argv: string[]): Promise<void> {
  const opt = { rounds: 10, steps: 6, warmup: 4 };
  const trees: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--rounds' || a === '--steps' || a === '--warmup') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a}: expected a positive integer, got ${argv[i]}`);
      opt[a.slice(2) as keyof typeof opt] = v;
    } else if (/^[\w.-]+=/.test(a)) {
      const eq = a.indexOf('=');
      trees.push([a.slice(0, eq), path.resolve(a.slice(eq + 1))]);
    } else {
      throw new Error(`unknown argument '${a}': expected --rounds N, --steps N, --warmup N or name=DIR`);
    }
  }
  if (trees.length < 2) throw new Error('give at least two trees as name=DIR (e.g. before=/tmp/old now=.)');
  const peers: Peer[] = [];
  const firstLosses: number[] = [];
  for (const [name, root] of trees) { // set up one at a time (no overlap with another's compile)
    const p = startChild(name, root);
    const t0 = performance.now();
    const ready = (await p.next()) as { firstLoss: number };
    console.log(`${name} (${root}): ready in ${((performance.now() - t0) / 1000).toFixed(1)} s, first-step loss ${ready.firstLoss}`);
    firstLosses.push(ready.firstLoss);
    peers.push(p);
  }
  console.log(new Set(firstLosses).size === 1
    ? 'first-step losses: identical in every tree (same seed, same numerics)'
    : `first-step losses DIFFER between trees: ${firstLosses.join(', ')} (different numerics or seeding)`);
  for (const p of peers) { // warm-up steps (JIT tiers, buffer pools, GEMM helper threads)
    p.proc.stdin.write(`${JSON.stringify({ steps: opt.warmup })}\n`);
    await p.next();
  }
  for (let r = 0; r < opt.rounds; r++) {
    const order = r % 2 === 0 ? peers : [...peers].reverse();
    for (const p of order) {
      p.proc.stdin.write(`${JSON.stringify({ steps: opt.steps })}\n`);
      const { ms } = (await p.next()) as { ms: number[] };
      p.roundMedians.push(median(ms));
      p.all.push(...ms);
    }
    console.log(`round ${r + 1}: ${peers.map((p) => `${p.name} ${p.roundMedians[r]!.toFixed(1)} ms`).join(', ')}`);
  }
  for (const p of peers) p.proc.stdin.write(`${JSON.stringify({ quit: true })}\n`);
  const base = median(peers[0]!.roundMedians);
  console.log(`\n${opt.rounds} interleaved rounds × ${opt.steps} steps (after ${opt.warmup} warm-up steps), ms per BERT-tiny training step:`);
  // "paired": the median over rounds of (this tree's round median ÷ the first tree's in the same
  // round) — each round's trees ran back to back, so a ratio cancels most of the load they shared
  const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)} %`;
  console.log('| tree | median of per-round medians | min / max round median | vs first | vs first, paired by round |');
  console.log('|---|---|---|---|---|');
  for (const p of peers) {
    const m = median(p.roundMedians);
    const paired = median(p.roundMedians.map((x, r) => x / peers[0]!.roundMedians[r]!));
    console.log(`| ${p.name} | ${m.toFixed(1)} | ${Math.min(...p.roundMedians).toFixed(1)} / ${Math.max(...p.roundMedians).toFixed(1)} | ${p === peers[0] ? '—' : pct(m / base)} | ${p === peers[0] ? '—' : pct(paired)} |`);
  }
  console.log(JSON.stringify(Object.fromEntries(peers.map((p) => [p.name, { roundMedians: p.roundMedians.map((x) => +x.toFixed(2)) }]))));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!);
} else {
  await parent(process.argv.slice(2));
}
