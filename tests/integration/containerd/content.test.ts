/** Content store writes and reads over the real containerd, with blobs past Bun's client-streaming hazard. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectContainerd, type ContainerdClient } from "../../../lib/containerd/client.ts";
import { contentInfo, readContent, writeContent } from "../../../lib/containerd/content.ts";
import { sha256Digest } from "../../../lib/registry/distribution.ts";
import { need } from "../../helpers/services.ts";

let c: ContainerdClient;
const lease = `seelie-test-content-${Date.now().toString(36)}`;

beforeAll(async () => {
  c = await connectContainerd({ socketPath: need("SEELIE_TEST_CONTAINERD_SOCK"), namespace: "k8s.io" });
  await c.leases.create({ id: lease, labels: { "containerd.io/gc.expire": new Date(Date.now() + 600_000).toISOString() } });
});
afterAll(async () => {
  await c.leases.delete({ id: lease, sync: true }).catch(() => undefined);
  c.close();
});

function blob(n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b.subarray(0, 65536));
  for (let i = 65536; i < n; i += 512) b[i] = (i / 512) & 255;
  return b;
}

const cases: [string, number, "bytes" | "stream-known" | "stream-unknown"][] = [
  ["empty", 0, "bytes"],
  ["small", 1000, "bytes"],
  ["20 MiB from bytes", 20 * 1024 * 1024 + 3, "bytes"],
  ["20 MiB from a stream, digest known", 20 * 1024 * 1024 + 5, "stream-known"],
  ["24 MiB from a stream, digest computed", 24 * 1024 * 1024 + 7, "stream-unknown"],
];
for (const [name, size, mode] of cases) {
  test(name, async () => {
    const data = blob(size);
    const digest = sha256Digest(data);
    const src = mode === "bytes" ? data : new Blob([data]).stream();
    const known = mode !== "stream-unknown";
    const r = await writeContent(c, src, {
      ref: `seelie-test-${name.replace(/\W+/g, "-")}-${Date.now()}`,
      digest: known ? digest : undefined,
      size: known ? size : undefined,
      call: c.leased(lease),
    });
    expect(r).toEqual({ digest, size });
    expect(Number((await contentInfo(c, digest))?.size)).toBe(size);
    expect(sha256Digest(await readContent(c, digest))).toBe(digest);
    // Writing it again counts as done.
    expect(await writeContent(c, data, { ref: `seelie-test-again-${Date.now()}`, digest, size, call: c.leased(lease) })).toEqual({
      digest,
      size,
    });
  }, 120_000);
}

test("a wrong expected digest is an error naming the ref", async () => {
  const data = blob(5000);
  const err = await writeContent(c, data, {
    ref: "seelie-test-wrong",
    digest: sha256Digest(blob(10)),
    size: 5000,
    call: c.leased(lease),
  }).catch((e) => e);
  expect(err.message).toContain("seelie-test-wrong");
});
