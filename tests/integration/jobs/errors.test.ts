/**
 * Bad input and broken stores: a clear error naming the culprit, a non-zero exit, and the store
 * unharmed (its bytes and rows compared before and after).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeKube } from "../../helpers/fake-kube.ts";
import { cli, kubeconfigFor, serveTfJobDiscovery, tempHome } from "../../helpers/jobs.ts";

const h = tempHome();
const withCrd = startFakeKube();
serveTfJobDiscovery(withCrd);
const bare = startFakeKube(); // discovery of kubeflow.org/v1 answers 404: no training operator
const env = {
  ...h.env,
  KUBECONFIG: kubeconfigFor(
    [
      { fk: withCrd, contexts: ["dev"] },
      { fk: bare, contexts: ["bare"] },
    ],
    h.home,
  ),
  DOCKER_HOST: "unix:///var/run/docker.sock",
};

beforeAll(async () => {
  for (const name of ["one", "two"]) {
    const r = await cli(["submit", "tfjob", "--name", name, "--image", "busybox", "-E", "A=1", "--record-only"], env);
    expect(r.code).toBe(0);
  }
});
afterAll(() => {
  withCrd.stop();
  bare.stop();
  rmSync(h.home, { recursive: true, force: true });
});

function snapshot(path: string) {
  const bytes = readFileSync(path);
  const db = new Database(path, { readonly: true });
  const rows = db.query("SELECT * FROM jobs ORDER BY id").all();
  db.close();
  return { bytes, rows };
}

const submit = (...args: string[]) => ["submit", "tfjob", "--name", "x", "--image", "busybox", ...args];

test.each([
  [["job", "get", "--job_id", "999"], 2, "no job 999 in the job store"],
  [["job", "get", "--job_id", "abc"], 2, '--job_id "abc" is not a job id'],
  [["job", "get", "--job-id", "-3"], 2, "is not a job id"],
  [["job", "get"], 2, "--job_id is missing"],
  [["job", "get", "--job_id", "1", "-o", "xml"], 2, 'unknown output format "xml"'],
  [["job", "list", "--status", "Sleeping"], 2, '--status "Sleeping" is not a job status'],
  [["job", "list", "--limit", "0"], 2, "--limit"],
  [submit("--cpu", "-1"), 2, '--cpu "-1" is not a number (it is negative)'],
  [submit("--cpu", "0"), 2, "--cpu must be greater than zero"],
  [submit("--memory", "0"), 2, "--memory must be greater than zero"],
  [submit("--memory", "-8"), 2, "--memory"],
  [submit("--worker-count", "0"), 2, "--worker-count must be greater than zero"],
  [submit("--gpu", "-1"), 2, "--gpu"],
  [submit("-E", "novalue"), 2, '-E "novalue" is not KEY=VALUE'],
  [submit("-E", "A=1", "-E", "=x"), 2, "is not a valid environment variable name"],
  [submit("--bogus", "1"), 2, "unknown flag --bogus"],
  [["submit", "tfjob", "--name", "x"], 2, "--image is missing"],
  [submit("--cluster", "nope"), 2, '--cluster "nope": no such context in the kubeconfig'],
  [submit("--cluster", "bare"), 1, "the Kubeflow training operator is not installed"],
])(
  "%j fails clearly and leaves the store as it was",
  async (args, code, msg) => {
    const before = snapshot(h.store);
    const r = await cli(args, env);
    expect(r.stderr).toContain(msg);
    expect(r.stderr).toContain("hint:");
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    const after = snapshot(h.store);
    expect(after.rows).toEqual(before.rows);
    expect(after.bytes.equals(before.bytes)).toBe(true);
  },
  60_000,
);

test("the unknown-context error lists the contexts, the no-CRD error says how to install the operator", async () => {
  const unknown = await cli(submit("--cluster", "nope"), env);
  expect(unknown.stderr).toContain("dev, bare");
  const nocrd = await cli(submit("--cluster", "bare"), env);
  expect(nocrd.stderr).toContain("kubeflow.org/v1 tfjobs");
  expect(nocrd.stderr).toMatch(/hint: install the Kubeflow training operator/);
}, 60_000);

test.each([
  ["random bytes", Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251))],
  ["text", Buffer.from("jobs:\n  - id: 1\n")],
  ["a truncated database", undefined],
])(
  "a corrupt store (%s) is refused by submit, get and list, naming the file, byte for byte unharmed",
  async (_what, content) => {
    const path = join(h.home, `corrupt-${_what.replace(/\W/g, "")}.db`);
    if (content) writeFileSync(path, content);
    else {
      const good = readFileSync(h.store);
      writeFileSync(path, Buffer.concat([good.subarray(0, 100), Buffer.alloc(4096, 0xee)]));
    }
    const before = readFileSync(path);
    const e = { ...env, SEELIE_JOB_STORE: path };
    for (const args of [submit("--record-only"), ["job", "get", "--job_id", "1", "-o", "cmd"], ["job", "list"]]) {
      const r = await cli(args, e);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(path);
      expect(r.stderr).toMatch(/damaged or not a SQLite database|cannot use the job store/);
      expect(r.stdout).toBe("");
      expect(readFileSync(path).equals(before)).toBe(true);
    }
  },
  60_000,
);

test("--cluster local with no Docker engine fails clearly; job get falls back to the last known status", async () => {
  const before = snapshot(h.store);
  const noDocker = { ...env, DOCKER_HOST: `unix://${join(h.home, "no-docker.sock")}` };
  const r = await cli(submit("--cluster", "local"), noDocker);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("local Docker at unix://");
  expect(r.stderr).toContain("is not answering");
  expect(r.stderr).toContain("hint: start the Docker daemon");
  expect(snapshot(h.store).rows).toEqual(before.rows);

  // A local job whose engine has gone away: the record is shown with a warning, exit 0.
  const db = new Database(h.store);
  db.run(`UPDATE jobs SET status = 'Running', backend = '{"kind":"local","network":"n","containers":["c0"]}' WHERE id = 2`);
  db.close();
  const got = await cli(["job", "get", "--job_id", "2"], noDocker);
  expect(got.code).toBe(0);
  expect(got.stdout).toContain("Status      Running");
  expect(got.stderr).toContain("could not ask the backend for the live status");
}, 60_000);

test("an unreadable store (a directory in its place) is refused naming it", async () => {
  const path = join(h.home, "dir.db");
  mkdirSync(path);
  const r = await cli(["job", "list"], { ...env, SEELIE_JOB_STORE: path });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`cannot use the job store ${path}`);
});
