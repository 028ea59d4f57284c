/**
 * A terminal progress bar for training loops:
 *
 *   epoch 2/10 [██████░░░░░░░░░░░░░░]  12/40  loss 0.5321  1,934 tok/s  ETA 0:42
 *
 * On a TTY it redraws one line; elsewhere (CI logs, pipes) it prints a line every
 * `logEvery` steps and at the end of each epoch.
 */
export interface ProgressOptions {
  totalSteps: number;
  epochs: number;
  stream?: NodeJS.WriteStream;
  width?: number;
  logEvery?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly width: number;
  private readonly logEvery: number;
  private readonly start = performance.now();
  private tokens = 0;
  private done = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.width = opts.width ?? 20;
    this.logEvery = opts.logEvery ?? 10;
  }

  /** Records one finished step and redraws. */
  update(s: { epoch: number; stepInEpoch: number; stepsInEpoch: number; loss: number; tokens: number }): void {
    this.done++;
    this.tokens += s.tokens;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = this.tokens / Math.max(elapsed, 1e-9);
    const eta = (elapsed / this.done) * (this.opts.totalSteps - this.done);
    const frac = s.stepInEpoch / s.stepsInEpoch;
    const filled = Math.round(frac * this.width);
    const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
    const line =
      `epoch ${s.epoch}/${this.opts.epochs} [${bar}] ${String(s.stepInEpoch).padStart(String(s.stepsInEpoch).length)}/${s.stepsInEpoch}` +
      `  loss ${s.loss.toFixed(4)}  ${Math.round(rate).toLocaleString('en-US')} tok/s  ETA ${formatDuration(eta)}`;
    if (this.tty) this.stream.write(`\r${line}\x1b[K`);
    else if (s.stepInEpoch === s.stepsInEpoch || this.done % this.logEvery === 0) this.stream.write(line + '\n');
    if (this.tty && s.stepInEpoch === s.stepsInEpoch) this.stream.write('\n');
  }

  /** Prints a message on its own line (keeps the bar intact on a TTY). */
  log(msg: string): void {
    this.stream.write(msg + '\n');
  }
}
