/** Helpers shared by the CLI's commands: option parsing with --help, backend choice, path checks. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseArgs, UsageError, type CommandSpec, type ParsedOptions } from './args.js';
import { listBackends, setDefaultDevice } from '../backends/index.js';
import { BertTokenizer } from '../data/tokenizer/index.js';
import { NER_SAMPLE_DIR } from '../data/datasets/ner-sample.js';
import { verifyOutputFolder } from '../train/output.js';
import { pretrainedPath } from '../tasks/pretrained.js';

/** The repo's (or installed package's) root, two levels above this file in src/cli or dist/cli. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The shipped CoNLL sample that train-ner and evaluate use without --data. */
export const DEFAULT_NER_DATA = NER_SAMPLE_DIR;

export interface Command {
  spec: CommandSpec;
  run(argv: string[], prog: string): Promise<number>;
}

/** A command that parses its options (printing --help) and runs `run` with them. */
export function defineCommand(spec: CommandSpec, run: (o: ParsedOptions, argv: string[]) => Promise<number>): Command {
  return {
    spec,
    async run(argv, prog) {
      const o = parseOrHelp(spec, argv, prog);
      return o ? run(o, argv) : 0;
    },
  };
}

export function parseOrHelp(spec: CommandSpec, argv: string[], prog: string): ParsedOptions | null {
  const o = parseArgs(spec, argv);
  if (o.help) {
    console.log(helpText(prog, spec));
    return null;
  }
  return o;
}

/** Makes --backend the default device (a UsageError for an unknown one). */
export function useBackend(name: unknown): void {
  if (name === undefined) return;
  if (!listBackends().includes(String(name))) throw new UsageError(`--backend: unknown backend '${name}' (available: ${listBackends().join(', ')})`);
  setDefaultDevice(String(name));
}

export function requireDir(flag: string, dir: string): string {
  const p = resolve(dir);
  if (!existsSync(p)) throw new UsageError(`${flag}: ${p} does not exist`);
  return p;
}

export function requireFile(flag: string, path: string): string {
  const p = resolve(path);
  if (!existsSync(p)) throw new UsageError(`${flag}: ${p} does not exist`);
  if (!statSync(p).isFile()) throw new UsageError(`${flag}: ${p} is not a file`);
  return p;
}

/** --init of the fine-tuning commands: 'pretrained' → the shipped checkpoint, 'random' → none (undefined), else a model folder. */
export function initFolder(v: unknown): string | undefined {
  if (v === undefined || v === 'random') return undefined;
  if (v === 'pretrained') {
    try {
      return pretrainedPath();
    } catch (e) {
      throw new UsageError(`--init: ${(e as Error).message}`);
    }
  }
  return requireModelFolder('--init', String(v), 'pretrain-mlm');
}

export function requireModelFolder(flag: string, dir: string, writtenBy: string): string {
  const p = resolve(dir);
  if (!existsSync(p)) throw new UsageError(`${flag}: ${p} does not exist (train one first with ${writtenBy})`);
  for (const f of ['config.json', 'model.safetensors']) {
    if (!existsSync(join(p, f))) throw new UsageError(`${flag}: ${join(p, f)} is missing (expected a folder written by ${writtenBy})`);
  }
  try {
    verifyOutputFolder(p); // parts of two writes (a killed run, two runs on one folder) are refused
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
  return p;
}

export function printOutputs(dir: string, files: string[]): void {
  console.log(`\nOutputs in ${dir}:\n${files.map((f) => `  ${f}`).join('\n')}`);
}

/** --vocab (a WordPiece vocab.txt, --cased keeps case) or the shipped bert-base-uncased. */
export function tokenizerFrom(o: ParsedOptions): BertTokenizer {
  if (o.vocab) return BertTokenizer.fromVocabFile(requireFile('--vocab', String(o.vocab)), { doLowerCase: !o.cased });
  return BertTokenizer.bertBaseUncased();
}
