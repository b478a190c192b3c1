/**
 * The `seelie submit tfjob …` command line that reproduces a job (`seelie job get -o cmd`): a pure
 * function. Flags come in the SPEC example's order; each value is quoted for a POSIX shell only when
 * it needs it; secret-looking `-E` values become `"${KEY}"` references unless asked to show them.
 */
import type { JobSpec } from "./types.ts";
import { isSecretKey } from "./types.ts";

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell (bash, dash, zsh): bare when safe, else single quotes with `'\''`. */
export function shellQuote(word: string): string {
  if (word !== "" && SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Formats a validated number without exponent notation (validation keeps at most 6 decimals). */
export function formatNumber(n: number): string {
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(6).replace(/\.?0+$/, "") : s;
}

/** `--flag value`, or `--flag=value` when the value starts with `-` (so no parser takes it for a flag). */
function flag(name: string, value: string): string {
  return value.startsWith("-") ? shellQuote(`--${name}=${value}`) : `--${name} ${shellQuote(value)}`;
}

/** The command line and the names of `-E` keys whose values were replaced by `"${KEY}"` references. */
export interface SubmitCommand {
  command: string;
  hiddenKeys: string[];
}

/** Builds the `seelie submit tfjob` command that resubmits an identical job. */
export function submitCommand(spec: JobSpec, opts: { showSecrets?: boolean; program?: string } = {}): SubmitCommand {
  const hiddenKeys: string[] = [];
  const parts = [
    opts.program ?? "seelie",
    "submit",
    "tfjob",
    flag("name", spec.name),
    flag("description", spec.description),
    flag("cluster", spec.cluster),
    flag("namespace", spec.namespace),
    flag("cpu", formatNumber(spec.cpu)),
    flag("memory", formatNumber(spec.memory)),
    flag("gpu", formatNumber(spec.gpu)),
    flag("worker-count", formatNumber(spec.workerCount)),
    flag("image", spec.image),
    flag("entrypoint-type", spec.entrypointType),
    flag("entrypoint", spec.entrypoint),
  ];
  for (const e of spec.env) {
    if (!opts.showSecrets && isSecretKey(e.name)) {
      if (!hiddenKeys.includes(e.name)) hiddenKeys.push(e.name);
      parts.push("-E", `${e.name}="\${${e.name}}"`);
    } else {
      parts.push("-E", shellQuote(`${e.name}=${e.value}`));
    }
  }
  return { command: parts.join(" "), hiddenKeys };
}
