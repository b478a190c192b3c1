/**
 * Reading the committer's result back from its Pod: the termination message (`--result-file
 * /dev/termination-log`) first, else the JSON document at the end of its log (stdout and stderr are
 * one stream in Kubernetes). Also the line filter that streams the log to the user without that
 * trailing JSON document, and the formatting of the final report.
 */

/** The committer's `-o json` document (the contract of bin/seelie-committer.ts). */
export interface CommitterResult {
  image: string;
  digest: string;
  size?: number;
  layers?: number;
  runtime?: string;
  containerId?: string;
  /** Where the new layer was read from (committers from issue 13 on). */
  layerSource?: "upperdir" | "api";
  compression?: string;
  compressionLevel?: number;
  cleanup?: { skipped?: boolean; reason?: string; files?: number; bytes?: number; removed?: unknown };
  timings?: Record<string, number>;
}

/** A failing committer's error document (see lib/commit/result-file.ts). */
export interface CommitterError {
  message: string;
  hint?: string;
  exitCode?: number;
}

function parseDoc(text: string): CommitterResult | { error: CommitterError } | undefined {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (doc && typeof doc === "object") {
      if (typeof doc.image === "string" && typeof doc.digest === "string") return doc as unknown as CommitterResult;
      const err = doc.error as CommitterError | undefined;
      if (err && typeof err.message === "string") return { error: err };
    }
  } catch {
    /* not JSON */
  }
  return undefined;
}

/** The JSON document that ends a log (a pretty-printed or one-line object starting at a line's start). */
export function trailingJson(log: string): string | undefined {
  const lines = log.replace(/\s+$/, "").split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.startsWith("{")) continue;
    const text = lines.slice(i).join("\n");
    if (parseDoc(text)) return text;
  }
  return undefined;
}

/** The committer's result or error, from the termination message, else from the end of the log. */
export function parseCommitterOutput(
  terminationMessage: string | undefined,
  log: string,
): CommitterResult | { error: CommitterError } | undefined {
  const fromMessage = terminationMessage ? parseDoc(terminationMessage.trim()) : undefined;
  if (fromMessage) return fromMessage;
  const t = trailingJson(log);
  return t ? parseDoc(t) : undefined;
}

/** True when the value is the committer's error document. */
export function isCommitterError(v: unknown): v is { error: CommitterError } {
  return typeof v === "object" && v !== null && "error" in v;
}

const ERROR_LINE = /^\s*(?:\[error\]|ERROR\b|✖)/i;

/**
 * The committer's last error lines from its log (consola prints `ERROR …`/`✖ …` and `hint: …`),
 * for the message when there is no error document.
 */
export function errorFromLog(log: string): CommitterError | undefined {
  const lines = log
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean);
  let idx = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (ERROR_LINE.test(lines[i]!)) {
      idx = i;
      break;
    }
  }
  if (idx < 0) {
    const last = lines.at(-1);
    return last ? { message: last.trim() } : undefined;
  }
  const message = lines[idx]!.replace(ERROR_LINE, "")
    .replace(/^\s*:?\s*/, "")
    .trim();
  const hintLine = lines.slice(idx + 1).find((l) => /hint:/i.test(l));
  const hint = hintLine?.replace(/^.*?hint:\s*/i, "").trim();
  return { message, hint };
}

/**
 * Splits a byte stream into lines for the user's stderr, holding back a JSON document that starts at
 * a line's beginning until the end: if what was held parses as the committer's result it is dropped
 * (it goes to stdout as seelie's own result), else it is shown.
 */
export class LogRelay {
  private partial = "";
  private held: string[] = [];
  /** Everything received (for parsing at the end). */
  text = "";

  constructor(private readonly emit: (line: string) => void) {}

  /** Feeds a chunk of the log. */
  push(chunk: string): void {
    this.text += chunk;
    const parts = (this.partial + chunk).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.line(line);
  }

  private line(line: string): void {
    if (this.held.length === 0 && !line.startsWith("{")) {
      this.emit(line);
      return;
    }
    this.held.push(line);
  }

  /** Ends the stream: flushes what was held unless it is the result document. */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = "";
    if (this.held.length && !trailingJson(this.held.join("\n"))) for (const l of this.held) this.emit(l);
    else if (this.held.length) {
      // Lines that interleaved after the document began (stderr) are still shown.
      const doc = trailingJson(this.held.join("\n")) ?? "";
      const docLines = new Set(doc.split("\n"));
      for (const l of this.held) if (!docLines.has(l)) this.emit(l);
    }
    this.held = [];
  }
}

/** seelie image commit's result. */
export interface CommitPodResult {
  image: string;
  digest: string;
  size?: number;
  layers?: number;
  node: string;
  runtime: string;
  containerId: string;
  source: { namespace: string; pod: string; container: string };
  committerPod: { namespace: string; name: string; kept: boolean };
  /** Where the committer read the new layer from: `upperdir` (the overlay upper directory) or `api` (the runtime's diff). */
  layerSource?: CommitterResult["layerSource"];
  compression?: string;
  compressionLevel?: number;
  cleanup?: CommitterResult["cleanup"];
  /** Seconds: the committer's steps, plus `podStart` (created → running) and `overall`. */
  timings: Record<string, number>;
}

const secs = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms) / 1000);

/** Converts the committer's millisecond timings to seconds with millisecond precision. */
export function timingsInSeconds(ms: Record<string, number> | undefined, extra: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...(ms ?? {}), ...extra })) if (typeof v === "number") out[k] = secs(v)!;
  return out;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const LAYER_SOURCE_TEXT = { upperdir: "from the upper directory", api: "through the runtime's API" } as const;

/** The text report of a commit. */
export function formatCommitResult(r: CommitPodResult): string {
  const c = r.cleanup;
  const cleanup = !c ? "-" : c.skipped ? `skipped${c.reason ? ` (${c.reason})` : ""}` : `${c.files ?? 0} files, ${bytes(c.bytes)} removed`;
  const t = Object.entries(r.timings)
    .map(([k, v]) => `${k} ${v.toFixed(1)}s`)
    .join(", ");
  const rows: [string, string][] = [
    ["image", r.image],
    ["digest", r.digest],
    ["size", `${bytes(r.size)}${r.layers !== undefined ? `, ${r.layers} layers` : ""}`],
    ["source", `${r.source.namespace}/${r.source.pod} container ${r.source.container}`],
    ["node", r.node],
    ["runtime", `${r.runtime} ${r.containerId.slice(0, 12)}`],
    [
      "layer",
      `${r.layerSource ? LAYER_SOURCE_TEXT[r.layerSource] : "?"}${r.compression ? `, ${r.compression}${r.compressionLevel !== undefined ? ` level ${r.compressionLevel}` : ""}` : ""}`,
    ],
    ["cleanup", cleanup],
    ["timings", t],
  ];
  if (r.committerPod.kept) rows.push(["pod", `${r.committerPod.namespace}/${r.committerPod.name} (kept)`]);
  return rows.map(([k, v]) => `${k.padEnd(8)} ${v}`).join("\n");
}
