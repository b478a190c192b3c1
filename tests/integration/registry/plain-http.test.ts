/**
 * No credential over plain HTTP to a registry that is not loopback by name (issue 10.5). A "trap"
 * listener records every byte it receives and answers anything that looks like HTTP with a Basic
 * challenge, as a plain-http impostor on a registry's host would. It is reached by names that are not
 * loopback by name: the machine's host name (when it resolves to this machine) and the address of a
 * non-loopback interface. Nothing can leave the machine: every listener binds one local address.
 * What is faked and why: the trap and the misbehaving registries below (token realm or upload
 * location on plain http) — a real registry does not do that, an attacker's would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lookup } from "node:dns/promises";
import { hostname, networkInterfaces } from "node:os";
import type { Socket, TCPSocketListener } from "bun";
import type { RegistryAuth } from "../../../lib/registry/credentials.ts";
import { RegistryClient } from "../../../lib/registry/distribution.ts";
import { isLoopbackRegistry } from "../../../lib/registry/host.ts";
import { testRegistry } from "../../helpers/services.ts";

const reg = testRegistry();
const auth: RegistryAuth = { serveraddress: reg.addr, username: reg.user, password: reg.password, source: "the test's Docker config" };
const basic = Buffer.from(`${reg.user}:${reg.password}`).toString("base64");

interface Trap {
  /** How the code under test names it: `name:port`. */
  host: string;
  /** Every byte received, per connection, as latin1 text. */
  received: string[];
  listener: TCPSocketListener<{ i: number }>;
}

/** A plain TCP listener on `address` that records everything and answers HTTP with a Basic challenge. */
function trap(name: string, address: string): Trap {
  const received: string[] = [];
  const listener = Bun.listen<{ i: number }>({
    hostname: address,
    port: 0,
    socket: {
      open(s: Socket<{ i: number }>) {
        s.data = { i: received.push("") - 1 };
      },
      data(s, chunk) {
        const text = Buffer.from(chunk).toString("latin1");
        received[s.data.i] += text;
        if (/^(GET|HEAD|POST|PUT|PATCH) /.test(received[s.data.i] ?? "") && received[s.data.i]?.includes("\r\n\r\n")) {
          s.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="trap"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        } else if (!/^[A-Z]/.test(text)) {
          s.end(); // a TLS ClientHello: this listener speaks no TLS
        }
      },
    },
  });
  return { host: `${name}:${listener.port}`, received, listener };
}

/** True when some request the trap received carries credentials. */
function sawCredentials(t: Trap): boolean {
  return t.received.some((r) => /authorization:/i.test(r) || r.includes(basic) || r.includes(reg.password));
}

/** Names of this machine that are not loopback by name, with the local address each resolves to. */
async function nonLoopbackNames(): Promise<{ name: string; address: string }[]> {
  const out: { name: string; address: string }[] = [];
  const local = new Set([
    "127.0.0.1",
    ...Object.values(networkInterfaces()).flatMap((l) => (l ?? []).filter((a) => a.family === "IPv4").map((a) => a.address)),
  ]);
  const h = hostname();
  const resolved = await lookup(h, { family: 4 }).catch(() => undefined);
  if (resolved && local.has(resolved.address) && !isLoopbackRegistry(h)) out.push({ name: h, address: resolved.address });
  const external = Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .find((a) => a.family === "IPv4" && !a.internal);
  if (external) out.push({ name: external.address, address: external.address });
  return out;
}

let names: { name: string; address: string }[] = [];
const traps: Trap[] = [];
const servers: { stop(force?: boolean): void }[] = [];

beforeAll(async () => {
  names = await nonLoopbackNames();
});

afterAll(() => {
  for (const t of traps) t.listener.stop(true);
  for (const s of servers) s.stop(true);
});

function newTrap(n: { name: string; address: string }): Trap {
  const t = trap(n.name, n.address);
  traps.push(t);
  return t;
}

describe("no credential over plain http to a non-loopback registry", () => {
  test("this machine has a name that is not loopback by name", () => {
    // Without one the tests below would prove nothing: fail, saying why.
    expect(names.length).toBeGreaterThan(0);
  });

  test("a manifest read through the registry client: https only for a non-loopback name", async () => {
    for (const n of names) {
      const t = newTrap(n);
      const err = await new RegistryClient({ registry: t.host, auth, attempts: 1 })
        .getManifest("seelie/busybox", "1")
        .catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      // The client did come (over TLS, which the trap does not speak) and sent nothing readable.
      expect(t.received.length).toBeGreaterThan(0);
      expect(t.received.some((r) => r.startsWith("GET "))).toBe(false);
      expect(sawCredentials(t)).toBe(false);
    }
  });

  test("control: the same call on the loopback registry reads the manifest", async () => {
    const m = await new RegistryClient({ registry: reg.addr, auth }).getManifest("seelie/busybox", "1");
    const manifest = JSON.parse(new TextDecoder().decode(m.bytes)) as { layers?: { size: number }[] };
    expect(manifest.layers?.length).toBeGreaterThan(0);
    expect(manifest.layers?.[0]?.size).toBeGreaterThan(0);
  });

  test("a loopback registry naming a plain-http token realm elsewhere: no credential goes there, the error says why", async () => {
    for (const n of names) {
      const t = newTrap(n);
      const fake = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: () =>
          new Response("", { status: 401, headers: { "www-authenticate": `Bearer realm="http://${t.host}/token",service="x"` } }),
      });
      servers.push(fake);
      const registry = `127.0.0.1:${fake.port}`;
      const client = new RegistryClient({ registry, auth, attempts: 1 });
      const err = await client.getManifest("a/b", "1").catch((e: Error) => e);
      expect(String((err as Error).message)).toContain(`plain http (http://${t.host})`);
      expect(t.received).toEqual([]);
    }
  });

  test("a registry sending an upload to a plain-http location elsewhere: the credential is not sent along", async () => {
    for (const n of names) {
      const t = newTrap(n);
      const fake = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch(req) {
          if (req.headers.get("authorization") !== `Basic ${basic}`)
            return new Response("", { status: 401, headers: { "www-authenticate": 'Basic realm="fake"' } });
          return new Response("", { status: 202, headers: { location: `http://${t.host}/v2/a/b/blobs/uploads/1` } });
        },
      });
      servers.push(fake);
      const client = new RegistryClient({ registry: `127.0.0.1:${fake.port}`, auth, attempts: 1 });
      const bytes = new TextEncoder().encode("hello");
      const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
      const err = await client.uploadBlob("a/b", { digest, size: bytes.length }, () => new Response(bytes).body!).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain("over plain http");
      expect(sawCredentials(t)).toBe(false);
    }
  });

  test("control: a registry configured as insecure on such a name does get its credentials over http", async () => {
    // The only way credentials go over plain http off loopback: the user said so for that registry.
    for (const n of names) {
      const t = newTrap(n);
      const client = new RegistryClient({ registry: t.host, auth, insecure: true, attempts: 1 });
      await client.ping().catch(() => undefined);
      expect(sawCredentials(t)).toBe(true);
    }
  });
});
