/**
 * `tensorgrad serve DIR` — the HTTP inference server (src/serve/server.ts) on 127.0.0.1 by
 * default. SIGTERM or SIGINT drains: no new requests, queued and running ones are answered, then
 * the process exits 0.
 */
import { UsageError, parseArgs, helpText, type CommandSpec } from '../args.js';
import { useBackend, type Command } from '../util.js';
import { splitPositionals } from './predict.js';
import { startServer } from '../../serve/server.js';
import { isTextGenerationFolder, startLLMServer } from '../../serve/llm/http.js';

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: 'Serve a model folder over HTTP: POST /v1/ner, /v1/classify, /v1/fill-mask (HF Inference Endpoints format),\n' +
    'GET /health, GET /metrics (Prometheus). Requests are batched dynamically; SIGTERM drains then exits.\n' +
    'A GPT folder gets OpenAI-style POST /v1/completions (stream: true = SSE) on the LLM engine (paged KV cache, continuous batching).',
  options: [
    { name: 'port', type: 'int', default: 8080, min: 0, help: 'TCP port (0: any free port)' },
    { name: 'host', type: 'string', default: '127.0.0.1', help: 'address to bind (loopback by default)' },
    { name: 'max-batch', type: 'int', default: 32, min: 1, help: 'most texts per forward pass (1: one at a time)' },
    { name: 'max-wait-ms', type: 'number', default: 0, min: 0, help: 'how long a text may wait for others to batch with when the model is idle (0: dispatch at once; texts that arrive during a pass are batched anyway)' },
    { name: 'max-queue', type: 'int', default: 256, min: 1, help: 'most texts waiting; beyond it 429 + Retry-After' },
    { name: 'timeout-ms', type: 'int', default: 30000, min: 1, help: 'per-request deadline (504 after it)' },
    { name: 'max-body-bytes', type: 'int', default: 1048576, min: 64, help: 'request body limit (413 beyond it)' },
    { name: 'max-inputs', type: 'int', default: 64, min: 1, help: 'most texts in one request' },
    { name: 'kv-blocks', type: 'int', default: 512, min: 1, help: 'GPT folders: KV cache blocks of 16 tokens in the pool' },
    { name: 'scheduler', type: 'string', default: 'fcfs', help: 'GPT folders: fcfs or mlfq (FastServe skip-join MLFQ)' },
    { name: 'batching', type: 'string', default: 'continuous', help: 'GPT folders: continuous (Orca: join/leave every step) or static (baseline: next batch when the last has finished)' },
    { name: 'quiet', type: 'boolean', help: 'no log lines' },
    { name: 'backend', type: 'string', default: 'cpu', help: 'compute backend' },
  ],
  examples: [
    'tensorgrad serve out/ner',
    'curl -s localhost:8080/v1/ner -d \'{"inputs": "Captain Ahab sailed from Nantucket."}\'',
    'tensorgrad serve out/classifier --port 9000 --max-batch 64 --max-wait-ms 2',
  ],
};

export const serveCommand: Command = {
  spec: serveSpec,
  async run(argv, prog) {
    const { positionals, options } = splitPositionals(serveSpec, argv);
    const o = parseArgs(serveSpec, options);
    if (o.help) {
      console.log(helpText(prog, serveSpec).replace(`${prog} serve [options]`, `${prog} serve DIR [options]`));
      return 0;
    }
    useBackend(o.backend);
    if (positionals.length !== 1) throw new UsageError(`expected one model folder: serve DIR, got ${positionals.length ? positionals.join(' ') : 'none'}`);
    const log = o.quiet ? () => {} : (l: string) => process.stderr.write(`${new Date().toISOString()} ${l}\n`);
    if (isTextGenerationFolder(positionals[0]!)) {
      if (o.scheduler !== 'fcfs' && o.scheduler !== 'mlfq') throw new UsageError(`--scheduler must be fcfs or mlfq, got ${String(o.scheduler)}`);
      if (o.batching !== 'continuous' && o.batching !== 'static') throw new UsageError(`--batching must be continuous or static, got ${String(o.batching)}`);
      const llm = await startLLMServer({
        dir: positionals[0]!, host: String(o.host), port: o.port as number, numBlocks: o.kvBlocks as number, scheduler: o.scheduler, batching: o.batching,
        maxNumSeqs: o.maxBatch as number, maxBodyBytes: o.maxBodyBytes as number, log,
      });
      console.log(`listening on ${llm.url}`);
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          log(`${sig}: draining (finishing ${llm.engine.stats().running + llm.engine.stats().waiting} requests)`);
          void llm.close().then(() => resolve());
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      return 0;
    }
    const srv = await startServer({
      dir: positionals[0]!, host: String(o.host), port: o.port as number, maxBatch: o.maxBatch as number, maxWaitMs: o.maxWaitMs as number,
      maxQueue: o.maxQueue as number, timeoutMs: o.timeoutMs as number, maxBodyBytes: o.maxBodyBytes as number, maxInputs: o.maxInputs as number, log,
    });
    console.log(`listening on ${srv.url}`);
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log(`${sig}: draining (no new requests; finishing ${srv.batcher.depth} queued)`);
        void srv.close().then(() => {
          log('drained; bye');
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return 0;
  },
};
