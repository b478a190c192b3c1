import { createConsola, type ConsolaInstance } from "consola";

/**
 * The logger of seelie: everything goes to stderr so stdout carries only data (`-o json`, `cmd`).
 * Level from SEELIE_LOG_LEVEL (0 silent … 3 info … 5 trace), default info.
 */
export const log: ConsolaInstance = createConsola({
  level: Number.parseInt(process.env.SEELIE_LOG_LEVEL ?? "3", 10),
  stdout: process.stderr,
  stderr: process.stderr,
  formatOptions: { date: false, colors: process.stderr.isTTY === true },
});

/** A sink for raw progress lines (build output, push progress); stderr by default. */
export type ProgressSink = (line: string) => void;

/** Writes progress lines to stderr as they arrive. */
export const stderrProgress: ProgressSink = (line) => {
  process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
};
