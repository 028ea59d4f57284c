import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type InferenceServer } from '../../src/serve/server.js';
import { splitByLength, DynamicBatcher, QueueFullError } from '../../src/serve/batcher.js';
import { MetricsRegistry } from '../../src/serve/metrics.js';
import { pipeline } from '../../src/pipelines/index.js';
import { makeTinyFolders } from '../pipelines/tiny.js';

let d: ReturnType<typeof makeTinyFolders>;
const servers: InferenceServer[] = [];
beforeAll(() => {
  d = makeTinyFolders();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(opts: Partial<Parameters<typeof startServer>[0]> & { dir?: string } = {}): Promise<InferenceServer> {
  const s = await startServer({ dir: d.ner, port: 0, ...opts });
  servers.push(s);
  return s;
}

async function post(s: InferenceServer, path: string, body: unknown, init: RequestInit = {}) {
  const r = await fetch(s.url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: r.status, json, headers: r.headers, text };
}

function metric(text: string, line: string): number {
  const m = text.split('\n').find((l) => l.startsWith(line + ' '));
  return m ? Number(m.slice(line.length + 1)) : 0;
}

const SENTS = ['Captain Ahab sailed from Nantucket to New York on Wednesday.', 'call me ishmael', 'the white whale',
  'Starbuck and Queequeg went to the harbor in Boston!', 'a', 'see you at lunch', 'the sea, the sea'];

describe('HTTP API (HF Inference Endpoints wire format)', () => {
  it('NER: one input → entities; a list → a list; parameters; /health and /metrics', async () => {
    const s = await serve();
    const ner = pipeline('token-classification', d.ner);
    const one = await post(s, '/v1/ner', { inputs: SENTS[0] });
    expect(one.status).toBe(200);
    expect(one.json).toEqual(JSON.parse(JSON.stringify(ner(SENTS[0]!, { aggregationStrategy: 'first' }))));
    const many = await post(s, '/v1/ner', { inputs: SENTS.slice(0, 3), parameters: { aggregation_strategy: 'none', ignore_labels: [] } });
    expect(many.json).toEqual(JSON.parse(JSON.stringify(ner(SENTS.slice(0, 3), { aggregationStrategy: 'none', ignoreLabels: [] }))));
    const h = await fetch(s.url + '/health');
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', task: 'token-classification' });
    const m = await (await fetch(s.url + '/metrics')).text();
    expect(m).toMatch(/# TYPE tensorgrad_request_duration_seconds histogram/);
    expect(m).toMatch(/tensorgrad_model_info\{task="token-classification",model_type="bert",.*max_tokens="24".*\} 1/);
    expect(metric(m, 'tensorgrad_requests_total{route="/v1/ner",code="200"}')).toBe(2);
    expect(m).toMatch(/tensorgrad_queue_depth 0/);
  });

  it('classify answers [[{label, score}, …]] for one input; fill-mask a list of candidates', async () => {
    const c = await serve({ dir: d.classifier });
    const r = await post(c, '/v1/classify', { inputs: 'win free money now!' });
    expect(r.status).toBe(200);
    const lists = r.json as { label: string; score: number }[][];
    expect(lists).toHaveLength(1);
    expect(lists[0]!.map((x) => x.label).sort()).toEqual(['ham', 'spam']);
    expect((await post(c, '/v1/classify', { inputs: ['a', 'b'], parameters: { top_k: 1 } })).json).toHaveLength(2);
    const f = await serve({ dir: d.mlm });
    const fm = await post(f, '/v1/fill-mask', { inputs: 'call me [MASK].', parameters: { top_k: 3 } });
    expect(fm.status).toBe(200);
    expect(fm.json).toHaveLength(3);
    expect((fm.json as { sequence: string }[])[0]!.sequence).toMatch(/^call me .+\.$/);
    expect((await post(f, '/v1/fill-mask', { inputs: 'no mask' })).status).toBe(422);
  });

  it('errors: 400 malformed JSON, 422 naming the field, 404, 405, 413, over-long input 422 or truncation', async () => {
    const s = await serve({ maxBodyBytes: 2000 });
    expect((await post(s, '/v1/ner', '{"inputs": ')).status).toBe(400);
    const cases: [unknown, string][] = [
      [{ inputs: 5 }, 'inputs'], [{}, 'inputs'], [{ inputs: 'x', params: {} }, 'params'], [{ inputs: ['ok', null] }, 'inputs[1]'],
      [{ inputs: 'x', parameters: { top_k: 2 } }, 'parameters.top_k'], [{ inputs: 'x', parameters: { aggregation_strategy: 'best' } }, 'parameters.aggregation_strategy'],
      [{ inputs: 'x', parameters: [] }, 'parameters'], [[1, 2], '(body)'], [{ inputs: [] }, 'inputs'],
    ];
    for (const [body, field] of cases) {
      const r = await post(s, '/v1/ner', body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect((r.json as { field: string }).field).toBe(field);
      expect((r.json as { error: string }).error).toContain(field === '(body)' ? 'JSON object' : field.replace(/\[\d\]/, ''));
    }
    const long = 'the whale '.repeat(30);
    const tooLong = await post(s, '/v1/ner', { inputs: long });
    expect(tooLong.status).toBe(422);
    expect((tooLong.json as { error: string }).error).toMatch(/62 tokens long .* at most 24.*truncation/);
    expect((await post(s, '/v1/ner', { inputs: long, parameters: { truncation: true } })).status).toBe(200);
    expect((await post(s, '/v1/classify', { inputs: 'x' })).status).toBe(404);
    expect((await post(s, '/v2/nothing', { inputs: 'x' })).status).toBe(404);
    expect((await fetch(s.url + '/v1/ner')).status).toBe(405);
    const big = await post(s, '/v1/ner', { inputs: 'whale '.repeat(1000) });
    expect(big.status).toBe(413);
    const m = await (await fetch(s.url + '/metrics')).text();
    expect(metric(m, 'tensorgrad_rejections_total{reason="body_too_large"}')).toBe(1);
    expect(metric(m, 'tensorgrad_rejections_total{reason="bad_json"}')).toBe(1);
  });

  it('dynamic batching: concurrent requests share forward passes and get exactly the one-at-a-time answers', async () => {
    const s = await serve({ maxBatch: 32, maxWaitMs: 30 });
    const ner = pipeline('token-classification', d.ner);
    const texts = Array.from({ length: 40 }, (_, i) => SENTS[i % SENTS.length]!);
    const res = await Promise.all(texts.map((t) => post(s, '/v1/ner', { inputs: t, parameters: { aggregation_strategy: 'none', ignore_labels: [] } })));
    res.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.json).toEqual(JSON.parse(JSON.stringify(ner(texts[i]!, { aggregationStrategy: 'none', ignoreLabels: [], batchSize: 1 }))));
    });
    const m = await (await fetch(s.url + '/metrics')).text();
    const batches = metric(m, 'tensorgrad_batch_size_count');
    expect(metric(m, 'tensorgrad_batch_size_sum')).toBe(40);
    expect(batches).toBeLessThan(40 / 4); // batched, not one at a time
  });

  it('bounded queue → 429 with Retry-After; the deadline → 504; a client that goes away drops its queued work', async () => {
    const s = await serve({ maxBatch: 32, maxWaitMs: 400, maxQueue: 2, timeoutMs: 5000 });
    const queued = [post(s, '/v1/ner', { inputs: 'call me ishmael' }), post(s, '/v1/ner', { inputs: 'the sea' })];
    await new Promise((r) => setTimeout(r, 50));
    const full = await post(s, '/v1/ner', { inputs: 'the whale' });
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('1');
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200]);

    const late = await post(s, '/v1/ner', { inputs: 'the whale' }, { headers: { 'X-Timeout-Ms': '50' } });
    expect(late.status).toBe(504);
    expect((late.json as { error: string }).error).toMatch(/deadline of 50 ms/);

    const before = await (await fetch(s.url + '/metrics')).text();
    const ac = new AbortController();
    const gone = post(s, '/v1/ner', { inputs: 'the white whale' }, { signal: ac.signal }).catch((e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    expect(await gone).toBe('AbortError');
    await new Promise((r) => setTimeout(r, 500)); // past maxWaitMs: the batch would have run
    const after = await (await fetch(s.url + '/metrics')).text();
    expect(metric(after, 'tensorgrad_client_disconnects_total')).toBe(1);
    expect(metric(after, 'tensorgrad_batch_size_sum')).toBe(metric(before, 'tensorgrad_batch_size_sum')); // no forward pass for it
    expect(metric(after, 'tensorgrad_queue_depth')).toBe(0);
  });

  it('SIGTERM drains: queued requests are answered, then the process exits 0', async () => {
    const root = join(__dirname, '..', '..');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', d.ner, '--port', '0', '--max-wait-ms', '2000', '--quiet'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        const m = /listening on (http:\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const inflight = SENTS.map((t) => fetch(url + '/v1/ner', { method: 'POST', body: JSON.stringify({ inputs: t }) }).then((r) => r.status));
    // wait until all of them are queued (max-wait 2 s keeps them there), then SIGTERM
    for (let depth = 0; depth < SENTS.length;) depth = ((await (await fetch(url + '/health')).json()) as { queue_depth: number }).queue_depth;
    child.kill('SIGTERM');
    expect(await Promise.all(inflight)).toEqual(SENTS.map(() => 200));
    expect(await exit).toBe(0);
  }, 30_000);
});

describe('batcher and metrics units', () => {
  it('splitByLength minimises the packed passes\' work: a fixed cost + tokens + padded attention slots', () => {
    expect(splitByLength([5, 5, 5, 5], 64, 128)).toEqual([4]);
    expect(splitByLength([5, 6, 7, 120], 16, 128)).toEqual([3, 1]); // 229 tokens' worth in one pass, 189 in two
    expect(splitByLength([5, 6, 7, 120], 64, 128)).toEqual([4]); // a dearer pass: one is cheaper (277 vs 285)
    expect(splitByLength([3, 3, 3, 3, 100, 100], 10, 16)).toEqual([4, 2]);
    expect(splitByLength([], 10, 128)).toEqual([]);
    const sizes = splitByLength([1, 2, 3, 50, 51, 52, 200], 0, 128);
    expect(sizes.reduce((a, b) => a + b)).toBe(7);
    expect(sizes).toEqual([1, 1, 1, 1, 1, 1, 1]); // no fixed cost: every text alone saves all padding
    expect(() => splitByLength([1], 1, 0)).toThrow(/hiddenSize must be > 0, got 0/);
  });

  it('queue bound, cancellation and order of results', async () => {
    const seen: number[][][] = [];
    const b = new DynamicBatcher<number, number>({ maxBatch: 4, maxWaitMs: 50, maxQueue: 3, run: async (groups) => { seen.push(groups); return groups.map((g) => g.map((x) => x * 10)); } });
    const a = b.submit([{ item: 1, length: 1 }, { item: 2, length: 9 }]);
    expect(() => b.submit([{ item: 3, length: 1 }, { item: 4, length: 1 }])).toThrow(QueueFullError);
    const c = b.submit([{ item: 5, length: 5 }]);
    b.cancel(c.jobs, new Error('gone'));
    await expect(c.results[0]).rejects.toThrow('gone');
    expect(await Promise.all(a.results)).toEqual([10, 20]);
    await b.idle();
    expect(seen.flat(2).sort()).toEqual([1, 2]);
  });

  it('Prometheus text format', () => {
    const reg = new MetricsRegistry();
    reg.counter('x_total', 'X.', ['code']).inc({ code: 200 }, 2);
    const h = reg.histogram('lat_seconds', 'Latency.', [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    expect(reg.render()).toBe([
      '# HELP x_total X.', '# TYPE x_total counter', 'x_total{code="200"} 2',
      '# HELP lat_seconds Latency.', '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{le="0.1"} 1', 'lat_seconds_bucket{le="1"} 2', 'lat_seconds_bucket{le="+Inf"} 3', 'lat_seconds_sum 5.55', 'lat_seconds_count 3', '',
    ].join('\n'));
    expect(() => reg.counter('x_total', 'again')).toThrow(/already registered/);
    expect(() => reg.get('x_total')!.render() && (reg.get('x_total') as never as { inc: (l: object) => void }).inc({ nope: 1 })).toThrow(/no label 'nope'/);
  });
});
