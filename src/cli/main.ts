#!/usr/bin/env node
/**
 * The tensorgrad command line: `npx tensorgrad <command> [options]`.
 *
 *   train-ner         fine-tune BERT for NER on CoNLL-2003 files (default: the shipped sample)
 *   train-classifier  fine-tune BERT for sentence classification (SpamAssassin, CSV, JSONL)
 *   pretrain-mlm      masked-language-model pre-training of a small BERT on plain text
 *   train-gpt         train a character-level GPT on plain text
 *   generate          sample text from a trained character-level GPT
 *   evaluate          score a saved NER model on a CoNLL split
 *   info              backend, threads, GPU status
 *
 * Every command has --help. Bad options and missing files print a message and exit 2.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from './commands/index.js';
import { UsageError } from './args.js';

const PROG = 'tensorgrad';

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  return [
    `Usage: ${PROG} <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(w)}${c.spec.summary.split('\n')[0]}`),
    '',
    `Run '${PROG} <command> --help' for a command's options.`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.spec.name === name);
  if (!cmd) {
    console.error(`${PROG}: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest, PROG);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code === 'ENOENT' || (e as Error).name?.endsWith('Error')) {
      console.error(`${PROG} ${name}: ${(e as Error).message}`);
      if (process.env.TENSORGRAD_DEBUG) console.error((e as Error).stack);
      return e instanceof UsageError ? 2 : 1;
    }
    throw e;
  }
}

/** True when this file is the program (also through npm's bin symlink), not an import. */
function isEntry(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
