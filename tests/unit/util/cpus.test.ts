import { expect, test } from "bun:test";
import { cgroupCpuLimit, MAX_CORES, usableCores } from "../../../lib/util/cpus.ts";

test.each([
  ["v2, no limit", { cpuMax: "max 100000\n" }, undefined],
  ["v2, 2 CPUs", { cpuMax: "200000 100000\n" }, 2],
  ["v2, 1.5 CPUs rounds up", { cpuMax: "150000 100000" }, 2],
  ["v2, 100m rounds up to one", { cpuMax: "10000 100000" }, 1],
  ["v1, no limit (-1)", { cfsQuota: "-1\n", cfsPeriod: "100000\n" }, undefined],
  ["v1, 3 CPUs", { cfsQuota: "300000", cfsPeriod: "100000" }, 3],
  ["v2 wins over v1", { cpuMax: "max 100000", cfsQuota: "100000", cfsPeriod: "100000" }, undefined],
  ["nothing readable", {}, undefined],
  ["garbage", { cpuMax: "what ever" }, undefined],
] as const)("cgroupCpuLimit: %s", (_name, files, want) => {
  expect(cgroupCpuLimit(files)).toBe(want);
});

test("usableCores is at least 1 and at most MAX_CORES", () => {
  const n = usableCores();
  expect(n).toBeGreaterThanOrEqual(1);
  expect(n).toBeLessThanOrEqual(MAX_CORES);
});
