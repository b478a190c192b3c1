/**
 * Pure helpers for Docker's push: reading its JSON progress stream and deciding which failures are
 * worth a retry (the registry restarting, a dropped connection) and which are not (a refused password).
 */

/** One message of Docker's push progress stream. */
export interface PushEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/** What a finished push stream said: the pushed digest, or the error the stream carried. */
export interface PushOutcome {
  digest?: string;
  error?: string;
}

/** Folds the stream's events into the outcome (the last error wins; an error anywhere is a failure). */
export function pushOutcome(events: readonly PushEvent[]): PushOutcome {
  const out: PushOutcome = {};
  for (const e of events) {
    if (e.aux?.Digest) out.digest = e.aux.Digest;
    const err = e.error ?? e.errorDetail?.message;
    if (err) out.error = err;
  }
  if (!out.digest) {
    // Older engines only print "tag: digest: sha256:… size: N".
    for (const e of events) {
      const m = /digest: (sha256:[a-f0-9]{64})/.exec(e.status ?? "");
      if (m) out.digest = m[1];
    }
  }
  return out;
}

/** A progress line worth printing for an event (layer status changes, not every byte count), or undefined. */
export function pushProgressLine(e: PushEvent): string | undefined {
  if (e.error) return undefined;
  if (!e.status || e.progress) return undefined;
  if (/^(Preparing|Waiting)$/.test(e.status)) return undefined;
  return e.id ? `push: ${e.id}: ${e.status}` : `push: ${e.status}`;
}

const PERMANENT =
  /unauthorized|authentication required|no basic auth|denied|forbidden|name unknown|manifest invalid|blob unknown to registry|invalid reference|repository name must|no such image|does not exist/i;
const TRANSIENT =
  /connection refused|connection reset|broken pipe|EOF|i\/o timeout|timeout|timed out|temporar|503|502|504|500 internal|bad gateway|service unavailable|gateway|too many requests|429|no route to host|ECONNRE|ECONNREFUSED|ETIMEDOUT|socket hang up|unexpected end|retry/i;

/** True when a push failure is likely to go away if tried again (network, 5xx, 429); false for auth and bad names. */
export function isTransientPushError(message: string): boolean {
  if (PERMANENT.test(message)) return false;
  return TRANSIENT.test(message);
}

/** True when a push failure means the registry refused the credentials. */
export function isAuthError(message: string): boolean {
  return /unauthorized|authentication required|no basic auth|denied|forbidden|401|403/i.test(message);
}

/** The back-off before attempt `n` (1-based retries): base·2^(n-1), capped. */
export function backoffMs(n: number, baseMs: number, capMs = 30_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, n - 1));
}
