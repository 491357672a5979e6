/**
 * A small terminal emulator for the terminal-view tests: enough of a VT100
 * (printable text, CR, LF, cursor up/down/column, erase in line and display)
 * to replay what a program wrote and read the screen a user would see.
 * It counts automatic wraps: a character written past the last column.
 */
export class Screen {
  readonly rows: string[][] = [[]];
  row = 0;
  col = 0;
  /** Characters that did not fit on their line (the terminal wrapped them). */
  wraps = 0;
  /** Escape sequences this emulator does not know (a test should see none). */
  readonly unknown: string[] = [];

  constructor(readonly width: number) {}

  private line(r: number): string[] {
    while (this.rows.length <= r) this.rows.push([]);
    return this.rows[r]!;
  }

  write(data: string): void {
    const cs = [...data];
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c === '\x1b' && cs[i + 1] === '[') {
        let j = i + 2;
        let params = '';
        while (j < cs.length && /[0-9;?]/.test(cs[j]!)) params += cs[j++];
        this.csi(params, cs[j] ?? '');
        i = j;
      } else if (c === '\r') this.col = 0;
      else if (c === '\n') {
        // A tty's default output processing (onlcr) turns LF into CR LF.
        this.row++;
        this.col = 0;
      } else if (c === '\b') this.col = Math.max(0, this.col - 1);
      else if (c === '\x07') continue;
      else {
        if (this.col >= this.width) {
          this.wraps++;
          this.row++;
          this.col = 0;
        }
        const l = this.line(this.row);
        while (l.length < this.col) l.push(' ');
        l[this.col++] = c;
      }
    }
    this.line(this.row);
  }

  private csi(params: string, cmd: string): void {
    const n = params === '' ? 1 : Number(params);
    switch (cmd) {
      case 'A':
        this.row = Math.max(0, this.row - n);
        break;
      case 'B':
        this.row += n;
        break;
      case 'G':
        this.col = n - 1;
        break;
      case 'K': {
        const l = this.line(this.row);
        if (params === '' || params === '0') l.length = Math.min(l.length, this.col);
        else if (params === '2') l.length = 0;
        else this.unknown.push(`${params}${cmd}`);
        break;
      }
      case 'J':
        if (params === '' || params === '0') {
          const l = this.line(this.row);
          l.length = Math.min(l.length, this.col);
          this.rows.length = this.row + 1;
        } else this.unknown.push(`${params}${cmd}`);
        break;
      case 'h':
      case 'l':
        break; // modes (cursor visibility)
      default:
        this.unknown.push(`${params}${cmd}`);
    }
  }

  /** The screen as text lines, trailing spaces and empty last lines removed. */
  lines(): string[] {
    const out = this.rows.map((r) => r.join('').trimEnd());
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out;
  }
}
