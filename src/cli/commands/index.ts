/**
 * The CLI's commands, one file each in this folder; `tensorgrad <name>` runs the one whose
 * spec has that name, in the order listed here (the order of `tensorgrad --help`). A new command
 * is a new file exporting a `Command` (util.ts `defineCommand`) and one line below; option blocks
 * shared between commands live in ../options.ts.
 */
import type { Command } from '../util.js';
import { trainNerCommand } from './train-ner.js';
import { evaluateCommand } from './evaluate.js';
import { infoCommand } from './info.js';
import { trainClassifierCommand } from './train-classifier.js';
import { pretrainMlmCommand } from './pretrain-mlm.js';
import { trainGptCommand } from './train-gpt.js';
import { generateCommand } from './generate.js';
import { predictCommand } from './predict.js';
import { serveCommand } from './serve.js';
import { quantizeCommand } from './quantize.js';
import { pruneCommand } from './prune.js';
import { distillCommand } from './distill.js';

export type { Command } from '../util.js';

export const COMMANDS: Command[] = [
  trainNerCommand, evaluateCommand, infoCommand, trainClassifierCommand, pretrainMlmCommand, trainGptCommand, generateCommand, predictCommand, serveCommand, distillCommand, quantizeCommand, pruneCommand,
];
