import type { ConsolaInstance } from "consola";

function createLog(): ConsolaInstance {
  // Loaded on first use: consola costs ~20 ms of start-up, and fast commands (job get -o cmd) never log.
  const { createConsola } = require("consola") as typeof import("consola");
  return createConsola({
    level: Number.parseInt(process.env.SEELIE_LOG_LEVEL ?? "3", 10),
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY === true },
  });
}

let instance: ConsolaInstance | undefined;

/**
 * The logger of seelie: everything goes to stderr so stdout carries only data (`-o json`, `cmd`).
 * Level from SEELIE_LOG_LEVEL (0 silent … 3 info … 5 trace), default info. Created on first use.
 */
export const log: ConsolaInstance = new Proxy({} as ConsolaInstance, {
  get(_target, prop) {
    instance ??= createLog();
    const v = Reflect.get(instance, prop, instance) as unknown;
    return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(instance) : v;
  },
  set(_target, prop, value) {
    instance ??= createLog();
    return Reflect.set(instance, prop, value, instance);
  },
});

/** A sink for raw progress lines (build output, push progress); stderr by default. */
export type ProgressSink = (line: string) => void;

/** Writes progress lines to stderr as they arrive. */
export const stderrProgress: ProgressSink = (line) => {
  process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
};
