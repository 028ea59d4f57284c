/**
 * The model's thread: loads the folder (`loadModelFolder`, the same seam as the pipelines) and
 * runs the batches the server's batcher sends — one packed forward pass per sub-batch, then each
 * text's post-processing — so that the HTTP event loop never waits on the model.
 *
 * Messages: in `{ type: 'run', id, groups: WorkItem[][] }`; out `{ type: 'ready', info }` once,
 * then `{ type: 'result', id, results }` (one result's JSON text or `{ error }` per item) or
 * `{ type: 'error', id, error }` for a failed batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setCpuPoolLimit } from '../backends/index.js';
import { loadModelFolder } from '../pipelines/load.js';
import { pipelineFor, type AnyPipeline } from '../pipelines/index.js';
import type { EncodedText } from '../pipelines/encoder.js';
import { unpackItem, type WorkItem } from './work-item.js';

export type { WorkItem };

export interface WorkerInit {
  dir: string;
  task?: string;
  /** Free CPU buffers the worker keeps for reuse, MiB (default 32; see main()'s comment). */
  poolMiB?: number;
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('src/serve/worker.ts must run in a worker thread');
  const init = workerData as WorkerInit;
  // Batches have every (B, T) shape, so the buffer pool rarely finds an exact size again; with
  // the library's default limit (512 MiB) it would fill with buffers of sizes never reused and
  // the server's RSS would climb by hundreds of MiB (measured in the load test's soak).
  setCpuPoolLimit((init.poolMiB ?? 32) * 2 ** 20);
  let pipe: AnyPipeline;
  try {
    pipe = pipelineFor(loadModelFolder(init.dir, init.task ? { task: init.task } : {}));
  } catch (e) {
    port.postMessage({ type: 'fatal', error: (e as Error).message });
    return;
  }
  port.postMessage({ type: 'ready', info: { task: pipe.task } });
  port.on('message', (msg: { type: 'run'; id: number; groups: WorkItem[][] }) => {
    if (msg.type !== 'run') return;
    try {
      if (pipe.task === 'text-generation') throw new Error('the text-generation engine does not run in the encoder worker');
      const p = pipe;
      // each result goes back as its JSON text: the HTTP thread only joins strings, and a string
      // crosses threads in one copy where a nested result object is cloned field by field
      const results = msg.groups.map((g) => {
        const encs = g.map(unpackItem);
        const logits = p.forward(encs);
        return g.map((w, k) => {
          try {
            return JSON.stringify((p.postprocess as (e: EncodedText, l: Float32Array, q: object) => unknown)(encs[k]!, logits[k]!, w.params));
          } catch (e) {
            return { error: (e as Error).message };
          }
        });
      });
      port.postMessage({ type: 'result', id: msg.id, results });
    } catch (e) {
      port.postMessage({ type: 'error', id: msg.id, error: (e as Error).message });
    }
  });
}

main();
