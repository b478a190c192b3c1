import { SeelieError } from "../errors.ts";

/** One JSON message of a Docker/Podman streaming response (build, pull, push). */
export interface EngineMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number };
}

/**
 * Reads a newline-delimited JSON stream as it arrives, calling `onMessage` for each message. Resolves
 * with all messages at the end; rejects with the engine's own message when one reports an error, or
 * when `signal` aborts (the stream is destroyed, so the engine sees the client go away).
 */
export function followEngineStream(
  stream: NodeJS.ReadableStream,
  onMessage: (m: EngineMessage) => void,
  signal?: AbortSignal,
): Promise<EngineMessage[]> {
  return new Promise((resolve, reject) => {
    const all: EngineMessage[] = [];
    let buf = "";
    let failed: string | undefined;
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(signal?.reason ?? new Error("aborted"));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const handleLine = (line: string) => {
      if (!line.trim()) return;
      let m: EngineMessage;
      try {
        m = JSON.parse(line) as EngineMessage;
      } catch {
        m = { stream: `${line}\n` };
      }
      all.push(m);
      if (m.error || m.errorDetail?.message) failed ??= (m.errorDetail?.message ?? m.error ?? "").trim();
      onMessage(m);
    };
    stream.on("data", (chunk: Buffer | string) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        handleLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    stream.on("end", () => {
      signal?.removeEventListener("abort", onAbort);
      handleLine(buf);
      if (failed !== undefined) reject(new SeelieError(failed));
      else resolve(all);
    });
    stream.on("error", (err: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

/**
 * Turns pull/push progress messages into readable lines: one line per layer each time its status
 * changes (not every byte tick), so logs stay short when stderr is not a terminal.
 */
export function progressPrinter(write: (line: string) => void): (m: EngineMessage) => void {
  const last = new Map<string, string>();
  return (m) => {
    if (m.stream) return write(m.stream.replace(/\n$/, ""));
    if (!m.status) return;
    const key = m.id ?? "";
    if (last.get(key) === m.status) return;
    last.set(key, m.status);
    write(m.id ? `${m.id}: ${m.status}` : m.status);
  };
}
