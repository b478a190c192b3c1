/**
 * The one mapper from API-server answers (and transport failures) to messages and hints, so the same
 * 401, 403 or 404 reads the same from `image commit --pod`, `image cloud-build` and `job`.
 */
import { errorMessage, SeelieError } from "../errors.ts";

/** The status code, reason and message of an error from the API server (or the connection). */
export function kubeError(err: unknown): { code?: number; reason?: string; message: string } {
  const e = err as { code?: unknown; body?: unknown };
  if (typeof e?.code === "number") {
    let body = e.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        /* not a Status */
      }
    }
    const st = body as { reason?: string; message?: string } | undefined;
    const message = st?.message ?? (typeof body === "string" && body ? body : `HTTP ${e.code}`);
    return { code: e.code, reason: st?.reason, message };
  }
  return { message: errorMessage(err) };
}

/** Hints a caller knows better than the mapper: what RBAC grants the permission, what a 404 means here. */
export interface KubeHints {
  /** Where the needed permissions are written down (e.g. "pods/committer/rbac.yaml"). */
  rbac?: string;
  /** What a 404 means for this call (e.g. the namespace is missing). */
  notFound?: string;
  /** Used for any other status. */
  other?: string;
}

/** Wraps an API or transport error into a SeelieError: "cannot/not allowed to WHAT: server's message", with a next step. */
export function kubeFailure(what: string, err: unknown, h: KubeHints = {}): SeelieError {
  if (err instanceof SeelieError) {
    // A transport failure: its message names the server, CA or proxy already.
    return new SeelieError(`cannot ${what}: ${err.message}`, { hint: err.hint, cause: err });
  }
  const e = kubeError(err);
  switch (e.code) {
    case undefined:
      return new SeelieError(`cannot ${what}: ${e.message}`, { hint: "is the cluster reachable? (kubectl get nodes)", cause: err });
    case 401:
      return new SeelieError(`cannot ${what}: the API server did not accept the credentials (${e.message})`, {
        hint: "the token or client certificate in the kubeconfig is expired or wrong: log in again / refresh it (kubectl get nodes shows the same)",
        cause: err,
      });
    case 403:
      return new SeelieError(`not allowed to ${what}: ${e.message}`, {
        hint: `${h.rbac ? `grant the permissions in ${h.rbac}` : "ask your cluster admin for that permission"} (kubectl auth can-i --list shows yours)`,
        cause: err,
      });
    case 404:
      return new SeelieError(`cannot ${what}: ${e.message}`, {
        hint: h.notFound ?? h.other ?? "check the name and namespace (kubectl get …)",
        cause: err,
      });
    default:
      return new SeelieError(`cannot ${what}: ${e.message}`, { hint: h.other, cause: err });
  }
}
