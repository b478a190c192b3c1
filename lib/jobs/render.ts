/**
 * How a job is shown: the JSON/YAML document (flat, snake_case like the flags), a text summary and a
 * table row. Secret-looking `-E` values are masked unless asked for.
 */
import { formatNumber } from "./cmdline.ts";
import type { JobRecord, WorkerStatus } from "./types.ts";
import { isSecretKey } from "./types.ts";

const MASK = "********";

/** The job as a JSON-able document. */
export function jobDocument(job: JobRecord, opts: { showSecrets?: boolean; workers?: WorkerStatus[] } = {}): Record<string, unknown> {
  const s = job.spec;
  return {
    job_id: job.id,
    kind: job.kind,
    name: s.name,
    description: s.description,
    cluster: s.cluster,
    namespace: s.namespace,
    cpu: s.cpu,
    memory: s.memory,
    gpu: s.gpu,
    worker_count: s.workerCount,
    image: s.image,
    entrypoint_type: s.entrypointType,
    entrypoint: s.entrypoint,
    env: s.env.map((e) => ({ name: e.name, value: !opts.showSecrets && isSecretKey(e.name) ? MASK : e.value })),
    status: job.status,
    ...(job.message !== undefined ? { message: job.message } : {}),
    ...(job.backend ? { backend: job.backend } : {}),
    ...(opts.workers ? { workers: opts.workers.map(workerDocument) } : {}),
    created_at: job.createdAt,
    updated_at: job.updatedAt,
  };
}

/** A worker as a JSON-able document (snake_case, like the job's). */
export function workerDocument(w: WorkerStatus): Record<string, unknown> {
  return {
    worker: w.worker,
    name: w.name,
    state: w.state,
    ...(w.reason ? { reason: w.reason } : {}),
    restarts: w.restarts,
    ...(w.exitCode !== undefined ? { exit_code: w.exitCode } : {}),
  };
}

/** The workers as table lines under the job summary: worker, state, restarts, exit code, name. */
function workerLines(workers: readonly WorkerStatus[]): string[] {
  const rows = [
    ["WORKER", "STATE", "RESTARTS", "EXIT", "NAME"],
    ...workers.map((w) => [
      w.worker,
      oneLine(w.state + (w.reason ? ` (${w.reason})` : "")),
      String(w.restarts),
      w.exitCode === undefined ? "-" : String(w.exitCode),
      w.name,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `  ${r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join("  ")}`);
}

/** Makes a value printable on one line: control characters escaped. */
function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** A readable summary of a job. */
export function jobText(job: JobRecord, opts: { showSecrets?: boolean; workers?: WorkerStatus[] } = {}): string {
  const s = job.spec;
  const where =
    job.backend?.kind === "local"
      ? `local Docker, ${job.backend.network ? `network ${job.backend.network}` : job.spec.workerCount > 1 ? "network removed once the job ended" : "no network of its own"}, containers ${job.backend.containers.join(", ")}`
      : job.backend?.kind === "tfjob"
        ? `TFJob ${job.backend.namespace}/${job.backend.name} in context ${job.backend.context}`
        : "-";
  const rows: [string, string][] = [
    ["Job", String(job.id)],
    ["Name", oneLine(s.name)],
    ["Description", oneLine(s.description)],
    // "no status (is the training operator installed?)" reads badly inside another pair of parentheses.
    ["Status", job.status + (job.message ? (job.message.startsWith("no status") ? `: ${job.message}` : ` (${oneLine(job.message)})`) : "")],
    ["Cluster", `${oneLine(s.cluster)} (namespace ${s.namespace})`],
    ["Resources", `${s.workerCount} worker(s) × ${formatNumber(s.cpu)} CPU, ${formatNumber(s.memory)} GiB, ${s.gpu} GPU`],
    ["Image", s.image],
    ["Entrypoint", s.entrypoint === "" ? "(the image's own)" : oneLine(`${s.entrypointType} ${s.entrypoint}`)],
    ...s.env.map((e, i): [string, string] => [
      i === 0 ? "Env" : "",
      oneLine(`${e.name}=${!opts.showSecrets && isSecretKey(e.name) ? MASK : e.value}`),
    ]),
    ["Runs on", where],
    ["Created", job.createdAt],
    ["Updated", job.updatedAt],
  ];
  const lines = rows.map(([k, v]) => `${k.padEnd(12)}${v}`);
  if (opts.workers)
    lines.push(
      opts.workers.length ? "Workers" : `Workers     ${job.backend?.kind === "tfjob" ? "no pods (yet)" : "none"}`,
      ...(opts.workers.length ? workerLines(opts.workers) : []),
    );
  return lines.join("\n");
}

/** The workers in a few words: `2 running, 1 exited (3), 4 restarts`. */
export function workersBrief(workers: readonly WorkerStatus[]): string {
  const counts = new Map<string, number>();
  for (const w of workers) {
    const k = `${w.state}${w.exitCode !== undefined ? ` (${w.exitCode})` : ""}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const restarts = workers.reduce((n, w) => n + w.restarts, 0);
  const parts = [...counts].map(([k, n]) => `${n} ${k}`);
  if (restarts > 0) parts.push(`${restarts} restart${restarts > 1 ? "s" : ""}`);
  return parts.join(", ") || "-";
}

/** `seelie job list`'s table; with the workers seen by `--refresh`, a last column sums them up. */
export function jobTable(jobs: JobRecord[], workers?: ReadonlyMap<number, WorkerStatus[]>): string {
  const rows = [["ID", "NAME", "STATUS", "CLUSTER", "WORKERS", "CREATED", ...(workers ? ["WORKER STATES"] : [])]];
  for (const j of jobs) {
    const name = oneLine(j.spec.name);
    rows.push([
      String(j.id),
      name.length > 40 ? `${name.slice(0, 39)}…` : name,
      j.status,
      oneLine(j.spec.cluster),
      String(j.spec.workerCount),
      j.createdAt.replace(/\.\d+Z$/, "Z"),
      ...(workers ? [oneLine(workersBrief(workers.get(j.id) ?? []))] : []),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  return rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v + " ".repeat(widths[c]! - [...v].length))).join("  ")).join("\n");
}
