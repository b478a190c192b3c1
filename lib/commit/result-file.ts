/**
 * The committer's result file: besides `-o json` on stdout, the committer writes its one result
 * document (or, on failure, `{ "error": { message, hint, exitCode } }`) to the file named by
 * `SEELIE_RESULT_FILE` (or a `--result-file PATH` flag). In a committer Pod that is the container's
 * termination message file (`/dev/termination-log`), which Kubernetes hands back in the Pod's status —
 * so the launcher gets the result apart from the mixed stdout/stderr log stream.
 */
import { writeFileSync } from "node:fs";
import { errorMessage } from "../errors.ts";

/** The environment variable the launcher sets in the committer Pod. */
export const RESULT_FILE_ENV = "SEELIE_RESULT_FILE";

/** Kubernetes keeps at most 4096 bytes of a container's termination message. */
export const TERMINATION_MESSAGE_MAX = 4096;

/** What a failed committer writes to the result file. */
export interface CommitterErrorDocument {
  error: { message: string; hint?: string; exitCode: number };
}

/** The document without its long lists (`cleanup.removed` becomes the number of paths). */
function compact(doc: unknown): unknown {
  const d = doc as { cleanup?: { removed?: unknown } };
  if (!d || typeof d !== "object" || !d.cleanup || !Array.isArray(d.cleanup.removed)) return doc;
  return { ...d, cleanup: { ...d.cleanup, removed: d.cleanup.removed.length } };
}

/**
 * Writes `doc` as one line of JSON to `path`. Never throws (the result also goes to stdout): returns a
 * warning to log instead. A document too long for a termination message loses its list of removed
 * paths; if still too long nothing is written and the launcher falls back to the log.
 */
export function writeResultFile(path: string, doc: unknown): string | undefined {
  let text = `${JSON.stringify(doc)}\n`;
  if (Buffer.byteLength(text) > TERMINATION_MESSAGE_MAX) text = `${JSON.stringify(compact(doc))}\n`;
  if (Buffer.byteLength(text) > TERMINATION_MESSAGE_MAX && path === "/dev/termination-log") {
    return `the result (${Buffer.byteLength(text)} bytes) is longer than a termination message can hold; the launcher falls back to the log`;
  }
  try {
    writeFileSync(path, text);
    return undefined;
  } catch (err) {
    return `cannot write the result file ${path}: ${errorMessage(err)}`;
  }
}

/** The result file to write: the flag's value, else `SEELIE_RESULT_FILE`, else none. */
export function resultFilePath(flag: string | undefined, env: Record<string, string | undefined>): string | undefined {
  return flag || env[RESULT_FILE_ENV] || undefined;
}

/** The error document for `writeResultFile` (message and hint of the error the committer exits with). */
export function errorDocument(err: { message: string; hint?: string; exitCode?: number }): CommitterErrorDocument {
  return { error: { message: err.message, hint: err.hint, exitCode: err.exitCode ?? 1 } };
}
