import { formatWithOptions } from "node:util";
import { type ConsolaInstance, type ConsolaReporter, createConsola } from "consola/core";

/**
 * Whether to colour output written to a stream: `FORCE_COLOR` (set, not `0`/`false`) forces it on,
 * then a non-empty `NO_COLOR` or `TERM=dumb` turns it off, else only on a terminal.
 */
export function colourEnabled(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR) return false;
  if (env.TERM === "dumb") return false;
  return isTTY === true;
}

/** Drops ANSI colour/style escapes (SGR sequences) from a text. */
export function stripColour(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ESC that starts every SGR sequence is what it matches
  return text.replace(/\u001B\[[0-9;]*m/g, "");
}

/** One line per message on stderr: `ERROR …`, `WARN …`, `ℹ …`; colour only on a terminal (see colourEnabled). */
const stderrReporter: ConsolaReporter = {
  log(obj) {
    const tty = colourEnabled(process.stderr.isTTY, process.env);
    const paint = (code: number, s: string) => (tty ? `\u001B[${code}m${s}\u001B[0m` : s);
    const text = formatWithOptions({ colors: tty }, ...obj.args);
    const prefix =
      obj.type === "error" || obj.type === "fatal"
        ? paint(31, "ERROR ")
        : obj.type === "warn"
          ? paint(33, "WARN ")
          : obj.type === "success"
            ? paint(32, "✔ ")
            : obj.type === "debug" || obj.type === "trace"
              ? paint(90, "debug ")
              : obj.type === "log"
                ? ""
                : paint(36, "ℹ ");
    process.stderr.write(`${prefix}${text}\n`);
  },
};

/**
 * The logger of seelie: everything goes to stderr so stdout carries only data (`-o json`, `cmd`).
 * Level from SEELIE_LOG_LEVEL (0 errors only … 3 info … 5 trace), default info. consola's core build
 * with a one-line reporter: the full build's fancy reporter costs tens of milliseconds at start-up.
 */
export const log: ConsolaInstance = createConsola({
  level: Number.parseInt(process.env.SEELIE_LOG_LEVEL ?? "3", 10),
  reporters: [stderrReporter],
});

/** A sink for raw progress lines (build output, push progress); stderr by default. */
export type ProgressSink = (line: string) => void;

/** Writes progress lines to stderr as they arrive. */
export const stderrProgress: ProgressSink = (line) => {
  process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
};
