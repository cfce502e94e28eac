// The live progress line on stderr: rewritten in place on a terminal, plain lines otherwise.

export class Progress {
  private last = '';
  private lastPrint = 0;
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  /** Replace the status line (on a terminal; elsewhere at most one line per 5 s). */
  update(text: string): void {
    if (this.quiet) return;
    if (this.tty) {
      const width = (this.out.columns || 100) - 1;
      this.out.write(`\r\x1b[K${text.slice(0, width)}`);
      this.last = text;
    } else if (Date.now() - this.lastPrint > 5000) {
      this.out.write(`tsgi bench: ${text}\n`);
      this.lastPrint = Date.now();
    }
  }

  /** A permanent line above the status line. */
  log(text: string): void {
    if (this.quiet) return;
    if (this.tty)
      this.out.write(`\r\x1b[K${text}\n${this.last ? this.last.slice(0, (this.out.columns || 100) - 1) : ''}`);
    else this.out.write(`tsgi bench: ${text}\n`);
  }

  done(): void {
    if (this.tty && this.last) this.out.write('\r\x1b[K');
    this.last = '';
  }
}
