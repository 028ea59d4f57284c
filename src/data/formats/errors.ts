/** The labelled-text types and the error of the text-classification data readers (formats/, datasets/). */

/** One labelled text. */
export interface TextExample<L extends string = string> {
  text: string;
  label: L;
}

/** Labels of the SpamAssassin corpus. */
export type SpamLabel = 'ham' | 'spam';

/** Error thrown by the loaders in this module; `path` and `line` say where, when known. */
export class TextDatasetError extends Error {
  readonly path: string | undefined;
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
