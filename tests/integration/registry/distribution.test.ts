/** The distribution API client against the real password-protected registry (and a second one it kills). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RegistryClient } from "../../../lib/registry/distribution.ts";
import { SeelieError } from "../../../lib/errors.ts";
import type { RegistryAuth } from "../../../lib/registry/credentials.ts";
import { testRegistry } from "../../helpers/services.ts";
import { extraRegistry } from "../../helpers/extra-registry.ts";
import { startTokenServer, type TokenServer } from "../../helpers/token-server.ts";

const reg = testRegistry();
const auth: RegistryAuth = { serveraddress: reg.addr, username: reg.user, password: reg.password, source: "the test's Docker config" };
const uniq = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const repo = (name: string) => `seelie-test/dist-${name}-${uniq}`;
const sha = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  return b;
}

/** A stream that hands out the bytes in small pieces, as a network or gRPC source would. */
function pieces(b: Uint8Array, size = 100_000): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (off >= b.length) return ctrl.close();
      ctrl.enqueue(b.slice(off, off + size));
      off += size;
    },
  });
}

describe("registry client (real registry)", () => {
  test("ping with the right password", async () => {
    await new RegistryClient({ registry: reg.addr, auth }).ping();
  });

  test("a refused password names the registry and where the credentials came from", async () => {
    const bad = new RegistryClient({ registry: reg.addr, auth: { ...auth, password: "wrong" } });
    const err = await bad.ping().catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(reg.addr);
    expect(err.message).toContain("the test's Docker config");
    expect(err.message).not.toContain("wrong");
    expect(err.hint).toContain("docker login");
  });

  test("no credentials at all", async () => {
    const err = await new RegistryClient({ registry: reg.addr }).blobSize(repo("anon"), sha(new Uint8Array(1))).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toMatch(/requires a login and no credentials/);
  });

  test("chunked upload of a 20 MiB blob, HEAD, GET back, mount into another repo", async () => {
    const data = randomBytes(20 * 1024 * 1024 + 5);
    const digest = sha(data);
    const c = new RegistryClient({ registry: reg.addr, auth, chunkSize: 4 * 1024 * 1024 });
    let opens = 0;
    const sent: number[] = [];
    await c.uploadBlob(
      repo("big"),
      { digest, size: data.length },
      () => {
        opens++;
        return pieces(data);
      },
      (n) => sent.push(n),
    );
    expect(opens).toBe(1);
    expect(sent.length).toBe(6); // 5 full chunks of 4 MiB + the rest
    expect(sent.at(-1)).toBe(data.length);
    expect(await c.blobSize(repo("big"), digest)).toBe(data.length);
    const back = new Uint8Array(await new Response(await c.getBlob(repo("big"), digest)).arrayBuffer());
    expect(sha(back)).toBe(digest);
    expect(await c.blobSize(repo("mounted"), digest)).toBeUndefined();
    expect(await c.mountBlob(repo("mounted"), digest, repo("big"))).toBe(true);
    expect(await c.blobSize(repo("mounted"), digest)).toBe(data.length);
  }, 60_000);

  test("upload of a stream of unknown digest and size (computed on the way), 20 MiB", async () => {
    const data = randomBytes(20 * 1024 * 1024 + 11);
    const c = new RegistryClient({ registry: reg.addr, auth, chunkSize: 4 * 1024 * 1024 });
    const r = await c.uploadStream(repo("stream"), () => pieces(data));
    expect(r).toEqual({ digest: sha(data), size: data.length });
    expect(await c.blobSize(repo("stream"), r.digest)).toBe(data.length);
  }, 60_000);

  test("upload of a stream whose source fails half-way: the source's error, not retried", async () => {
    const c = new RegistryClient({ registry: reg.addr, auth, attempts: 3, backoffMs: 10 });
    let opens = 0;
    const broken = () => {
      opens++;
      let sent = false;
      return new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (sent) return ctrl.error(new SeelieError("the source broke"));
          sent = true;
          ctrl.enqueue(randomBytes(1024 * 1024));
        },
      });
    };
    const err = await c.uploadStream(repo("broken"), broken).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toBe("the source broke");
    expect(opens).toBe(1);
  }, 30_000);

  test("mount of a blob the source repo lacks falls back (returns false)", async () => {
    const c = new RegistryClient({ registry: reg.addr, auth });
    expect(await c.mountBlob(repo("m2"), sha(randomBytes(10)), repo("nowhere"))).toBe(false);
  });

  test("a stream shorter than the announced size is an error", async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const c = new RegistryClient({ registry: reg.addr, auth, chunkSize: 1024 * 1024 });
    const err = await c.uploadBlob(repo("short"), { digest: sha(data), size: data.length + 10 }, () => pieces(data)).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toMatch(/expected/);
  });

  test("monolithic upload, manifest PUT and GET (Docker and OCI media types)", async () => {
    const c = new RegistryClient({ registry: reg.addr, auth });
    const layer = randomBytes(1000);
    const config = new TextEncoder().encode(
      JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha(layer)] } }),
    );
    for (const [flavour, mt, cfgMt, layerMt] of [
      [
        "docker",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar",
      ],
      [
        "oci",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
      ],
    ] as const) {
      const r = repo(`manifest-${flavour}`);
      await c.uploadBlob(r, { digest: sha(layer), size: layer.length }, () => new Blob([layer]).stream());
      await c.uploadBlob(r, { digest: sha(config), size: config.length }, () => new Blob([config]).stream());
      const manifest = new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: mt,
          config: { mediaType: cfgMt, digest: sha(config), size: config.length },
          layers: [{ mediaType: layerMt, digest: sha(layer), size: layer.length }],
        }),
      );
      const digest = await c.putManifest(r, "v1", mt, manifest);
      expect(digest).toBe(sha(manifest));
      const got = await c.getManifest(r, "v1");
      expect(got.mediaType).toBe(mt);
      expect(got.digest).toBe(digest);
      expect(sha(got.bytes)).toBe(digest);
    }
  });

  test("a manifest naming a missing blob is refused with a clear error", async () => {
    const c = new RegistryClient({ registry: reg.addr, auth });
    const missing = sha(randomBytes(8));
    const m = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: missing, size: 8 },
        layers: [],
      }),
    );
    const err = await c.putManifest(repo("bad-manifest"), "v1", "application/vnd.oci.image.manifest.v1+json", m).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain("refused the manifest");
  });
});

describe("retries", () => {
  const extra = extraRegistry(5000 + 100 + Math.floor(Math.random() * 800));
  afterAll(() => extra.dispose());

  test("a registry that is down: back-off, then an error naming it", async () => {
    const c = new RegistryClient({ registry: extra.addr, auth, attempts: 4, backoffMs: 100 });
    const t = performance.now();
    const err = await c.ping().catch((e) => e);
    const took = performance.now() - t;
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(extra.addr);
    expect(err.message).toContain("after 4 attempts");
    expect(took).toBeGreaterThanOrEqual(100 + 200 + 400 - 20);
  });

  test("a registry that comes up during the back-off: success", async () => {
    const c = new RegistryClient({ registry: extra.addr, auth, attempts: 6, backoffMs: 200 });
    const late = Bun.sleep(300).then(() => extra.start());
    await c.ping();
    await late;
    const data = randomBytes(1024);
    await c.uploadBlob(repo("late"), { digest: sha(data), size: data.length }, () => new Blob([data]).stream());
    expect(await c.blobSize(repo("late"), sha(data))).toBe(1024);
  }, 30_000);

  test("a registry killed in the middle of a chunked upload: retries, then a clear error", async () => {
    await extra.start();
    const c = new RegistryClient({ registry: extra.addr, auth, attempts: 3, backoffMs: 100, chunkSize: 1024 * 1024 });
    const data = randomBytes(8 * 1024 * 1024);
    let chunks = 0;
    const err = await c
      .uploadBlob(
        repo("killed"),
        { digest: sha(data), size: data.length },
        () => pieces(data),
        () => {
          if (++chunks === 2) void extra.kill();
        },
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(extra.addr);
    expect(err.message).toMatch(/after 3 attempts/);
  }, 30_000);

  test("a registry killed in the middle of a streamed upload: retries, then a clear error", async () => {
    await extra.start();
    const c = new RegistryClient({ registry: extra.addr, auth, attempts: 3, backoffMs: 100 });
    const data = randomBytes(16 * 1024 * 1024);
    let reads = 0;
    const err = await c
      .uploadStream(
        repo("killed-stream"),
        () => pieces(data),
        () => {
          if (++reads === 2) void extra.kill();
        },
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(extra.addr);
    expect(err.message).toMatch(/after 3 attempts/);
  }, 30_000);
});

describe("Bearer token auth (real registry with token auth, token server of the test)", () => {
  let tokens: TokenServer;
  let bearer: ReturnType<typeof extraRegistry>;

  beforeAll(async () => {
    tokens = await startTokenServer(reg.user, reg.password);
    bearer = extraRegistry(5000 + 100 + Math.floor(Math.random() * 800), {
      auth: `{ token: { realm: "${tokens.realm}", service: ${tokens.service}, issuer: ${tokens.issuer}, rootcertbundle: ${tokens.certPath} } }`,
    });
    await bearer.start();
  }, 30_000);
  afterAll(async () => {
    await bearer?.dispose();
    tokens?.stop();
  });

  test("upload, mount and read back with tokens for the right scopes", async () => {
    const c = new RegistryClient({ registry: bearer.addr, auth });
    await c.ping();
    const data = randomBytes(3 * 1024 * 1024);
    await c.uploadBlob(repo("bearer"), { digest: sha(data), size: data.length }, () => pieces(data));
    expect(await c.blobSize(repo("bearer"), sha(data))).toBe(data.length);
    expect(await c.mountBlob(repo("bearer-2"), sha(data), repo("bearer"))).toBe(true);
    expect(tokens.requests).toContainEqual([`repository:${repo("bearer")}:pull,push`]);
    expect(tokens.requests).toContainEqual([`repository:${repo("bearer-2")}:pull,push`, `repository:${repo("bearer")}:pull`]);
    const back = new Uint8Array(await new Response(await c.getBlob(repo("bearer-2"), sha(data))).arrayBuffer());
    expect(sha(back)).toBe(sha(data));
  }, 30_000);

  test("the token server refusing the password: clear error naming the registry and the source", async () => {
    const c = new RegistryClient({ registry: bearer.addr, auth: { ...auth, password: "wrong" } });
    const err = await c.blobSize(repo("bearer"), sha(new Uint8Array(1))).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(bearer.addr);
    expect(err.message).toContain("the test's Docker config");
    expect(err.message).not.toContain("wrong");
  });
});
