/**
 * Validation of `seelie submit tfjob` input and of job ids: every error names the flag at fault.
 * Values are kept exactly as given (no trimming): the store and `job get -o cmd` must reproduce them.
 */
import { UsageError } from "../errors.ts";
import { parseImageRef } from "../image/ref.ts";
import type { EnvVar, JobSpec } from "./types.ts";

/** The submit flags as strings, before validation (what the command line gives). */
export interface RawJobOptions {
  name?: string;
  description?: string;
  cluster?: string;
  namespace?: string;
  cpu?: string;
  memory?: string;
  gpu?: string;
  workerCount?: string;
  image?: string;
  entrypointType?: string;
  entrypoint?: string;
  /** `-E KEY=VALUE` values, in order. */
  env?: readonly string[];
}

/** The defaults of flags the user may leave out. */
export const JOB_DEFAULTS = {
  description: "",
  cluster: "local",
  namespace: "default",
  cpu: "1",
  memory: "2",
  gpu: "0",
  workerCount: "1",
  entrypointType: "bash -c",
  entrypoint: "",
} as const;

const DECIMAL = /^[0-9]+(\.[0-9]{1,6})?$/;
const INTEGER = /^[0-9]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function positive(flag: string, raw: string, integer: boolean, allowZero: boolean): number {
  const syntax = integer ? INTEGER : DECIMAL;
  const n = Number(raw);
  if (!syntax.test(raw) || !Number.isFinite(n)) {
    const neg = /^\s*-/.test(raw) ? " (it is negative)" : "";
    throw new UsageError(
      `--${flag} "${raw}" is not a ${integer ? "whole number" : "number"}${neg}`,
      `give --${flag} ${allowZero ? "zero or more" : "a number greater than zero"}${integer ? "" : " with at most 6 decimals, e.g. 2 or 0.5"}`,
    );
  }
  if (n < 0 || (!allowZero && n === 0)) {
    throw new UsageError(
      `--${flag} must be ${allowZero ? "zero or more" : "greater than zero"}, got ${raw}`,
      `give --${flag} a value ${allowZero ? ">= 0" : "> 0"}`,
    );
  }
  if (n > 1_000_000) throw new UsageError(`--${flag} ${raw} is too large`, `give --${flag} a realistic value`);
  return n;
}

/** Parses one `-E KEY=VALUE` (the value may hold anything, `=` and newlines included). */
export function parseEnvVar(raw: string): EnvVar {
  const eq = raw.indexOf("=");
  const name = eq < 0 ? raw : raw.slice(0, eq);
  if (eq < 0 || !ENV_NAME.test(name)) {
    // Never echo the value: it may be a secret.
    const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    throw new UsageError(
      eq < 0
        ? `-E "${shown}" is not KEY=VALUE (no "=")`
        : `-E ${shown === "" ? "=…" : `"${shown}=…"`}: "${shown}" is not a valid environment variable name`,
      "write -E KEY=VALUE with KEY made of letters, digits and _ (not starting with a digit), e.g. -E enable_ema=1",
    );
  }
  return { name, value: raw.slice(eq + 1) };
}

/** Validates submit flags into a job spec; throws a UsageError naming the flag at fault. */
export function parseJobSpec(raw: RawJobOptions): JobSpec {
  const name = raw.name ?? "";
  if (name === "") throw new UsageError("--name is missing", 'give the job a name, e.g. --name "test job"');
  const image = raw.image ?? "";
  if (image.trim() === "")
    throw new UsageError("--image is missing", "give the image the workers run, e.g. --image registry.example.com/team/alice-training:v1");
  parseImageRef(image, "--image");
  const cluster = raw.cluster ?? JOB_DEFAULTS.cluster;
  if (cluster === "") throw new UsageError("--cluster is empty", "use --cluster local, or the name of a kubeconfig context");
  const namespace = raw.namespace ?? JOB_DEFAULTS.namespace;
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) {
    throw new UsageError(
      `--namespace "${namespace}" is not a valid Kubernetes namespace`,
      "use lower-case letters, digits and '-', e.g. --namespace default",
    );
  }
  return {
    name,
    description: raw.description ?? JOB_DEFAULTS.description,
    cluster,
    namespace,
    cpu: positive("cpu", raw.cpu ?? JOB_DEFAULTS.cpu, false, false),
    memory: positive("memory", raw.memory ?? JOB_DEFAULTS.memory, false, false),
    gpu: positive("gpu", raw.gpu ?? JOB_DEFAULTS.gpu, true, true),
    workerCount: positive("worker-count", raw.workerCount ?? JOB_DEFAULTS.workerCount, true, false),
    image,
    entrypointType: raw.entrypointType ?? JOB_DEFAULTS.entrypointType,
    entrypoint: raw.entrypoint ?? JOB_DEFAULTS.entrypoint,
    env: (raw.env ?? []).map(parseEnvVar),
  };
}

/** Parses `--job_id`: a positive whole number. */
export function parseJobId(raw: unknown): number {
  const s = raw === undefined || raw === null || raw === true ? "" : String(raw);
  if (s === "")
    throw new UsageError("--job_id is missing", "give the job's number, e.g. seelie job get --job_id 12 (seelie job list shows them)");
  if (!INTEGER.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(`--job_id "${s}" is not a job id (a positive whole number)`, "seelie job list shows the ids of your jobs");
  }
  return Number(s);
}

/** The command a worker runs: the entrypoint-type words, then the entrypoint as one argument. Empty: the image's default. */
export function workerCommand(spec: Pick<JobSpec, "entrypointType" | "entrypoint">): string[] {
  if (spec.entrypoint === "") return [];
  const words = spec.entrypointType.split(/\s+/).filter(Boolean);
  return [...words, spec.entrypoint];
}
