/**
 * `tensorgrad serve <gpt folder>`: an OpenAI-compatible completions endpoint over the LLM engine
 * (engine.ts: continuous batching over a paged KV cache, FCFS or FastServe's MLFQ), on Node's
 * `http` and the inference server's metrics registry (src/serve/metrics.ts).
 *
 *   POST /v1/completions  { prompt, max_tokens = 16, temperature = 1, top_p = 1, n = 1, stop, seed, stream }
 *   GET  /health          200 { status: "ok", … }, 503 while draining
 *   GET  /metrics         Prometheus text: KV blocks used/free, running/waiting requests,
 *                         preemptions, generated tokens and tokens/s, HTTP requests by code
 *
 * The response is OpenAI's `text_completion` object ({ id, object, created, model, choices:
 * [{ text, index, logprobs: null, finish_reason: "length" | "stop" }], usage }); with
 * `"stream": true` it is server-sent events, one `data: {…}` chunk per token (text held back only
 * while it may still be the start of a stop string), ending `data: [DONE]`. Stop strings are cut
 * off, as OpenAI. A client that disconnects aborts its request: its KV blocks return to the pool
 * at once. Errors are `{ "error": { "message", "type", "param" } }` with 400 (malformed JSON),
 * 404, 405, 413, 422 (a wrong field; `param` names it), 503 (draining).
 *
 * The engine runs on the event loop: one `step()` per macrotask (setImmediate), so new requests,
 * disconnects and /metrics are handled between steps (a step is one batched forward).
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { detectTask, loadModelFolder, type LoadedGenerator } from '../../pipelines/load.js';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from '../metrics.js';
import { LLMEngine, type FinishReason, type TokenEvent } from './engine.js';

/** Options of {@link startLLMServer}: the GPT folder, host (127.0.0.1) and port, the engine's pool and batch limits and scheduler, the body size limit, metrics registry and log. */
export interface LLMServeOptions {
  /** A GPT folder (train-gpt output). */
  dir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 = any free port. */
  port?: number;
  /** KV blocks in the pool (default 512). */
  numBlocks?: number;
  /** Tokens per KV block (default 16). */
  blockSize?: number;
  /** Most sequences per step (default 32). */
  maxNumSeqs?: number;
  /** Most tokens per step (default 256). */
  maxBatchTokens?: number;
  /** 'fcfs' (default) or 'mlfq'. */
  scheduler?: 'fcfs' | 'mlfq';
  /** 'continuous' (default) or 'static' (the baseline: a new batch only when the last one has finished). */
  batching?: 'continuous' | 'static';
  /** Request body limit (default 1 MiB). */
  maxBodyBytes?: number;
  /** A registry to add the server's metrics to (default: a new one). */
  registry?: MetricsRegistry;
  /** Access/diagnostic log, one line per call (default: none). */
  log?: (line: string) => void;
}

/** A running LLM server: its URL, port and host, the metrics registry, the HTTP server, the engine and `close()`. */
export interface LLMServer {
  /** Base URL, e.g. `http://127.0.0.1:8080` (IPv6 hosts in brackets). */
  url: string;
  /** The port listened on (the one picked when 0 was asked for). */
  port: number;
  /** The address listened on (default 127.0.0.1). */
  host: string;
  /** The metrics served at /metrics. */
  registry: MetricsRegistry;
  /** The underlying Node HTTP server. */
  http: http.Server;
  /** The continuous-batching engine that serves /v1/completions. */
  engine: LLMEngine;
  /** Stops accepting, lets running requests finish, closes. */
  close(): Promise<void>;
}

/**
 * True when the folder's config.json names a text-generation model (GPT-2 / char-gpt).
 * @example
 * ```ts
 * serve.llm.isTextGenerationFolder('out/gpt-char'); // true: config.json says gpt2 / char-gpt
 * serve.llm.isTextGenerationFolder('out/ner');      // false
 * ```
 */
export function isTextGenerationFolder(dir: string): boolean {
  const p = join(resolve(dir), 'config.json');
  if (!existsSync(p)) return false;
  try {
    return detectTask(dir, JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>, () => []) === 'text-generation';
  } catch {
    return false;
  }
}

class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null) {
    super(message);
  }
}

interface Completion {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  n: number;
  stop: string[];
  seed: number | undefined;
  stream: boolean;
}

const ACCEPTED = new Set(['model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'n', 'stop', 'seed', 'stream', 'user']);

/**
 * Validates an OpenAI completions body; ApiError(422) names the field.
 * @example
 * ```ts
 * serve.llm.parseCompletion({ prompt: 'Call me', max_tokens: 16, temperature: 0.8 }); // the request, checked
 * serve.llm.parseCompletion({ prompt: 'x', logprobs: 1 }); // throws ApiError 422: unsupported field 'logprobs' (supported: …)
 * ```
 */
export function parseCompletion(body: unknown): Completion {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(422, 'the body must be a JSON object', null);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!ACCEPTED.has(k)) throw new ApiError(422, `unsupported field '${k}' (supported: ${[...ACCEPTED].join(', ')})`, k);
  let prompt = b.prompt ?? '';
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') throw new ApiError(422, `prompt must be a string (or a list of one string), got ${JSON.stringify(b.prompt)}`, 'prompt');
  const int = (k: string, def: number, min: number, max: number): number => {
    const v = b[k] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ApiError(422, `${k} must be an integer in [${min}, ${max}], got ${JSON.stringify(b[k])}`, k);
    return v;
  };
  const num = (k: string, def: number, ok: (v: number) => boolean, range: string): number => {
    const v = b[k] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new ApiError(422, `${k} must be a number in ${range}, got ${JSON.stringify(b[k])}`, k);
    return v;
  };
  let stop: string[] = [];
  if (b.stop !== undefined && b.stop !== null) {
    stop = typeof b.stop === 'string' ? [b.stop] : (b.stop as string[]);
    if (!Array.isArray(stop) || stop.length > 4 || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new ApiError(422, `stop must be a non-empty string or a list of up to 4 of them, got ${JSON.stringify(b.stop)}`, 'stop');
    }
  }
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw new ApiError(422, `stream must be a boolean, got ${JSON.stringify(b.stream)}`, 'stream');
  if (b.seed !== undefined && b.seed !== null && (typeof b.seed !== 'number' || !Number.isInteger(b.seed))) throw new ApiError(422, `seed must be an integer, got ${JSON.stringify(b.seed)}`, 'seed');
  return {
    prompt, stop, stream: b.stream === true, seed: (b.seed as number | null | undefined) ?? undefined,
    maxTokens: int('max_tokens', 16, 1, 1 << 20), n: int('n', 1, 1, 128),
    temperature: num('temperature', 1, (v) => v >= 0 && v <= 2, '[0, 2]'), topP: num('top_p', 1, (v) => v > 0 && v <= 1, '(0, 1]'),
  };
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string (text to hold back while streaming). */
function heldBack(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) for (let k = Math.min(s.length - 1, text.length); k > best; k--) if (text.endsWith(s.slice(0, k))) best = k;
  return best;
}

/**
 * Starts the completions server on a GPT folder; resolves once it listens.
 * @example
 * const srv = await startLLMServer({ dir: 'out/gpt', port: 0, scheduler: 'mlfq' });
 * const r = await fetch(`${srv.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'Call me', max_tokens: 20 }) });
 * await srv.close();
 */
export async function startLLMServer(opts: LLMServeOptions): Promise<LLMServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const log = opts.log ?? (() => {});
  const loaded = loadModelFolder(opts.dir);
  if (loaded.kind !== 'generator') throw new Error(`${opts.dir}: a ${loaded.task} model; the completions server needs a text-generation (GPT) folder`);
  const { model, vocab } = loaded as LoadedGenerator;
  const modelName = loaded.dir;
  const engine = new LLMEngine(model, {
    numBlocks: opts.numBlocks ?? 512, blockSize: opts.blockSize ?? 16, maxNumSeqs: opts.maxNumSeqs ?? 32,
    maxBatchTokens: opts.maxBatchTokens ?? 256, scheduler: opts.scheduler ?? 'fcfs', batching: opts.batching ?? 'continuous',
  });

  const reg = opts.registry ?? new MetricsRegistry();
  const requests = reg.counter('tensorgrad_llm_requests_total', 'HTTP requests by route and status code.', ['route', 'code']);
  const disconnects = reg.counter('tensorgrad_llm_client_disconnects_total', 'Completions aborted because the client went away (their KV blocks freed).');
  const st = () => engine.stats();
  reg.gauge('tensorgrad_llm_kv_blocks_used', 'KV cache blocks in use.', [], (g) => g.set(st().blocksUsed));
  reg.gauge('tensorgrad_llm_kv_blocks_free', 'KV cache blocks free in the pool.', [], (g) => g.set(st().blocksFree));
  reg.gauge('process_resident_memory_bytes', 'Resident memory of the server process.', [], (g) => g.set(process.memoryUsage().rss));
  reg.gauge('nodejs_heap_used_bytes', 'V8 heap in use.', [], (g) => g.set(process.memoryUsage().heapUsed));
  reg.gauge('tensorgrad_llm_kv_slots_used', 'Token positions stored in the KV cache, summed over sequences (a shared prefix counts once per sample).', [], (g) => g.set(st().kvSlotsUsed));
  reg.gauge('tensorgrad_llm_steps', 'Engine steps (batched forwards) so far.', [], (g) => g.set(st().steps));
  reg.gauge('tensorgrad_llm_running_requests', 'Requests holding KV blocks.', [], (g) => g.set(st().running));
  reg.gauge('tensorgrad_llm_waiting_requests', 'Unfinished requests holding no KV blocks (queued or preempted).', [], (g) => g.set(st().waiting));
  reg.gauge('tensorgrad_llm_preemptions', 'Preemptions so far (a request lost its blocks and recomputes later).', [], (g) => g.set(st().preemptions));
  reg.gauge('tensorgrad_llm_generated_tokens', 'Tokens generated so far.', [], (g) => g.set(st().generatedTokens));
  const window: [number, number][] = []; // (time ms, tokens) of recent steps
  reg.gauge('tensorgrad_llm_tokens_per_second', 'Generated tokens per second over the last 10 s.', [], (g) => {
    const now = performance.now();
    while (window.length && window[0]![0] < now - 10_000) window.shift();
    const tokens = window.reduce((a, [, n]) => a + n, 0);
    g.set(window.length ? tokens / Math.max(1, Math.min(10, (now - window[0]![0]) / 1000)) : 0);
  });

  // the step loop: one engine step per macrotask while work remains
  const handlers = new Map<number, (e: TokenEvent) => void>();
  let looping = false;
  const idleWaiters: (() => void)[] = [];
  const loop = () => {
    if (!engine.hasUnfinished()) {
      looping = false;
      for (const f of idleWaiters.splice(0)) f();
      return;
    }
    try {
      const events = engine.step();
      window.push([performance.now(), events.filter((e) => e.token !== null).length]);
      if (window.length > 10_000) window.shift();
      for (const e of events) handlers.get(e.requestId)?.(e);
    } catch (e) {
      log(`engine step failed: ${(e as Error).stack ?? String(e)}`);
    }
    setImmediate(loop);
  };
  const kick = () => {
    if (!looping) {
      looping = true;
      setImmediate(loop);
    }
  };

  let draining = false;
  const sendJSON = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer> => new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > maxBody) {
        reject(new ApiError(413, `the body is over the limit of ${maxBody} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });

  const complete = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (draining) throw new ApiError(503, 'the server is shutting down');
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new ApiError(400, `malformed JSON: ${(e as Error).message}`);
    }
    const c = parseCompletion(body);
    const unknown = vocab.unknownChars(c.prompt);
    if (unknown.length) throw new ApiError(422, `prompt: ${unknown.slice(0, 5).map((ch) => JSON.stringify(ch)).join(', ')} not in the model's vocabulary of ${vocab.size} characters`, 'prompt');
    const start = c.prompt.length ? c.prompt : vocab.has('\n') ? '\n' : vocab.chars[0]!; // nanoGPT's default start
    const promptIds = vocab.encode(start);
    let id: number;
    try {
      id = engine.addRequest(promptIds, { maxTokens: c.maxTokens, temperature: c.temperature, topP: c.topP, n: c.n, seed: c.seed });
    } catch (e) {
      const msg = (e as Error).message;
      throw new ApiError(422, msg, /maxTokens|block size|pool/.test(msg) ? 'max_tokens' : /\bn\b/.test(msg) ? 'n' : null);
    }
    const cmplId = `cmpl-${process.pid}-${id}`;
    const created = Math.floor(Date.now() / 1000);
    const texts = Array.from({ length: c.n }, () => '');
    const sent = Array.from({ length: c.n }, () => 0); // characters already streamed
    const reasons: (FinishReason | null)[] = Array.from({ length: c.n }, () => null);
    let completionTokens = 0;
    if (c.stream) res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const chunk = (index: number, text: string, finish: FinishReason | null) => {
      if (!res.writableEnded && !res.destroyed) {
        res.write(`data: ${JSON.stringify({ id: cmplId, object: 'text_completion', created, model: modelName, choices: [{ text, index, logprobs: null, finish_reason: finish }] })}\n\n`);
      }
    };
    await new Promise<void>((done) => {
      const onClose = () => {
        if (reasons.some((r) => r === null)) {
          disconnects.inc();
          engine.abort(id); // the client is gone: free its blocks now
          handlers.delete(id);
          done();
        }
      };
      res.on('close', onClose);
      handlers.set(id, (e) => {
        const i = e.index;
        if (reasons[i] !== null) return;
        let finish: FinishReason | null = e.finishReason;
        if (e.token !== null) {
          completionTokens++;
          texts[i] += vocab.chars[e.token]!;
          const hit = c.stop.map((s) => texts[i]!.indexOf(s)).filter((k) => k >= 0);
          if (hit.length) {
            texts[i] = texts[i]!.slice(0, Math.min(...hit)); // the stop string is cut off
            finish = 'stop';
            if (e.finishReason === null) engine.finishSample(id, i, 'stop');
          }
        }
        if (finish === 'abort') finish = 'stop';
        if (finish !== null) reasons[i] = finish;
        if (c.stream) {
          const upTo = finish !== null ? texts[i]!.length : texts[i]!.length - heldBack(texts[i]!, c.stop);
          if (upTo > sent[i]! || finish !== null) {
            chunk(i, texts[i]!.slice(sent[i]!, Math.max(upTo, sent[i]!)), finish);
            sent[i] = Math.max(upTo, sent[i]!);
          }
        }
        if (reasons.every((r) => r !== null)) {
          handlers.delete(id);
          res.off('close', onClose);
          done();
        }
      });
      kick();
    });
    if (reasons.some((r) => r === null)) return; // disconnected
    if (c.stream) {
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
      return;
    }
    sendJSON(res, 200, {
      id: cmplId, object: 'text_completion', created, model: modelName,
      choices: texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: reasons[index] })),
      usage: { prompt_tokens: promptIds.length, completion_tokens: completionTokens, total_tokens: promptIds.length + completionTokens },
    });
  };

  let active = 0;
  const activeWaiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    const route = url === '/v1/completions' || url === '/health' || url === '/metrics' ? url : 'other';
    active++;
    res.on('close', () => {
      requests.inc({ route, code: res.statusCode });
      if (--active === 0) for (const f of activeWaiters.splice(0)) f();
    });
    const work = async () => {
      if (url === '/health') {
        if (req.method !== 'GET') throw new ApiError(405, 'use GET /health');
        const s = engine.stats();
        sendJSON(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', task: 'text-generation', model: modelName, running: s.running, waiting: s.waiting });
        return;
      }
      if (url === '/metrics') {
        if (req.method !== 'GET') throw new ApiError(405, 'use GET /metrics');
        const text = reg.render();
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (url !== '/v1/completions') throw new ApiError(404, `no route ${url} (POST /v1/completions; GET /health, /metrics)`);
      if (req.method !== 'POST') throw new ApiError(405, 'use POST /v1/completions');
      await complete(req, res);
    };
    work().catch((e: unknown) => {
      const err = e instanceof ApiError ? e : new ApiError(500, `internal error: ${(e as Error).message}`);
      if (err.status === 500) log(`500 ${url}: ${(e as Error).stack ?? String(e)}`);
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJSON(res, err.status, { error: { message: err.message, type: err.status >= 500 ? 'server_error' : 'invalid_request_error', param: err.param } });
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`serving text-generation model ${modelName} on ${url} (/v1/completions; ${engine.cache.numBlocks} KV blocks of ${engine.cache.blockSize}, scheduler ${engine.scheduler.name})`);
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= (async () => {
    draining = true;
    server.close();
    server.closeIdleConnections();
    if (looping) await new Promise<void>((r) => idleWaiters.push(r));
    if (active > 0) await Promise.race([new Promise<void>((r) => activeWaiters.push(r)), new Promise<void>((r) => setTimeout(r, 5000))]);
    server.closeAllConnections();
  })());
  return { url, port, host, registry: reg, http: server, engine, close };
}
