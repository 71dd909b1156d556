// A progress bar on stderr. On a terminal it redraws one line; elsewhere (CI, logs) it prints a
// line every 10% so logs stay short.
export class Progress {
  private lastPct = -1;
  private readonly t0 = performance.now();
  private readonly tty: boolean;

  constructor(private readonly label: string, private total: number, private readonly stream: NodeJS.WriteStream = process.stderr, private readonly quiet = false) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, total = this.total, note = ''): void {
    if (this.quiet) return;
    this.total = Math.max(total, done, 1);
    const pct = Math.floor((100 * done) / this.total);
    const secs = (performance.now() - this.t0) / 1000;
    const rate = done / Math.max(secs, 1e-3);
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    if (this.tty) {
      const width = 28;
      const fill = Math.round((width * done) / this.total);
      const bar = `${'█'.repeat(fill)}${'░'.repeat(width - fill)}`;
      this.stream.write(`\r${this.label} ${bar} ${pct}% ${done}/${this.total} ${rate.toFixed(1)}/s eta ${eta.toFixed(0)}s ${note}\x1b[K`);
    } else if (pct >= this.lastPct + 10 || done === this.total) {
      this.lastPct = pct - (pct % 10);
      this.stream.write(`${this.label} ${pct}% ${done}/${this.total} ${rate.toFixed(1)}/s ${note}\n`);
    }
  }

  done(): void {
    if (this.tty && !this.quiet) this.stream.write('\n');
  }
}
