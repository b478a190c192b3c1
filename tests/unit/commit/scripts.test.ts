import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { listScript, parseKept, parseListing, removeScript } from "../../../lib/commit/cleanup-plan.ts";

// The generated scripts, run by busybox's sh (as in a busybox-only image) on a scratch directory.
const dir = mkdtempSync(join(tmpdir(), "seelie-scripts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bb = (argv: string[]) =>
  execFileSync("/bin/busybox", argv, { encoding: "utf8", maxBuffer: 1 << 28, env: { PATH: "/nonexistent" } as never });
// Only busybox applets on PATH: argv is ["sh", "-c", script, "$0", args…].
const run = (argv: string[]) => bb(["sh", "-c", `export PATH=${dir}/bin\n${argv[2]}`, ...argv.slice(3)]);

mkdirSync(join(dir, "bin"));
for (const a of ["date", "cat", "find", "stat", "rm", "rmdir", "true"]) symlinkSync("/bin/busybox", join(dir, "bin", a));

test("list and remove odd names with busybox only", () => {
  const c = join(dir, "cache");
  mkdirSync(join(c, "sub dir", "deeper"), { recursive: true });
  const odd = [join(c, "a b"), join(c, "it's"), join(c, "-dash"), join(c, "sub dir", "x")];
  for (const f of odd) writeFileSync(f, "12345");
  symlinkSync("/etc/passwd", join(c, "link"));
  const listing = parseListing(run(listScript([c, join(dir, "missing")])));
  expect(listing.now).toBeGreaterThan(1_600_000_000);
  expect(listing.passwd).toContain("root:");
  const paths = listing.stats.map((s) => s.path);
  for (const f of odd) expect(paths).toContain(f);
  expect(listing.stats.find((s) => s.path === join(c, "link"))?.kind).toBe("symlink");
  expect(listing.stats.find((s) => s.path === join(c, "a b"))?.size).toBe(5);

  const kept = parseKept(run(removeScript([...odd, join(c, "link"), join(c, "sub dir", "deeper"), join(c, "sub dir")])));
  expect([...kept]).toEqual([]);
  for (const f of odd) expect(existsSync(f)).toBe(false);
  expect(existsSync("/etc/passwd")).toBe(true);
  expect(existsSync(join(c, "sub dir"))).toBe(false);
  expect(existsSync(c)).toBe(true);
});
