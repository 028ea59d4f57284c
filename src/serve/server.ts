/**
 * `tensorgrad serve`: an HTTP inference server for the encoder pipelines, on Node's own `http`
 * module — no framework: six routes do not need a router, and `http` gives direct control of
 * what robustness needs (reading the body against a byte limit, noticing a client that goes
 * away, refusing new work while draining) without a dependency to keep up to date.
 *
 *   POST /v1/ner         token-classification   { "inputs": string | string[], "parameters": { aggregation_strategy, ignore_labels, truncation } }
 *   POST /v1/classify    text-classification    { "inputs": …, "parameters": { top_k, function_to_apply, truncation } }
 *   POST /v1/fill-mask   fill-mask              { "inputs": …, "parameters": { top_k, truncation } }
 *   GET  /health         200 { status: "ok", … }, 503 while draining
 *   GET  /metrics        Prometheus text (queue depth, batch sizes, latencies, rejections, model info)
 *
 * Responses are HF Inference Endpoints' wire formats: NER → [{entity_group, score, word, start,
 * end}, …] for one input; classification → [[{label, score}, …]] for one input (all labels,
 * best first, unless top_k); fill-mask → [{score, token, token_str, sequence}, …]; a list of
 * inputs → a list of those. Errors are `{ "error": message }` (+ `"field"` for 422):
 *
 *   400 malformed JSON · 404 unknown route or a route of another task · 405 wrong method
 *   413 body over --max-body-bytes · 422 wrong or missing field, input over the model's
 *   positions (unless "truncation": true) · 429 queue full (Retry-After) · 503 draining
 *   (Retry-After) · 504 deadline passed (--timeout-ms, or a smaller X-Timeout-Ms header)
 *
 * The model runs in a worker thread (src/serve/worker.ts); the event loop tokenizes, batches
 * (src/serve/batcher.ts) and answers, so /health and /metrics stay responsive under load. A
 * request whose client disconnects is dropped from the queue; `close()` drains: it stops
 * accepting, answers what is queued or running, then ends the worker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModelFolder, type LoadedEncoder } from '../pipelines/load.js';
import { pipelineFor } from '../pipelines/index.js';
import { InputError, type EncodedText } from '../pipelines/encoder.js';
import type { EncoderPipeline } from '../pipelines/base.js';
import { DynamicBatcher, QueueFullError } from './batcher.js';
import { WorkerEngine } from './engine.js';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { packItem, type WorkItem } from './work-item.js';

/** Options of {@link startServer}: the model folder, host (127.0.0.1) and port, dynamic batching, queue, input and body limits, timeouts, metrics registry and log. */
export interface ServeOptions {
  /** Model folder (a train-ner / train-classifier / pretrain-mlm output). */
  dir: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Most texts per forward pass (default 32; 1 = one at a time). */
  maxBatch?: number;
  /** How long a text may wait for others to batch with when the model is idle (default 0: texts that arrive during a pass form the next batch). */
  maxWaitMs?: number;
  /** Most texts waiting; beyond it requests get 429 (default 256). */
  maxQueue?: number;
  /** Per-request deadline (default 30 000 ms). */
  timeoutMs?: number;
  /** Request body limit (default 1 MiB). */
  maxBodyBytes?: number;
  /** Most texts in one request (default 64). */
  maxInputs?: number;
  /** Longest wait for in-flight work on close (default 30 000 ms). */
  drainTimeoutMs?: number;
  /** A registry to add the metrics to (default: a new one). */
  registry?: MetricsRegistry;
  /** Access/diagnostic log (default: none). */
  log?: (line: string) => void;
}

/** A running inference server: its URL, port, host and task, its metrics, and `close()`. */
export interface InferenceServer {
  /** Base URL, e.g. `http://127.0.0.1:8080` (IPv6 hosts in brackets). */
  url: string;
  /** The port listened on (the one picked when 0 was asked for). */
  port: number;
  /** The address listened on (default 127.0.0.1). */
  host: string;
  /** The loaded model's task ('token-classification', 'text-classification' or 'fill-mask'), which decides the route. */
  task: LoadedEncoder['task'];
  /** The metrics served at /metrics. */
  registry: MetricsRegistry;
  /** The underlying Node HTTP server. */
  http: http.Server;
  /** The dynamic batcher that groups concurrent texts into forward passes. */
  batcher: DynamicBatcher<WorkItem, string>;
  /** Stops accepting, finishes queued and running work, ends the worker. */
  close(): Promise<void>;
}

const ROUTES: Record<string, LoadedEncoder['task']> = {
  '/v1/ner': 'token-classification',
  '/v1/classify': 'text-classification',
  '/v1/fill-mask': 'fill-mask',
};

/**
 * Server-side defaults: grouped entities by word — 'first', because train-ner (like HF's
 * token-classification recipe) learns the tag of a word's first sub-word only — and every label.
 */
const ENDPOINT_DEFAULTS: Record<LoadedEncoder['task'], Record<string, unknown>> = {
  'token-classification': { aggregationStrategy: 'first' },
  'text-classification': { topK: null },
  'fill-mask': {},
};

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Starts the server; resolves once the model is loaded (in the worker) and the port listens.
 * @example
 * const srv = await startServer({ dir: 'out/ner', port: 0 });
 * await fetch(`${srv.url}/v1/ner`, { method: 'POST', body: JSON.stringify({ inputs: 'Ahab sailed from Nantucket' }) });
 * await srv.close();
 */
export async function startServer(opts: ServeOptions): Promise<InferenceServer> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const maxInputs = opts.maxInputs ?? 64;
  const log = opts.log ?? (() => {});
  const loaded = loadModelFolder(opts.dir);
  if (loaded.kind !== 'encoder') {
    throw new InputError(`${opts.dir}: a text-generation model; this server runs the encoder tasks (token-classification, text-classification, fill-mask)`, 'dir');
  }
  const pipe = pipelineFor(loaded) as EncoderPipeline<object, unknown>;
  const task = loaded.task;

  const reg = opts.registry ?? new MetricsRegistry();
  const requests = reg.counter('tensorgrad_requests_total', 'HTTP requests by route and status code.', ['route', 'code']);
  const latency = reg.histogram('tensorgrad_request_duration_seconds', 'Time from request to response, by route.', LATENCY_BUCKETS, ['route']);
  const rejections = reg.counter('tensorgrad_rejections_total', 'Requests refused, by reason.', ['reason']);
  const disconnects = reg.counter('tensorgrad_client_disconnects_total', 'Requests whose client went away before the answer (their queued texts are dropped).');
  const batchSize = reg.histogram('tensorgrad_batch_size', 'Texts per dispatched batch.', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  const subBatches = reg.histogram('tensorgrad_forward_batch_size', 'Texts per forward pass (a batch is split by length where that saves work).', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  const batchSeconds = reg.histogram('tensorgrad_batch_duration_seconds', 'Time the worker spent on one batch.', LATENCY_BUCKETS);
  const queueWait = reg.histogram('tensorgrad_queue_wait_seconds', 'Time a text waited in the queue.', LATENCY_BUCKETS);
  const inflight = reg.gauge('tensorgrad_inflight_requests', 'Requests being handled.');
  const modelInfo = reg.gauge('tensorgrad_model_info', 'The served model (value 1).', ['task', 'model_type', 'dir', 'vocab', 'max_tokens', 'num_parameters']);
  modelInfo.set(1, {
    task, model_type: 'bert', dir: loaded.dir, vocab: loaded.vocabSource, max_tokens: pipe.maxTokens, num_parameters: loaded.model.numParameters(),
  });
  reg.gauge('process_resident_memory_bytes', 'Resident memory of the server process.', [], (g) => g.set(process.memoryUsage().rss));
  reg.gauge('nodejs_heap_used_bytes', 'V8 heap in use on the HTTP thread (the model worker has its own).', [], (g) => g.set(process.memoryUsage().heapUsed));
  reg.gauge('tensorgrad_max_batch', 'The --max-batch setting.').set(opts.maxBatch ?? 32);

  const engine = new WorkerEngine({ dir: loaded.dir, task });
  const batcher: DynamicBatcher<WorkItem, string> = new DynamicBatcher<WorkItem, string>({
    maxBatch: opts.maxBatch ?? 32,
    maxWaitMs: opts.maxWaitMs ?? 0,
    maxQueue: opts.maxQueue ?? 256,
    hiddenSize: loaded.model.config.hiddenSize,
    run: (groups) => engine.run(groups),
    onBatch: ({ size, groups, ms, queueWaitMs }) => {
      batchSize.observe(size);
      for (const g of groups) subBatches.observe(g);
      batchSeconds.observe(ms / 1000);
      for (const w of queueWaitMs) queueWait.observe(w / 1000);
    },
  });
  reg.gauge('tensorgrad_queue_depth', 'Texts waiting for the model.', [], (g) => g.set(batcher.depth));
  await engine.ready;

  let draining = false;
  let active = 0;
  let activeWaiters: (() => void)[] = [];

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.writableEnded || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? PROMETHEUS_CONTENT_TYPE : 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...(draining ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  };

  const sendJSONText = (res: http.ServerResponse, status: number, json: string) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), ...(draining ? { Connection: 'close' } : {}) });
    res.end(json);
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer> => new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      reject(new HttpError(413, `the body is ${declared} bytes; the limit is ${maxBody} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      n += c.length;
      if (n > maxBody) {
        over = true;
        reject(new HttpError(413, `the body is over the limit of ${maxBody} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });

  const handleInference = async (req: http.IncomingMessage, res: http.ServerResponse, route: string, deadline: number, budgetMs: number): Promise<void> => {
    const routeTask = ROUTES[route]!;
    if (routeTask !== task) throw new HttpError(404, `this server runs a ${task} model; ${route} is for ${routeTask} (use ${Object.keys(ROUTES).find((r) => ROUTES[r] === task)})`);
    if (draining) throw new HttpError(503, 'the server is shutting down', {}, { 'Retry-After': '1' });
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(422, `the body must be a JSON object { "inputs": …, "parameters": {…} }, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`, { field: '(body)' });
    }
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (k !== 'inputs' && k !== 'parameters') throw new HttpError(422, `unknown field '${k}' (expected inputs, parameters)`, { field: k });
    if (!('inputs' in b)) throw new HttpError(422, "missing field 'inputs' (a string or a list of strings)", { field: 'inputs' });
    const single = !Array.isArray(b.inputs);
    const texts = single ? [b.inputs] : (b.inputs as unknown[]);
    if (!single && texts.length === 0) throw new HttpError(422, 'inputs is an empty list', { field: 'inputs' });
    if (texts.length > maxInputs) throw new HttpError(422, `inputs has ${texts.length} texts; at most ${maxInputs} per request`, { field: 'inputs' });
    const params = { ...ENDPOINT_DEFAULTS[task], ...pipe.checkParams(b.parameters, 'parameters.') } as Record<string, unknown> & { truncation?: boolean };
    delete params.batchSize;
    const encs: EncodedText[] = texts.map((t, i) => pipe.preprocess(t, { truncation: params.truncation ?? false, field: single ? 'inputs' : `inputs[${i}]` }));
    let sub: ReturnType<typeof batcher.submit>;
    try {
      sub = batcher.submit(encs.map((enc) => ({ item: packItem(enc, params), length: enc.inputIds.length })));
    } catch (e) {
      if (e instanceof QueueFullError) {
        rejections.inc({ reason: 'queue_full' });
        throw new HttpError(429, e.message, {}, { 'Retry-After': '1' });
      }
      throw e;
    }
    const gone = new Error('client disconnected');
    const onClose = () => {
      if (!res.writableFinished) {
        disconnects.inc();
        batcher.cancel(sub.jobs, gone);
      }
    };
    res.on('close', onClose);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(504, `the deadline of ${budgetMs} ms passed before the answer`)), Math.max(0, deadline - performance.now()));
    });
    try {
      const results = await Promise.race([Promise.all(sub.results), expired]); // each result's JSON text
      sendJSONText(res, 200, task === 'text-classification' || !single ? `[${results.join(',')}]` : results[0]!);
    } catch (e) {
      batcher.cancel(sub.jobs, e as Error);
      if (e === gone) return;
      if (e instanceof HttpError && e.status === 504) rejections.inc({ reason: 'deadline' });
      throw e;
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  };

  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    const url = (req.url ?? '/').split('?')[0]!;
    const route = ROUTES[url] ? url : url === '/health' || url === '/metrics' ? url : 'other';
    active++;
    inflight.inc();
    res.on('close', () => {
      active--;
      inflight.dec();
      requests.inc({ route, code: res.statusCode });
      latency.observe((performance.now() - t0) / 1000, { route });
      if (active === 0) {
        const w = activeWaiters;
        activeWaiters = [];
        for (const f of w) f();
      }
    });
    const headerTimeout = Number(req.headers['x-timeout-ms']);
    const budgetMs = Number.isFinite(headerTimeout) && headerTimeout > 0 ? Math.min(headerTimeout, timeoutMs) : timeoutMs;
    const deadline = t0 + budgetMs;
    const work = async () => {
      if (url === '/health') {
        if (req.method !== 'GET') throw new HttpError(405, 'use GET /health', {}, { Allow: 'GET' });
        send(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', task, model: loaded.dir, queue_depth: batcher.depth }, draining ? { 'Retry-After': '1' } : {});
        return;
      }
      if (url === '/metrics') {
        if (req.method !== 'GET') throw new HttpError(405, 'use GET /metrics', {}, { Allow: 'GET' });
        send(res, 200, reg.render());
        return;
      }
      if (!ROUTES[url]) throw new HttpError(404, `no route ${url} (POST ${Object.keys(ROUTES).join(', ')}; GET /health, /metrics)`);
      if (req.method !== 'POST') throw new HttpError(405, `use POST ${url}`, {}, { Allow: 'POST' });
      await handleInference(req, res, url, deadline, budgetMs);
    };
    work().catch((e: unknown) => {
      let err: HttpError;
      if (e instanceof HttpError) err = e;
      else if (e instanceof InputError) err = new HttpError(422, e.message, { field: e.field });
      else {
        log(`500 ${url}: ${(e as Error).stack ?? String(e)}`);
        err = new HttpError(500, `internal error: ${(e as Error).message}`);
      }
      const reason = { 400: 'bad_json', 413: 'body_too_large', 422: 'invalid_input', 503: 'draining' }[err.status as 400 | 413 | 422 | 503];
      if (reason) rejections.inc({ reason });
      if (err.status === 413) {
        // answer at once and close the connection; the rest of the body is read and dropped
        // (up to 2 s) so that the client, still sending, gets the answer rather than a reset
        send(res, 413, { error: err.message }, { Connection: 'close' });
        if (!req.complete) {
          const t = setTimeout(() => req.destroy(), 2000);
          req.on('end', () => clearTimeout(t));
          req.on('close', () => clearTimeout(t));
          req.resume();
        }
        return;
      }
      send(res, err.status, { error: err.message, ...err.extra }, err.headers);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`serving ${task} model ${loaded.dir} on ${url} (max batch ${batcher.maxBatch}, max wait ${batcher.maxWaitMs} ms, queue ${batcher.maxQueue})`);

  let closing: Promise<void> | null = null;
  const close = () => (closing ??= (async () => {
    draining = true;
    batcher.flush(); // what is queued runs now, without waiting for company
    server.close(); // no new connections
    server.closeIdleConnections();
    const drained = Promise.all([
      batcher.idle(),
      active === 0 ? Promise.resolve() : new Promise<void>((r) => activeWaiters.push(r)),
    ]);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((r) => (t = setTimeout(r, opts.drainTimeoutMs ?? 30_000)))]);
    clearTimeout(t);
    server.closeAllConnections();
    await engine.close();
  })());

  return { url, port, host, task, registry: reg, http: server, batcher, close };
}
