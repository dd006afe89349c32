/**
 * Backfill progress for people: a bar redrawn in place on a terminal, a log line every few
 * seconds when output goes to a file or CI log (where `\r` redraws would pile up), and nothing in
 * --json mode (stdout then carries only the JSON result).
 */
import type { BackfillProgressEvent } from "./backfill.ts";

/** The figures a reporter shows. */
export type ProgressFigures = Pick<BackfillProgressEvent, "done" | "total" | "rowsPerSecond"> & {
  /** Why the backfill is paused (the replica-lag throttle), shown instead of the rate and ETA. */
  waiting?: string | undefined;
};

export interface ProgressReporterOptions {
  /** Where to write, usually stderr. `isTTY` selects the bar. */
  stream: { write(s: string): unknown; isTTY?: boolean };
  /** --json: report nothing. */
  json: boolean;
  /** Shown before the figures, e.g. `backfill "users"`. */
  label: string;
  /** Injectable clock for tests; default performance.now(). */
  now?: () => number;
}

export interface ProgressReporter {
  /** Pass as `onProgress` to runBackfill. */
  onProgress(progress: ProgressFigures): void;
  /** Draws the final state (and ends the bar's line); call once, after the backfill. */
  finish(): void;
}

/** A TTY bar is redrawn at most this often. */
const TTY_INTERVAL_MS = 100;
/** Plain output logs at most this often. */
const LOG_INTERVAL_MS = 5000;
const BAR_WIDTH = 24;

/** Creates a reporter; see the module comment for what it prints where. */
export function progressReporter(options: ProgressReporterOptions): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const tty = options.stream.isTTY === true;
  let last: ProgressFigures | undefined;
  let written: typeof last;
  let lastWrite = -Infinity;

  const write = (final: boolean) => {
    if (!last) return;
    if (tty) {
      // \x1b[K clears what a longer previous line left to the right.
      options.stream.write(`\r${barLine(options.label, last)}\x1b[K${final ? "\n" : ""}`);
    } else {
      options.stream.write(`${logLine(options.label, last)}\n`);
    }
    written = last;
    lastWrite = now();
  };

  return {
    onProgress(progress) {
      if (options.json) return;
      // A pause beginning or ending is shown at once, not at the next interval.
      const changed = (progress.waiting === undefined) !== (last?.waiting === undefined);
      last = progress;
      if (changed || now() - lastWrite >= (tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) write(false);
    },
    finish() {
      if (options.json || !last) return;
      // The bar always ends its line; a log ends with the final figures unless already shown.
      if (tty || written !== last) write(true);
    },
  };
}

/** `label [#######.........]  42%  420,000/1,000,000 rows  95,000 rows/s  ETA 6s` */
function barLine(label: string, p: ProgressFigures): string {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
  return `${label} ${bar} ${figures(p)}`;
}

/** `label: 42% 420,000/1,000,000 rows  95,000 rows/s  ETA 6s` */
function logLine(label: string, p: ProgressFigures): string {
  return `${label}: ${figures(p)}`;
}

function figures(p: ProgressFigures): string {
  const parts: string[] = [];
  if (p.total > 0) {
    parts.push(`${String(Math.floor(Math.min(1, p.done / p.total) * 100)).padStart(3)}%`);
  }
  parts.push(`${count(p.done)}${p.total > 0 ? `/${count(p.total)}` : ""} rows`);
  if (p.waiting !== undefined) parts.push(`paused: ${p.waiting}`);
  else if (p.rowsPerSecond > 0) {
    parts.push(`${count(p.rowsPerSecond)} rows/s`);
    if (p.total > p.done) parts.push(`ETA ${duration((p.total - p.done) / p.rowsPerSecond)}`);
  }
  return parts.join("  ");
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** 7s, 3m05s, 2h10m */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
