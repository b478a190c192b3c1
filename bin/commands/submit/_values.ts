/**
 * rawArgs without the values of the flags that take one, so that `--cpu -1` or `--entrypoint -x`
 * reach validation (which names the flag) instead of being taken for unknown flags.
 */
import type { ArgsDef } from "citty";

/** The spellings (`--worker_count`, `--worker-count`, `-E`…) of the flags of `args` that take a value. */
function valueFlags(args: ArgsDef): Set<string> {
  const out = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if ((def as { type?: string }).type !== "string") continue;
    out.add(`--${name}`).add(`--${name.replace(/_/g, "-")}`);
    const alias = (def as { alias?: string | string[] }).alias;
    for (const a of alias === undefined ? [] : Array.isArray(alias) ? alias : [alias]) out.add(a.length === 1 ? `-${a}` : `--${a}`);
  }
  return out;
}

/** rawArgs with every value that follows a value-taking flag removed. */
export function withoutFlagValues(rawArgs: readonly string[], args: ArgsDef): string[] {
  const flags = valueFlags(args);
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    out.push(a);
    if (a === "--") break;
    if (flags.has(a)) i++;
  }
  return out;
}
