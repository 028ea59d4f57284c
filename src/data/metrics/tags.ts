/**
 * Parsing of IOB/IOBES tags (`O`, `B-TYPE`, `I-TYPE`, `E-TYPE`, `S-TYPE`) and the chunk
 * boundaries of the CoNLL `conlleval` chunker, for the entity-level metrics (seqeval.ts).
 */
import { describeArg as describe } from '../describe.js';
import { MetricsError } from './report.js';

export interface ParsedTag {
  /** 'O', 'B', 'I', 'E' or 'S'. */
  prefix: string;
  /** Entity type; '_' for 'O' as in seqeval (never equal to a real type's handling). */
  type: string;
}

export const TAG_PATTERN = /^([BIES])-(.+)$/s;

/**
 * `'O'` or `P-TYPE` with P one of the prefixes in `allowed` (e.g. `'BI'` for IOB, `'BIES'`
 * for IOBES), parsed; null for anything else. The one tag grammar of the metrics and the
 * CoNLL reader (each throws its own error for a null).
 */
export function matchTag(tag: unknown, allowed: string): ParsedTag | null {
  if (tag === 'O') return { prefix: 'O', type: '_' };
  const m = typeof tag === 'string' ? TAG_PATTERN.exec(tag) : null;
  return m === null || !allowed.includes(m[1]!) ? null : { prefix: m[1]!, type: m[2]! };
}

export function parseTag(tag: unknown, where: string, allowed: string): ParsedTag {
  const parsed = matchTag(tag, allowed);
  if (parsed === null) {
    const forms = [...allowed].map((p) => `'${p}-TYPE'`).join(', ');
    throw new MetricsError(`${where}: expected 'O' or ${forms}, got ${describe(tag)}`);
  }
  return parsed;
}

/** seqeval `end_of_chunk`: did a chunk end between the previous and the current tag? */
export function endOfChunk(prev: ParsedTag, cur: ParsedTag): boolean {
  const p = prev.prefix;
  const t = cur.prefix;
  if (p === 'E' || p === 'S') return true;
  if ((p === 'B' || p === 'I') && (t === 'B' || t === 'S' || t === 'O')) return true;
  return p !== 'O' && prev.type !== cur.type;
}

/** seqeval `start_of_chunk`: does a chunk start at the current tag? */
export function startOfChunk(prev: ParsedTag, cur: ParsedTag): boolean {
  const p = prev.prefix;
  const t = cur.prefix;
  if (t === 'B' || t === 'S') return true;
  if ((p === 'E' || p === 'S' || p === 'O') && (t === 'E' || t === 'I')) return true;
  return t !== 'O' && prev.type !== cur.type;
}
