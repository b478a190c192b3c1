/**
 * Pure pieces of `seelie job logs`: Docker's multiplexed log stream split into stdout/stderr frames,
 * and whole lines prefixed with their worker (`[worker-1] …`, as `kubectl logs --prefix` does).
 * Bytes stay bytes: output is never re-encoded.
 */

/** Where log bytes go: the two streams of the caller. */
export interface LogSink {
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
}

/**
 * A parser of Docker's attach/logs stream for containers without a TTY: frames of an 8-byte header
 * (stream type 1 = stdout, 2 = stderr; bytes 4–7 the big-endian length) and the payload. Frames may be
 * split across chunks at any byte.
 */
export function dockerDemuxer(onFrame: (stream: 1 | 2, payload: Uint8Array) => void): (chunk: Uint8Array) => void {
  let buf = new Uint8Array(0);
  return (chunk) => {
    const joined = new Uint8Array(buf.length + chunk.length);
    joined.set(buf);
    joined.set(chunk, buf.length);
    let at = 0;
    while (joined.length - at >= 8) {
      const size = new DataView(joined.buffer, joined.byteOffset + at + 4, 4).getUint32(0);
      if (joined.length - at - 8 < size) break;
      const type = joined[at]!;
      onFrame(type === 2 ? 2 : 1, joined.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    buf = joined.slice(at);
  };
}

/** A writer that prefixes each whole line with `prefix`; `end()` flushes a last line without a newline. */
export function prefixedLines(prefix: string, write: (chunk: Uint8Array) => void): { write(chunk: Uint8Array): void; end(): void } {
  if (prefix === "") return { write, end: () => undefined };
  const pre = new TextEncoder().encode(prefix);
  let partial: Uint8Array[] = [];
  return {
    write(chunk) {
      let start = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
        write(concat([pre, ...partial, chunk.subarray(start, i + 1)]));
        partial = [];
        start = i + 1;
      }
      if (start < chunk.length) partial.push(chunk.slice(start));
    },
    end() {
      if (partial.length) write(concat([pre, ...partial, new Uint8Array([10])]));
      partial = [];
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
