#!/usr/bin/env bun
/**
 * Compiles a single executable: `bun scripts/build.ts committer|cli [--target bun-linux-arm64]`.
 * As `bun build --compile --minify`, with one difference: docker-modem's `ssh2` (and its native
 * crypto addons) is replaced by a stub. seelie reaches Docker over unix sockets, TCP and SOCKS5,
 * never SSH, and loading ssh2 cost the committer ~23 MB of its 150 MB memory goal.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const ENTRIES = {
  committer: { entry: "bin/seelie-committer.ts", outfile: "dist/seelie-committer" },
  cli: { entry: "bin/seelie.ts", outfile: "dist/seelie" },
} as const;

const { values, positionals } = parseArgs({ args: Bun.argv.slice(2), options: { target: { type: "string" } }, allowPositionals: true });
const which = positionals[0] as keyof typeof ENTRIES | undefined;
if (!which || !(which in ENTRIES)) {
  console.error(`usage: bun scripts/build.ts ${Object.keys(ENTRIES).join("|")} [--target bun-linux-arm64]`);
  process.exit(2);
}
const { entry, outfile } = ENTRIES[which];
const root = resolve(import.meta.dir, "..");
const result = await Bun.build({
  entrypoints: [`${root}/${entry}`],
  compile: { outfile: `${root}/${outfile}`, ...(values.target ? { target: values.target as Bun.Build.CompileTarget } : {}) },
  minify: true,
  plugins: [
    {
      name: "no-ssh2",
      setup(build) {
        build.onResolve({ filter: /^ssh2$/ }, () => ({ path: `${root}/lib/engine/no-ssh2.ts` }));
      },
    },
  ],
});
if (!result.success) {
  for (const m of result.logs) console.error(m);
  process.exit(1);
}
console.error(`built ${outfile}`);
