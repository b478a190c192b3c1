/** The compiled committer writes its result or error document where SEELIE_RESULT_FILE / --result-file say. */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../helpers/seelie.ts";
import { need, sh } from "../../helpers/services.ts";

setDefaultTimeout(120_000);
const COMMITTER = join(ROOT, "dist/seelie-committer");
const dir = mkdtempSync(join(tmpdir(), "seelie-result-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ["SEELIE_RESULT_FILE", (f: string) => ({ args: [] as string[], env: { SEELIE_RESULT_FILE: f } })],
  ["--result-file", (f: string) => ({ args: ["--result-file", f], env: {} })],
])("a failing committer writes its error document to the file named by %s", async (_name, how) => {
  expect(existsSync(COMMITTER)).toBe(true);
  const file = join(dir, `${_name.replace(/\W/g, "")}.json`);
  const { args, env } = how(file);
  const r = await sh(
    [COMMITTER, "--container-id", "docker://0123456789abcdef", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/x:1`, ...args],
    { env },
  );
  expect(r.code).toBe(2);
  const doc = JSON.parse(readFileSync(file, "utf8"));
  expect(doc.error.exitCode).toBe(2);
  expect(doc.error.message).toContain("0123456789abcdef");
  expect(r.stderr).toContain(doc.error.message);
});
