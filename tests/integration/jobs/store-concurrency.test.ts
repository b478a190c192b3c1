/**
 * Several shells submitting at once, starting from no store at all: distinct ids, none lost.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { JobStore } from "../../../lib/jobs/store.ts";
import { cli, tempHome } from "../../helpers/jobs.ts";

const h = tempHome();
afterAll(() => rmSync(h.home, { recursive: true, force: true }));

test("8 concurrent shells × 5 submits each: 40 distinct ids, every job stored", async () => {
  const SHELLS = 8;
  const EACH = 5;
  const ids: number[] = [];
  await Promise.all(
    Array.from({ length: SHELLS }, async (_, s) => {
      for (let k = 0; k < EACH; k++) {
        const r = await cli(
          ["submit", "tfjob", "--name", `shell ${s} job ${k}`, "--image", "busybox", "-E", `S=${s}`, "--record-only", "-o", "json"],
          h.env,
        );
        if (r.code !== 0) throw new Error(`shell ${s} job ${k}: ${r.stderr}`);
        ids.push(JSON.parse(r.stdout).job_id);
      }
    }),
  );
  expect(new Set(ids).size).toBe(SHELLS * EACH);
  const store = JobStore.open(h.store);
  const all = store.list({ limit: 1000 });
  store.close();
  expect(all).toHaveLength(SHELLS * EACH);
  expect(all.map((j) => j.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  const names = new Set(all.map((j) => j.spec.name));
  for (let s = 0; s < SHELLS; s++) for (let k = 0; k < EACH; k++) expect(names.has(`shell ${s} job ${k}`)).toBe(true);
}, 120_000);
