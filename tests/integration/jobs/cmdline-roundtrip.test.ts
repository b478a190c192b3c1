/**
 * `seelie job get -o cmd` round trip, as a property over generated jobs with hostile values: submit
 * (record-only) through the real CLI, print the command, run it with `bash -c` and `dash -c` (a
 * `seelie` wrapper on PATH appends --record-only), and the new records equal the old one field by field.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { JobStore } from "../../../lib/jobs/store.ts";
import { cli, generateJob, prng, shell, submitArgv, tempHome } from "../../helpers/jobs.ts";

const CASES = Number(process.env.SEELIE_ROUNDTRIP_CASES ?? 300);
const SEED = Number(process.env.SEELIE_ROUNDTRIP_SEED ?? 20261126);
const PARALLEL = 4;
const h = tempHome();
afterAll(() => rmSync(h.home, { recursive: true, force: true }));

function record(id: number) {
  const store = JobStore.open(h.store);
  try {
    const j = store.get(id);
    if (!j) throw new Error(`job ${id} is not in the store`);
    return j;
  } finally {
    store.close();
  }
}

async function oneCase(i: number): Promise<void> {
  const rnd = prng(SEED + i);
  const gen = generateJob(rnd);
  const sub = await cli([...submitArgv(gen), "--record-only", "-o", "json"], h.env);
  if (sub.code !== 0) throw new Error(`case ${i} (seed ${SEED + i}): submit failed: ${sub.stderr}`);
  const id = JSON.parse(sub.stdout).job_id as number;
  const orig = record(id);
  const got = await cli(["job", "get", "--job_id", String(id), "-o", "cmd", "--show-secrets"], h.env);
  if (got.code !== 0) throw new Error(`case ${i}: job get -o cmd failed: ${got.stderr}`);
  const cmd = got.stdout.replace(/\n$/, "");
  for (const sh of ["bash", "dash"]) {
    const ran = await shell(sh, `${cmd} -o json`, h.env);
    if (ran.code !== 0) throw new Error(`case ${i} (seed ${SEED + i}), ${sh}: the printed command failed:\n${cmd}\n${ran.stderr}`);
    const copy = record(JSON.parse(ran.stdout).job_id as number);
    try {
      expect(copy.spec).toEqual(orig.spec);
      for (const k of Object.keys(orig.spec) as (keyof typeof orig.spec)[]) expect(copy.spec[k]).toEqual(orig.spec[k]);
      expect(copy.status).toBe("Recorded");
    } catch (err) {
      throw new Error(`case ${i} (seed ${SEED + i}), ${sh}: records differ for\n${cmd}\n${err}`);
    }
  }
  // The store kept what was given, exactly.
  expect(orig.spec.name).toBe(gen.name);
  expect(orig.spec.description).toBe(gen.description);
  expect(orig.spec.entrypoint).toBe(gen.entrypoint);
  expect(orig.spec.env.map((e) => `${e.name}=${e.value}`)).toEqual(gen.env);
}

test(`job get -o cmd reproduces ${CASES} generated hostile jobs through bash and dash`, async () => {
  let next = 0;
  const worker = async () => {
    while (next < CASES) await oneCase(next++);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const store = JobStore.open(h.store);
  expect(store.count()).toBe(CASES * 3);
  store.close();
}, 900_000);

test("secret-looking -E values print as ${KEY} references with a warning, and resolve from the shell", async () => {
  const sub = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      "s",
      "--image",
      "busybox",
      "-E",
      "API_TOKEN=t0k'$en",
      "-E",
      "lr=0.1",
      "-E",
      "dbPassword=p w",
      "--record-only",
    ],
    h.env,
  );
  expect(sub.code).toBe(0);
  const id = Number(sub.stdout.trim());
  const got = await cli(["job", "get", "--job_id", String(id), "-o", "cmd"], h.env);
  expect(got.stdout).toContain(`-E API_TOKEN="\${API_TOKEN}" -E lr=0.1 -E dbPassword="\${dbPassword}"`);
  expect(got.stdout).not.toContain("t0k");
  expect(got.stderr).toContain("API_TOKEN, dbPassword");
  expect(got.stderr).toContain("--show-secrets");
  const json = await cli(["job", "get", "--job_id", String(id), "-o", "json"], h.env);
  expect(json.stdout).not.toContain("t0k");
  const ran = await shell("dash", `${got.stdout.trim()} -o json`, { ...h.env, API_TOKEN: "t0k'$en", dbPassword: "p w" });
  expect(ran.code).toBe(0);
  expect(record(JSON.parse(ran.stdout).job_id).spec).toEqual(record(id).spec);
}, 60_000);
