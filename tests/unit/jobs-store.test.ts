import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../lib/config/load.ts";
import { SeelieError } from "../../lib/errors.ts";
import { JobStore, SCHEMA_VERSION } from "../../lib/jobs/store.ts";
import { quickJobStorePath } from "../../lib/jobs/store-path.ts";
import { parseJobSpec } from "../../lib/jobs/validate.ts";

const dir = mkdtempSync(join(tmpdir(), "seelie-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const spec = parseJobSpec({ name: "n", image: "busybox", env: ["B=2", "A=1", "B=3"] });

test("insert, get, update, list newest first with filters; schema version set; WAL", () => {
  const path = join(dir, "a", "jobs.db");
  const s = JobStore.open(path, { create: true });
  const a = s.insert(spec, "Recorded");
  const b = s.insert({ ...spec, name: "Other Thing", cluster: "dev" }, "Submitted");
  expect([a.id, b.id]).toEqual([1, 2]);
  expect(s.get(1)!.spec.env).toEqual([
    { name: "B", value: "2" },
    { name: "A", value: "1" },
    { name: "B", value: "3" },
  ]);
  s.update(2, { status: "Running", message: "m", backend: { kind: "tfjob", context: "dev", namespace: "default", name: "x" } });
  expect(s.get(2)).toMatchObject({ status: "Running", message: "m", backend: { name: "x" } });
  expect(s.list().map((j) => j.id)).toEqual([2, 1]);
  expect(s.list({ status: "running" }).map((j) => j.id)).toEqual([2]);
  expect(s.list({ cluster: "local" }).map((j) => j.id)).toEqual([1]);
  expect(s.list({ name: "thing" }).map((j) => j.id)).toEqual([2]);
  expect(s.list({ limit: 1 }).map((j) => j.id)).toEqual([2]);
  expect(s.get(99)).toBeUndefined();
  s.close();
  const db = new Database(path);
  expect((db.query("PRAGMA user_version").get() as any).user_version).toBe(SCHEMA_VERSION);
  expect((db.query("PRAGMA journal_mode").get() as any).journal_mode).toBe("wal");
  db.close();
});

test("a missing store reads as empty and is not created by readers", () => {
  const path = join(dir, "none", "jobs.db");
  const s = JobStore.open(path);
  expect(s.list()).toEqual([]);
  expect(s.get(1)).toBeUndefined();
  s.close();
  expect(() => readFileSync(path)).toThrow();
});

function refused(path: string, create: boolean, msg: RegExp): void {
  const before = readFileSync(path);
  let err: unknown;
  try {
    JobStore.open(path, { create }).close();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SeelieError);
  expect((err as SeelieError).message).toContain(path);
  expect((err as SeelieError).message).toMatch(msg);
  expect(readFileSync(path).equals(before)).toBe(true);
}

test("a corrupt, foreign or newer store is refused naming the file, and left byte for byte", () => {
  const junk = join(dir, "junk.db");
  writeFileSync(junk, "this is not a database, just text ".repeat(200));
  refused(junk, true, /damaged or not a SQLite database/);
  refused(junk, false, /damaged or not a SQLite database/);

  const foreign = join(dir, "foreign.db");
  const f = new Database(foreign);
  f.run("CREATE TABLE things (x)");
  f.close();
  refused(foreign, true, /not a seelie job store/);

  const newer = join(dir, "newer.db");
  const n = new Database(newer);
  n.run("PRAGMA user_version = 99");
  n.close();
  refused(newer, true, /schema version 99, newer/);
});

test("a directory at the store path is refused", () => {
  const d = join(dir, "isdir.db");
  mkdirSync(d);
  expect(() => JobStore.open(d, { create: true })).toThrow(/not a regular file/);
});

test("the quick store path agrees with loadConfig", () => {
  const home = join(dir, "home");
  mkdirSync(join(home, ".seelie"), { recursive: true });
  const cases: Record<string, string | undefined>[] = [
    { HOME: home },
    { HOME: home, SEELIE_HOME: join(dir, "sh") },
    { HOME: home, SEELIE_HOME: "~/x" },
    { HOME: home, SEELIE_JOB_STORE: "~/j.db" },
    { HOME: home, SEELIE_JOB_STORE: join(dir, "abs.db") },
  ];
  for (const env of cases) expect(quickJobStorePath(env)).toBe(loadConfig({ env }).jobStore);
  writeFileSync(join(home, ".seelie", "config.yaml"), "jobStore: ~/elsewhere.db\n");
  expect(quickJobStorePath({ HOME: home })).toBeUndefined();
  expect(loadConfig({ env: { HOME: home } }).jobStore).toBe(join(home, "elsewhere.db"));
  writeFileSync(join(home, ".seelie", "config.yaml"), "username: alice\n");
  expect(quickJobStorePath({ HOME: home })).toBe(loadConfig({ env: { HOME: home } }).jobStore);
});

test("an update guarded by status leaves a Deleted job alone; remove() forgets a job and its id is not reused", () => {
  const dir = mkdtempSync(join(tmpdir(), "seelie-store-guard-"));
  const store = JobStore.open(join(dir, "jobs.db"), { create: true });
  try {
    const spec = parseJobSpec({ name: "g", image: "busybox" });
    const a = store.insert(spec, "Running");
    store.update(a.id, { status: "Deleted" });
    store.update(a.id, { status: "Succeeded", message: "late refresh" }, new Date(), ["Deleted"]);
    expect(store.get(a.id)).toMatchObject({ status: "Deleted" });
    store.update(a.id, { status: "Succeeded" }, new Date(), ["Failed"]);
    expect(store.get(a.id)?.status).toBe("Succeeded");
    store.remove(a.id);
    expect(store.get(a.id)).toBeUndefined();
    expect(store.insert(spec, "Recorded").id).toBe(a.id + 1);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
