/** Human-facing messages on stderr; data and tables go to stdout or files. */
import { writeStderrLine } from './live-region.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  /** True when informational messages are suppressed (--quiet). */
  readonly quiet: boolean;
}

export function stderrLogger(quiet = false): Logger {
  return {
    quiet,
    info(msg) {
      if (!quiet) writeStderrLine(msg);
    },
    warn(msg) {
      writeStderrLine(`warning: ${msg}`);
    },
  };
}

/** A logger that keeps messages in memory (tests, embedding in other tools). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    quiet: false,
    lines,
    info(msg) {
      lines.push(msg);
    },
    warn(msg) {
      lines.push(`warning: ${msg}`);
    },
  };
}
