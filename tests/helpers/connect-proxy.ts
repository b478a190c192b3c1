/**
 * A tiny HTTP CONNECT proxy on loopback, for kubeconfig `proxy-url` tests against the real API server:
 * it records each tunnel's target and can cut every open tunnel at once (a proxy or load balancer
 * dropping long-lived streams, which a real API server cannot be made to do on demand).
 */
import type { Socket } from "bun";

type Side = { peer?: Socket<Side>; pending: Uint8Array[]; head?: Uint8Array[] };

/** Writes all of `d`, queueing what the socket did not take (sent on drain). */
function send(s: Socket<Side>, d: Uint8Array): void {
  if (s.data.pending.length) {
    s.data.pending.push(d);
    return;
  }
  const n = s.write(d);
  if (n < d.length) s.data.pending.push(d.subarray(Math.max(n, 0)));
}

function flush(s: Socket<Side>): void {
  while (s.data.pending.length) {
    const d = s.data.pending[0]!;
    const n = s.write(d);
    if (n < d.length) {
      s.data.pending[0] = d.subarray(Math.max(n, 0));
      return;
    }
    s.data.pending.shift();
  }
}

/** Starts the proxy; `cutAll()` closes every open tunnel. */
export function cuttableProxy() {
  const seen: string[] = [];
  const open = new Set<Socket<Side>>();
  let cuts = 0;
  const srv = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { pending: [] };
        open.add(s);
      },
      drain: flush,
      data(s, d) {
        if (s.data.peer) return send(s.data.peer, d);
        if (s.data.head) return void s.data.head.push(d);
        const m = /^CONNECT ([^\s:]+):(\d+) HTTP/.exec(Buffer.from(d).toString("latin1"));
        if (!m) return void s.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        seen.push(`${m[1]}:${m[2]}`);
        s.data.head = [];
        Bun.connect<Side>({
          hostname: m[1]!,
          port: Number(m[2]),
          data: { pending: [] },
          socket: {
            open(u) {
              u.data.peer = s;
              s.data.peer = u;
              send(s, new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
              for (const b of s.data.head ?? []) send(u, b);
              s.data.head = undefined;
            },
            drain: flush,
            data(u, d2) {
              if (u.data.peer) send(u.data.peer, d2);
            },
            close(u) {
              u.data.peer?.end();
            },
            error(u) {
              u.data.peer?.end();
            },
          },
        }).catch(() => s.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
      },
      close(s) {
        open.delete(s);
        s.data.peer?.end();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${srv.port}`,
    seen,
    get cuts() {
      return cuts;
    },
    cutAll() {
      cuts++;
      for (const s of open) {
        s.data.peer?.terminate();
        s.terminate();
      }
    },
    stop: () => srv.stop(true),
  };
}
