import { expect, test } from "bun:test";
import { join } from "node:path";

// Bun strips types without checking them; this makes a type error fail the test run.
test("tsc --noEmit passes", async () => {
  const root = join(import.meta.dir, "../..");
  const p = Bun.spawn([join(root, "node_modules/.bin/tsc"), "--noEmit", "-p", root], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(out).toBe("");
  expect(code).toBe(0);
}, 120_000);
