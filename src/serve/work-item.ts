/**
 * The unit of work the encoder server (server.ts) sends its model worker (worker.ts): one
 * tokenized text and its request's parameters. Kept apart from worker.ts, which starts the
 * worker's message loop when imported.
 */
import type { EncodedText } from '../pipelines/encoder.js';

/**
 * One text for the worker, packed into typed arrays: a structured clone copies a typed array with
 * one memcpy, where the EncodedText's arrays of numbers and of [start, end] pairs are cloned
 * element by element.
 */
export interface WorkItem {
  text: string;
  /** [CLS] … [SEP] ids. */
  ids: Int32Array;
  /** start, end UTF-16 offsets of each token, interleaved (2 per token). */
  offsets: Int32Array;
  /** 1 for [CLS]/[SEP]. */
  special: Uint8Array;
  truncated: boolean;
  params: Record<string, unknown>;
}

/** Packs an EncodedText (+ its request's parameters) for the worker. */
export function packItem(enc: EncodedText, params: Record<string, unknown>): WorkItem {
  const n = enc.inputIds.length;
  const offsets = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    offsets[2 * i] = enc.offsets[i]![0];
    offsets[2 * i + 1] = enc.offsets[i]![1];
  }
  return { text: enc.text, ids: Int32Array.from(enc.inputIds), offsets, special: Uint8Array.from(enc.special, (b) => (b ? 1 : 0)), truncated: enc.truncated, params };
}

/** The EncodedText a WorkItem was packed from. */
export function unpackItem(w: WorkItem): EncodedText {
  const n = w.ids.length;
  const offsets: [number, number][] = new Array(n);
  for (let i = 0; i < n; i++) offsets[i] = [w.offsets[2 * i]!, w.offsets[2 * i + 1]!];
  return { text: w.text, inputIds: Array.from(w.ids), offsets, special: Array.from(w.special, (b) => b === 1), truncated: w.truncated };
}
