/**
 * What every command file shares: the entry point's error handling, Ctrl-C as an AbortSignal,
 * repeatable flags (citty keeps only the last value) and the refusal of unknown flags.
 */
import { type ArgsDef, type CommandDef, renderUsage } from "citty";
import { SeelieError, UsageError } from "../../lib/errors.ts";
import { colourEnabled, log, stripColour } from "../../lib/log.ts";

/**
 * Writes a command's usage to stdout, coloured only when colourEnabled says so: citty colours it
 * whenever NO_COLOR=1, TERM=dumb, CI and TEST are all unset, even into a file or a pipe.
 */
export async function showUsage<T extends ArgsDef = ArgsDef>(cmd: CommandDef<T>, parent?: CommandDef<T>): Promise<void> {
  const text = await renderUsage(cmd, parent);
  process.stdout.write(`${colourEnabled(process.stdout.isTTY, process.env) ? text : stripColour(text)}\n\n`);
}

/** The common `-o/--output` flag. */
export const outputArg = {
  output: { type: "string", alias: "o", description: "output format: text or json", default: "text" },
} as const satisfies ArgsDef;

/** Checks an `-o` value against the formats a command supports. */
export function outputFormat<T extends string>(value: unknown, allowed: readonly T[]): T {
  const v = String(value ?? allowed[0]);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`unknown output format "${v}"`, `use -o ${allowed.join("|")}`);
  }
  return v as T;
}

/** All values of a repeatable flag (`--build-arg A=1 --build-arg B=2`, `-E K=V`), in order. */
export function repeated(rawArgs: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i] ?? "";
    if (a === "--") break;
    for (const n of names) {
      if (a === n) {
        const v = rawArgs[i + 1];
        if (v === undefined) throw new UsageError(`${n} needs a value`, `write ${n} VALUE`);
        out.push(v);
        i++;
      } else if (a.startsWith(`${n}=`)) {
        out.push(a.slice(n.length + 1));
      }
    }
  }
  return out;
}

function spellings(name: string): string[] {
  const kebab = name
    .replace(/_/g, "-")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase();
  return [...new Set([name, kebab, kebab.replace(/-/g, "_")])];
}

/**
 * Throws a UsageError naming the first flag that the command does not define. The value after a
 * value-taking flag is skipped, so `--cpu -1` reaches validation (which names --cpu) instead of
 * being taken for an unknown flag `-1`.
 */
export function rejectUnknownFlags(rawArgs: readonly string[], args: ArgsDef): void {
  const known = new Set<string>(["help", "h", "version"]);
  const takesValue = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    const alias = (def as { alias?: string | string[] }).alias;
    const names = [...spellings(name), ...(alias === undefined ? [] : Array.isArray(alias) ? alias : [alias])];
    const valued = ["string", "enum"].includes((def as { type?: string }).type ?? "");
    for (const n of names) {
      known.add(n);
      if (valued) takesValue.add(n);
    }
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i] ?? "";
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") continue;
    let name = a.replace(/^--?/, "").split("=")[0] ?? "";
    if (a.startsWith("--no-") && known.has(name.slice(3))) continue;
    if (!a.startsWith("--") && name.length > 1) name = name[0] ?? "";
    if (!known.has(name)) {
      throw new UsageError(`unknown flag ${a.split("=")[0]}`, "run the command with --help to see its flags");
    }
    if (takesValue.has(name) && !a.includes("=")) i++;
  }
}

/** An AbortSignal that fires on the first Ctrl-C (SIGINT) or SIGTERM; a second one exits at once. */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count > 1) process.exit(130);
    log.warn(`${sig}: stopping and cleaning up (press Ctrl-C again to quit at once)`);
    ac.abort(new Error(sig));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return ac.signal;
}

/** Prints an error as the entry point does and returns its exit code. */
export function reportError(err: unknown): number {
  if (err instanceof SeelieError) {
    log.error(err.message);
    if (err.hint) log.info(`hint: ${err.hint}`);
    if (process.env.SEELIE_DEBUG && err.cause) log.error(err.cause);
    return err.exitCode;
  }
  if (err instanceof Error && err.name === "CLIError") {
    // citty's own errors: an unknown or missing sub-command.
    log.error(err.message);
    log.info("hint: run with --help to see the commands");
    return 2;
  }
  log.error(err instanceof Error ? (process.env.SEELIE_DEBUG ? err : err.message) : String(err));
  if (!process.env.SEELIE_DEBUG) log.info("hint: run again with SEELIE_DEBUG=1 for details");
  return 1;
}

/** Writes one data document to stdout (JSON for -o json, else the text as is). */
export function printData(data: unknown, format: string): void {
  if (format === "json") process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else process.stdout.write(typeof data === "string" ? (data.endsWith("\n") ? data : `${data}\n`) : `${JSON.stringify(data)}\n`);
}
