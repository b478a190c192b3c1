import { expect, test } from "bun:test";
import { UsageError } from "../../../lib/errors.ts";
import { parseEnvVar, parseJobId, parseJobSpec, workerCommand } from "../../../lib/jobs/validate.ts";

const ok = { name: "n", image: "busybox" };

function usage(f: () => unknown): UsageError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error("no error");
}

test("defaults", () => {
  expect(parseJobSpec(ok)).toEqual({
    name: "n",
    description: "",
    cluster: "local",
    namespace: "default",
    cpu: 1,
    memory: 2,
    gpu: 0,
    workerCount: 1,
    image: "busybox",
    entrypointType: "bash -c",
    entrypoint: "",
    env: [],
  });
});

test.each([
  [{ cpu: "0" }, "--cpu must be greater than zero"],
  [{ cpu: "-1" }, '--cpu "-1" is not a number (it is negative)'],
  [{ memory: "0" }, "--memory must be greater than zero"],
  [{ memory: "abc" }, '--memory "abc" is not a number'],
  [{ memory: "1e3" }, '--memory "1e3" is not a number'],
  [{ gpu: "-2" }, '--gpu "-2" is not a whole number (it is negative)'],
  [{ gpu: "0.5" }, '--gpu "0.5" is not a whole number'],
  [{ workerCount: "0" }, "--worker-count must be greater than zero"],
  [{ workerCount: "-3" }, '--worker-count "-3" is not a whole number'],
  [{ image: "" }, "--image is missing"],
  [{ image: undefined }, "--image is missing"],
  [{ image: "Not Valid" }, "--image"],
  [{ name: "" }, "--name is missing"],
  [{ namespace: "Bad_NS" }, '--namespace "Bad_NS"'],
  [{ cluster: "" }, "--cluster is empty"],
  [{ env: ["novalue"] }, '-E "novalue" is not KEY=VALUE'],
  [{ env: ["=x"] }, '"" is not a valid environment variable name'],
  [{ env: ["1A=x"] }, '"1A" is not a valid environment variable name'],
  [{ env: ["A B=x"] }, '"A B" is not a valid'],
])("%j is refused naming the flag", (bad, msg) => {
  const err = usage(() => parseJobSpec({ ...ok, ...bad }));
  expect(err.message).toContain(msg);
  expect(err.hint).toBeTruthy();
});

test("-E keeps the value exactly, = and newlines included", () => {
  expect(parseEnvVar("A=b=c\n d")).toEqual({ name: "A", value: "b=c\n d" });
  expect(parseEnvVar("A=")).toEqual({ name: "A", value: "" });
});

test("values are kept as given (no trimming)", () => {
  const s = parseJobSpec({ ...ok, name: "  spaced  ", description: "\n", entrypoint: " x " });
  expect([s.name, s.description, s.entrypoint]).toEqual(["  spaced  ", "\n", " x "]);
});

test("job ids", () => {
  expect(parseJobId("12")).toBe(12);
  expect(usage(() => parseJobId("abc")).message).toContain('--job_id "abc" is not a job id');
  expect(usage(() => parseJobId("0")).message).toContain("not a job id");
  expect(usage(() => parseJobId("-1")).message).toContain("not a job id");
  expect(usage(() => parseJobId("1.5")).message).toContain("not a job id");
  expect(usage(() => parseJobId(undefined)).message).toContain("--job_id is missing");
});

test("worker command: entrypoint-type words, then the entrypoint as one argument", () => {
  expect(workerCommand({ entrypointType: "bash -c", entrypoint: "sleep 10m; echo failed; exit 1" })).toEqual([
    "bash",
    "-c",
    "sleep 10m; echo failed; exit 1",
  ]);
  expect(workerCommand({ entrypointType: " python  -u ", entrypoint: "train.py" })).toEqual(["python", "-u", "train.py"]);
  expect(workerCommand({ entrypointType: "", entrypoint: "run" })).toEqual(["run"]);
  expect(workerCommand({ entrypointType: "bash -c", entrypoint: "" })).toEqual([]);
});

test("a malformed -E never echoes its value", () => {
  const err = usage(() => parseEnvVar("MY PASSWORD=hunter2"));
  expect(err.message).toContain('"MY PASSWORD" is not a valid environment variable name');
  expect(err.message).not.toContain("hunter2");
});
