/**
 * The load-test toolkit (loopback only, bounded in requests and time): start `tensorgrad serve`
 * as a child process, drive it with N concurrent keep-alive clients, and the soak of mixed good
 * and bad requests. Used by `npm run loadtest` (loadtest/run.ts) and, on a tiny model, by
 * test/serve/soak.test.ts.
 *
 * The client is Node's own `http` with a keep-alive agent (one socket per concurrent client),
 * like autocannon's default mode, without the dependency; each client sends its next request
 * when the previous answer arrives (closed loop), so concurrency = requests in flight.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 as rng } from '../src/core/random-bits.js'; // batch positions / soak sequences from a seed: reproducible runs

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `tensorgrad serve DIR --port 0 …` (from the sources) and waits for "listening on". */
export function startServeProcess(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', dir, '--port', '0', '--quiet', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within 60 s: ${err}`));
    }, 60_000);
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /listening on (http:\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!, child,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${err}`));
    });
  });
}

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
  headers: http.IncomingHttpHeaders;
}

/** One request on `agent`; rejects on socket errors (and on abort after `abortAfterMs`). */
export function request(url: string, agent: http.Agent, method: string, path: string, body?: string | Buffer, opts: { abortAfterMs?: number; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url + path, {
      method, agent,
      headers: { ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}), ...opts.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.abortAfterMs !== undefined) setTimeout(() => req.destroy(new Error('aborted by the client')), opts.abortAfterMs);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LoadResult {
  concurrency: number;
  requests: number;
  seconds: number;
  throughput: number;
  p50: number;
  p99: number;
  mean: number;
  statuses: Record<string, number>;
  /** GET /health latencies measured alongside (ms): p50, p99, max. */
  health: { p50: number; p99: number; max: number; n: number };
  /** From the server's metrics: worker milliseconds per text and texts per batch (set by the caller). */
  workerMsPerText?: number;
  meanBatch?: number;
  /** Every measured latency (ms), sorted; for pooling rounds (not written to results). */
  latencies?: number[];
  healthLatencies?: number[];
}

/** Pools rounds of the same cell: throughput = total requests / total time, percentiles over all latencies. */
export function poolRounds(rounds: LoadResult[]): LoadResult {
  const lat = rounds.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  const health = rounds.flatMap((r) => r.healthLatencies ?? []).sort((a, b) => a - b);
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const statuses: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    concurrency: rounds[0]!.concurrency, requests, seconds, throughput: requests / Math.max(seconds, 1e-9),
    p50: percentile(lat, 50), p99: percentile(lat, 99), mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length), statuses,
    health: { p50: percentile(health, 50), p99: percentile(health, 99), max: health[health.length - 1] ?? NaN, n: health.length },
  };
}

/**
 * Closed-loop load: `concurrency` clients POST `bodies` (round robin) to `path` for `durationMs`
 * (after `warmupMs` not counted) or until `maxRequests`; a probe GETs /health every 100 ms.
 */
export async function runLoad(url: string, path: string, bodies: string[], o: { concurrency: number; durationMs: number; warmupMs?: number; maxRequests?: number }): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency + 1 });
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let sent = 0;
  const warm = o.warmupMs ?? 0;
  const tStart = performance.now();
  const tMeasure = tStart + warm;
  const tEnd = tMeasure + o.durationMs;
  const maxReq = o.maxRequests ?? Infinity;
  let measured = 0;
  const client = async () => {
    while (performance.now() < tEnd && sent < maxReq) {
      const body = bodies[next++ % bodies.length]!;
      sent++;
      const t = performance.now();
      let status = 'error';
      try {
        const r = await request(url, agent, 'POST', path, body);
        status = String(r.status);
      } catch { /* counted as error */ }
      if (t >= tMeasure) {
        lat.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
        measured++;
      }
    }
  };
  const health: number[] = [];
  let probing = true;
  const probe = async () => {
    const hAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (probing) {
      await new Promise((r) => setTimeout(r, 100));
      if (performance.now() < tMeasure) continue;
      try {
        health.push((await request(url, hAgent, 'GET', '/health')).ms);
      } catch { /* ignore */ }
    }
    hAgent.destroy();
  };
  const p = probe();
  await Promise.all(Array.from({ length: o.concurrency }, client));
  const seconds = (Math.min(performance.now(), tEnd) - tMeasure) / 1000;
  probing = false;
  await p;
  agent.destroy();
  lat.sort((a, b) => a - b);
  health.sort((a, b) => a - b);
  return {
    concurrency: o.concurrency, requests: measured, seconds, throughput: measured / Math.max(seconds, 1e-9),
    p50: percentile(lat, 50), p99: percentile(lat, 99), mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length), statuses,
    health: { p50: percentile(health, 50), p99: percentile(health, 99), max: health[health.length - 1] ?? NaN, n: health.length },
    latencies: lat, healthLatencies: health,
  };
}

// ───────────────────────────── soak ─────────────────────────────

export interface SoakOptions {
  /** Texts the model takes without truncation, with their expected answers (JSON text) as one-at-a-time predictions give them. */
  good: { text: string; expected: string }[];
  /** A text over the model's positions, and its expected answer with truncation. */
  long: { text: string; truncated: string };
  /** The server's body limit in bytes. */
  maxBodyBytes: number;
  requests: number;
  concurrency: number;
  /** Stop early after this long (ms). */
  maxMs?: number;
  /** Called with the request index, e.g. to sample RSS. */
  onProgress?: (done: number) => void | Promise<void>;
  seed?: number;
}

export interface SoakResult {
  sent: number;
  answered: number;
  aborted: number;
  /** Requests whose status or body was not what it should be (with the first few listed). */
  wrong: number;
  wrongExamples: string[];
  byKind: Record<string, number>;
  seconds: number;
}

type Kind = 'good' | 'good-batch' | 'bad-json' | 'wrong-field' | 'too-long' | 'truncated' | 'too-large' | 'wrong-route' | 'wrong-method' | 'abort';
const KINDS: [Kind, number][] = [
  ['good', 40], ['good-batch', 12], ['bad-json', 8], ['wrong-field', 8], ['too-long', 6], ['truncated', 6], ['too-large', 4], ['wrong-route', 5], ['wrong-method', 5], ['abort', 6],
];

/**
 * Thousands of mixed requests on `path` (NER): each kind has a known right answer — the exact
 * one-at-a-time prediction for good ones, the status code (and the field named) for bad ones;
 * aborted requests must not disturb the rest. Counts every request that got no or a wrong answer.
 */
export async function soak(url: string, path: string, o: SoakOptions): Promise<SoakResult> {
  const rand = rng(o.seed ?? 1);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency + 2 });
  const total = KINDS.reduce((s, [, w]) => s + w, 0);
  const pick = (): Kind => {
    let u = rand() * total;
    for (const [k, w] of KINDS) if ((u -= w) < 0) return k;
    return 'good';
  };
  const res: SoakResult = { sent: 0, answered: 0, aborted: 0, wrong: 0, wrongExamples: [], byKind: {}, seconds: 0 };
  const t0 = performance.now();
  let i = 0;
  const fail = (kind: Kind, msg: string) => {
    res.wrong++;
    if (res.wrongExamples.length < 5) res.wrongExamples.push(`${kind}: ${msg.slice(0, 300)}`);
  };
  const one = async (kind: Kind) => {
    const g = o.good[Math.floor(rand() * o.good.length)]!;
    res.sent++;
    res.byKind[kind] = (res.byKind[kind] ?? 0) + 1;
    try {
      switch (kind) {
        case 'good': {
          const r = await request(url, agent, 'POST', path, JSON.stringify({ inputs: g.text }));
          res.answered++;
          if (r.status !== 200 || r.body !== g.expected) fail(kind, `${r.status} ${r.body} ≠ ${g.expected}`);
          break;
        }
        case 'good-batch': {
          const n = 2 + Math.floor(rand() * 3);
          const items = Array.from({ length: n }, () => o.good[Math.floor(rand() * o.good.length)]!);
          const r = await request(url, agent, 'POST', path, JSON.stringify({ inputs: items.map((x) => x.text) }));
          res.answered++;
          if (r.status !== 200 || r.body !== `[${items.map((x) => x.expected).join(',')}]`) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'bad-json': {
          const r = await request(url, agent, 'POST', path, `{"inputs": ${JSON.stringify(g.text).slice(0, 10)}`);
          res.answered++;
          if (r.status !== 400 || !r.body.includes('malformed JSON')) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'wrong-field': {
          const r = await request(url, agent, 'POST', path, JSON.stringify({ inputs: g.text, parameters: { top_k: 3 } }));
          res.answered++;
          if (r.status !== 422 || JSON.parse(r.body).field !== 'parameters.top_k') fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'too-long': {
          const r = await request(url, agent, 'POST', path, JSON.stringify({ inputs: o.long.text }));
          res.answered++;
          if (r.status !== 422 || !r.body.includes('truncation')) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'truncated': {
          const r = await request(url, agent, 'POST', path, JSON.stringify({ inputs: o.long.text, parameters: { truncation: true } }));
          res.answered++;
          if (r.status !== 200 || r.body !== o.long.truncated) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'too-large': {
          const r = await request(url, agent, 'POST', path, JSON.stringify({ inputs: 'x'.repeat(o.maxBodyBytes + 10) }));
          res.answered++;
          if (r.status !== 413) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'wrong-route': {
          const r = await request(url, agent, 'POST', '/v1/summarize', JSON.stringify({ inputs: g.text }));
          res.answered++;
          if (r.status !== 404) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'wrong-method': {
          const r = await request(url, agent, 'GET', path);
          res.answered++;
          if (r.status !== 405) fail(kind, `${r.status} ${r.body}`);
          break;
        }
        case 'abort': {
          try {
            await request(url, agent, 'POST', path, JSON.stringify({ inputs: g.text }), { abortAfterMs: Math.floor(rand() * 3) });
            res.answered++; // answered before the abort: fine too
          } catch {
            res.aborted++;
          }
          break;
        }
      }
    } catch (e) {
      fail(kind, `no answer: ${(e as Error).message}`);
    }
  };
  const deadline = t0 + (o.maxMs ?? Infinity);
  const client = async () => {
    while (i < o.requests && performance.now() < deadline) {
      const n = i++;
      await one(pick());
      await o.onProgress?.(n);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  agent.destroy();
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

/** The batcher's counters from /metrics: texts dispatched, batches, seconds the worker spent. */
export async function workerCounters(url: string): Promise<{ texts: number; batches: number; seconds: number }> {
  const agent = new http.Agent();
  const m = (await request(url, agent, 'GET', '/metrics')).body;
  agent.destroy();
  const g = (n: string) => Number(new RegExp(`^${n} (\\S+)`, 'm').exec(m)?.[1] ?? 0);
  return { texts: g('tensorgrad_batch_size_sum'), batches: g('tensorgrad_batch_size_count'), seconds: g('tensorgrad_batch_duration_seconds_sum') };
}

/** process_resident_memory_bytes from /metrics. */
export async function serverRss(url: string): Promise<number> {
  const agent = new http.Agent();
  const r = await request(url, agent, 'GET', '/metrics');
  agent.destroy();
  const m = /^process_resident_memory_bytes (\d+)/m.exec(r.body);
  return m ? Number(m[1]) : NaN;
}
