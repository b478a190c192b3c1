/**
 * How many cores a pipeline should use. `availableParallelism()` counts the node's CPUs, not the
 * container's: a committer Pod limited to 2 CPUs on a 64-core node would start 64 compression
 * workers (~10 MiB each) and be throttled. The cgroup's CPU quota caps it, and so does `MAX_CORES`:
 * past 4 cores the upload, not compression, is what a commit waits for, and each worker costs memory.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

export const MAX_CORES = 4;

/** Cores allowed by a cgroup v2 `cpu.max` ("max 100000", "150000 100000") or v1 quota/period; undefined: no limit. */
export function cgroupCpuLimit(files: { cpuMax?: string; cfsQuota?: string; cfsPeriod?: string }): number | undefined {
  let quota: number | undefined;
  let period: number | undefined;
  if (files.cpuMax !== undefined) {
    const [q, p] = files.cpuMax.trim().split(/\s+/);
    if (q !== "max") [quota, period] = [Number(q), Number(p)];
  } else if (files.cfsQuota !== undefined && files.cfsPeriod !== undefined) {
    const q = Number(files.cfsQuota.trim());
    if (q > 0) [quota, period] = [q, Number(files.cfsPeriod.trim())];
  }
  if (!quota || !period || !Number.isFinite(quota / period)) return undefined;
  return Math.max(1, Math.ceil(quota / period));
}

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

let cached: number | undefined;

/** The cores this process should use: the CPUs it may run on, capped by its cgroup's quota and `MAX_CORES`. */
export function usableCores(): number {
  cached ??= Math.max(
    1,
    Math.min(
      availableParallelism(),
      MAX_CORES,
      cgroupCpuLimit({
        cpuMax: read("/sys/fs/cgroup/cpu.max"),
        cfsQuota: read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") ?? read("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"),
        cfsPeriod: read("/sys/fs/cgroup/cpu/cpu.cfs_period_us") ?? read("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"),
      }) ?? Number.POSITIVE_INFINITY,
    ),
  );
  return cached;
}
