/**
 * `npm run test:browser` (issue #20 item 6): the playground in a real browser — Debian's
 * chromium driven by playwright-core (its executablePath; playwright's own browser download
 * cannot work offline), with every request outside the local server refused.
 *
 *   1. builds the playground (vite build → dist/playground) and serves it with `vite preview`
 *      on 127.0.0.1 (COOP/COEP headers, so the page is cross-origin isolated);
 *   2. the page loads; the char-GPT trains N steps on cpu with the loss falling, predictions and
 *      attention maps (2 layers × 4 heads) appear, the graph view renders;
 *   3. the BERT spam classifier trains on cpu with the loss falling;
 *   4. gpu: WebGL2 on SwiftShader (`--enable-unsafe-swiftshader`): the backend's self-test must
 *      pass and the char-GPT trains with the loss falling;
 *   5. op-level golden cases (softmax, logSoftmax, GELU, logsumexp, layerNorm, cross-entropy,
 *      attention from test/fixtures/golden) run in the page's worker and in this Node process
 *      through the same function (playground/golden-ops.ts): page = Node bit for bit, and both
 *      within the golden tests' tolerances of PyTorch;
 *   6. no console error, page error or refused request; a screenshot goes to
 *      docs/images/playground.png (committed, shown in the README).
 *
 * Env: CHROMIUM (default /usr/bin/chromium), TG_BROWSER_STEPS (default 60), TG_BROWSER_GPU_STEPS (6), TG_BROWSER_SKIP_BUILD=1
 * (reuse dist/playground), TG_BROWSER_SCREENSHOT (path; default docs/images/playground.png).
 * Prints one line per check and a closing "N passed, N failed".
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium, type ConsoleMessage } from 'playwright-core';
import { build, preview } from 'vite';
import { runGoldenCase } from '../../playground/golden-ops.js';
import type { FixtureTensor, GoldenCase, GoldenResult } from '../../playground/protocol.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG = join(ROOT, 'playground', 'vite.config.ts');
const STEPS = Number(process.env.TG_BROWSER_STEPS ?? 60);
/** SwiftShader runs WebGL on the CPU, slowly: a few steps show the loss falling. */
const GPU_STEPS = Number(process.env.TG_BROWSER_GPU_STEPS ?? 6);
const SCREENSHOT = process.env.TG_BROWSER_SCREENSHOT ?? join(ROOT, 'docs', 'images', 'playground.png');

let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The loss falls: the mean of the last fifth of the steps is below the mean of the first fifth by `margin`. */
function lossFalls(losses: number[], margin: number): { ok: boolean; detail: string } {
  const k = Math.max(1, Math.floor(losses.length / 5));
  const first = mean(losses.slice(0, k));
  const last = mean(losses.slice(-k));
  return { ok: losses.length > 0 && losses.every(Number.isFinite) && last < first - margin, detail: `${losses.length} steps, mean loss ${first.toFixed(3)} → ${last.toFixed(3)}` };
}

// ---- golden cases ----------------------------------------------------------------------------------------

interface FixtureCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  gy?: Record<string, FixtureTensor>;
  grads?: Record<string, FixtureTensor>;
}

/** The representative subset: all functional, layerNorm and attention cases, the cross-entropy ones. */
function goldenCases(): { cases: GoldenCase[]; fixtures: Map<string, FixtureCase>; tol: Map<string, { rtol: number; atol: number }> } {
  const load = (f: string) => (JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'golden', f), 'utf8')) as { cases: FixtureCase[] }).cases;
  const picked: [FixtureCase, { rtol: number; atol: number }][] = [
    // tolerances as in test/golden/functional.test.ts and test/nn/golden.test.ts (atol scaled below for functional)
    ...load('functional.json').map((c) => [c, { rtol: 5e-12, atol: 1e-15 }] as [FixtureCase, { rtol: number; atol: number }]),
    ...load('layernorm.json').map((c) => [c, { rtol: 1e-8, atol: 1e-9 }] as [FixtureCase, { rtol: number; atol: number }]),
    ...load('losses.json').filter((c) => c.op === 'cross_entropy').map((c) => [c, { rtol: 1e-9, atol: 1e-12 }] as [FixtureCase, { rtol: number; atol: number }]),
    ...load('attention.json').map((c) => [c, { rtol: 1e-9, atol: 1e-12 }] as [FixtureCase, { rtol: number; atol: number }]),
  ];
  const cases = picked.map(([c]) => ({ name: c.name, op: c.op, params: c.params, inputs: c.inputs, gy: c.gy ?? {}, gradNames: Object.keys(c.grads ?? {}) }));
  return { cases, fixtures: new Map(picked.map(([c]) => [c.name, c])), tol: new Map(picked.map(([c, t]) => [c.name, t])) };
}

const num = (v: number | string) => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : NaN);

/** Largest violation of |a − b| ≤ atol + rtol·|b| (≤ 0 when within), NaN/±∞ matched exactly. */
function closeness(got: number[], want: number[], rtol: number, atol: number): number {
  if (got.length !== want.length) return Infinity;
  let worst = -Infinity;
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!, b = want[i]!;
    if (Number.isNaN(b) || !Number.isFinite(b)) {
      if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - b) - (atol + rtol * Math.abs(b)));
  }
  return worst;
}

function compareGolden(page: GoldenResult[], node: GoldenResult[], g: ReturnType<typeof goldenCases>): void {
  let same = 0, close = 0, worstRel = 0;
  const mismatches: string[] = [];
  const far: string[] = [];
  for (let i = 0; i < g.cases.length; i++) {
    const c = g.cases[i]!, p = page[i]!, n = node[i]!;
    if (p?.error || n.error) {
      far.push(`${c.name}: ${p?.error ?? n.error}`);
      continue;
    }
    // page vs Node: bit for bit (same V8 arithmetic, same kernels)
    if (JSON.stringify(p) === JSON.stringify(n)) same++;
    else {
      let rel = 0;
      const pairs = [...Object.entries(p.outputs).map(([k, v]) => [v.data, n.outputs[k]?.data]), ...Object.entries(p.grads).map(([k, v]) => [v.data, n.grads[k]?.data])];
      for (const [a, b] of pairs) {
        if (!a || !b) { rel = Infinity; continue; }
        // normwise: the difference relative to the largest magnitude in the tensor
        const scale = Math.max(1e-300, ...b.filter(Number.isFinite).map(Math.abs));
        a.forEach((x, j) => {
          const y = b[j]!;
          if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) return;
          rel = Math.max(rel, Number.isFinite(x) && Number.isFinite(y) ? Math.abs(x - y) / scale : Infinity);
        });
      }
      worstRel = Math.max(worstRel, rel);
      mismatches.push(`${c.name} ${rel.toExponential(1)}`);
    }
    // page vs PyTorch
    const fx = g.fixtures.get(c.name)!;
    const { rtol, atol } = g.tol.get(c.name)!;
    let ok = true;
    for (const [k, want] of Object.entries(fx.outputs)) {
      const got = p.outputs[k];
      if (!got) continue;
      const w = want.data.map(num);
      const scale = c.op === 'softmax' || c.op === 'log_softmax' || c.op === 'gelu' || c.op === 'logsumexp' ? Math.max(1, ...w.filter(Number.isFinite).map(Math.abs)) : 1;
      if (closeness(got.data, w, rtol, atol * scale) > 0) ok = false;
    }
    for (const [k, want] of Object.entries(fx.grads ?? {})) {
      const got = p.grads[k];
      const w = want.data.map(num);
      const scale = c.op === 'softmax' || c.op === 'log_softmax' || c.op === 'gelu' || c.op === 'logsumexp' ? Math.max(1, ...w.filter(Number.isFinite).map(Math.abs)) : 1;
      if (!got || closeness(got.data, w, rtol, atol * scale) > 0) ok = false;
    }
    if (ok) close++;
    else far.push(c.name);
  }
  // Chromium's V8 and Node's may round Math.exp/Math.log differently in the last bit: the page must
  // agree with Node to a few ulps everywhere, and the report says how many cases are bit-identical
  check(`golden ops in the page agree with Node (${g.cases.length} cases)`, worstRel <= 1e-13 && far.every((f) => !f.includes(':')),
    `${same}/${g.cases.length} bit-identical, the rest within ${worstRel.toExponential(1)} of the largest magnitude (e.g. ${mismatches.slice(0, 2).join(', ')})`);
  check('golden ops in the page match PyTorch float64', far.length === 0, far.length ? `outside tolerance: ${far.slice(0, 5).join('; ')}` : `${close}/${g.cases.length} within the golden tolerances`);
}

// ---- the run ----------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (process.env.TG_BROWSER_SKIP_BUILD !== '1') {
    const t0 = Date.now();
    await build({ configFile: CONFIG, logLevel: 'warn' });
    console.log(`built dist/playground in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const server = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { port: 0, strictPort: false, host: '127.0.0.1' } });
  const addr = server.httpServer.address() as AddressInfo;
  const origin = `http://127.0.0.1:${addr.port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist',
      // a second fence besides the request routing below: no name resolves except the local server
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  const problems: string[] = [];
  const refused: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 1500 }, serviceWorkers: 'block' });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin + '/') || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      refused.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    await page.goto(`${origin}/index.html`);

    // 1. loads: the worker built the char-GPT on the cpu backend
    await page.waitForFunction(() => (globalThis as any).playground?.state.ready !== null, undefined, { timeout: 60_000 });
    const ready = await page.evaluate(() => (globalThis as any).playground.state.ready);
    check('the playground loads and builds the char-GPT on cpu', ready?.task === 'gpt', `${ready?.parameters} parameters; ${ready?.backendDescription}`);
    check('the page is cross-origin isolated and the cpu backend has helper threads', ready?.crossOriginIsolated === true && ready?.threads >= 2, `crossOriginIsolated ${ready?.crossOriginIsolated}, ${ready?.threads} threads`);

    // 2. trains with the loss falling; tokens/s reported
    await page.evaluate((n) => (globalThis as any).playground.train(n), STEPS);
    const gpt = await page.evaluate(() => ({ losses: (globalThis as any).playground.state.losses as number[], tps: (globalThis as any).playground.state.tokensPerSecond as number }));
    const fall = lossFalls(gpt.losses, 0.3);
    check(`cpu: char-GPT trains ${STEPS} steps with the loss falling`, fall.ok && gpt.losses.length === STEPS, `${fall.detail}, ${Math.round(gpt.tps)} tokens/s`);
    const pred = await page.evaluate(() => (globalThis as any).playground.predict('Call me Ishmael. Some years ago'));
    check('predictions on typed text', typeof pred.text === 'string' && pred.text.length === 120, JSON.stringify(pred.text.slice(0, 60)));
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#attention canvas').length > 0);
    const maps = await page.evaluate(() => (globalThis as any).document.querySelectorAll('#attention canvas').length);
    check('attention heatmaps per layer and head', maps === 2 * 4, `${maps} maps`);
    const g = await page.evaluate(() => (globalThis as any).playground.graph());
    const svgNodes = await page.evaluate(() => (globalThis as any).document.querySelectorAll('#graph-view svg g, #graph-view svg rect').length);
    if (g.svg === null && /not in this build/.test(g.note)) {
      // GRAPH-VIEW: until src/browser.ts exports graph()/traceBackward() (issue #20 item 3) there is nothing to draw
      console.log(`skip the graph view of one training step — ${g.note}`);
    } else {
      const steps = await page.evaluate(() => (globalThis as any).document.querySelectorAll('#graph-steps .step').length);
      check('the graph view of one training step renders, with its backward steps', g.svg !== null && svgNodes > 10 && steps > 0, `${g.note}; ${svgNodes} svg elements, ${steps} steps listed`);
    }
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // 3. golden ops in the page vs Node vs PyTorch
    const gc = goldenCases();
    const inPage = (await page.evaluate((cases) => (globalThis as any).playground.golden(cases), gc.cases)) as GoldenResult[];
    const inNode = gc.cases.map(runGoldenCase);
    compareGolden(inPage, inNode, gc);

    // 4. BERT spam classifier on cpu
    const bert = await page.evaluate(() => (globalThis as any).playground.setup('bert', 'cpu'));
    await page.evaluate((n) => (globalThis as any).playground.train(n), Math.ceil(STEPS / 2));
    const bl = await page.evaluate(() => (globalThis as any).playground.state.losses as number[]);
    const bfall = lossFalls(bl, 0.02);
    check('cpu: the BERT spam classifier trains with the loss falling', bfall.ok, `${bert.description.split(';')[0]}; ${bfall.detail}`);
    const bpred = await page.evaluate(() => (globalThis as any).playground.predict('WIN a FREE prize!!! click here now'));
    check('BERT predicts on typed text', /^(spam|ham) \(p\(spam\) = /.test(bpred.text), bpred.text);

    // 5. gpu through WebGL2 (SwiftShader here)
    const gready = await page.evaluate(() => (globalThis as any).playground.setup('gpt', 'gpu'));
    const webgl2 = gready.available === true && gready.kernelClass === 'WebGL2Kernel';
    check('gpu: gpu.js runs WebGL2 kernels in the worker (OffscreenCanvas) and passes the self-test', webgl2, gready.backendDescription);
    if (webgl2) {
      await page.evaluate((n) => (globalThis as any).playground.train(n), GPU_STEPS);
      const gl = await page.evaluate(() => (globalThis as any).playground.state.losses as number[]);
      const gfall = lossFalls(gl, 0.1);
      const gtps = await page.evaluate(() => (globalThis as any).playground.state.tokensPerSecond as number);
      check('gpu: char-GPT trains with the loss falling', gfall.ok, `${gfall.detail}, ${Math.round(gtps)} tokens/s (SwiftShader: WebGL on the CPU)`);
    }
    const errors = await page.evaluate(() => (globalThis as any).playground.state.errors as string[]);
    check('the worker reported no error', errors.length === 0, errors.join(' | ').slice(0, 400));
    await context.close();
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
  check('the console shows no errors or warnings, no page errors, no failed requests', problems.length === 0, problems.slice(0, 5).join(' | '));
  check('no request left the local server', refused.length === 0, refused.slice(0, 3).join(' '));
  console.log(`screenshot: ${SCREENSHOT}`);
}

main().then(
  () => {
    console.log(`\n${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  },
  (e: unknown) => {
    console.error(e);
    console.log(`\n${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  },
);
