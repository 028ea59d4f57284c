/** The labelled-text types and the error of the text-classification data readers (formats/, datasets/). */

/** One labelled text. */
export interface TextExample<L extends string = string> {
  /** The text to classify. */
  text: string;
  /** Its class label (e.g. 'spam' or 'ham'). */
  label: L;
}

/** Labels of the SpamAssassin corpus. */
export type SpamLabel = 'ham' | 'spam';

/** Error thrown by the loaders in this module; `path` and `line` say where, when known. */
export class TextDatasetError extends Error {
  /** The file being read when the error happened, if known. */
  readonly path: string | undefined;
  /** The 1-based line number in that file, if known. */
  readonly line: number | undefined;

  constructor(message: string, where: { path?: string; line?: number; cause?: unknown } = {}) {
    const line = where.line !== undefined ? `line ${where.line}` : undefined;
    const prefix =
      where.path !== undefined ? `${where.path}${line !== undefined ? `:${where.line}` : ''}: ` : line !== undefined ? `${line}: ` : '';
    super(`${prefix}${message}`, where.cause !== undefined ? { cause: where.cause } : undefined);
    this.name = 'TextDatasetError';
    this.path = where.path;
    this.line = where.line;
  }
}
