import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { entryChange, normalizeTarPath, parsePax, tarEntries, type TarEntry } from "../../../lib/containerd/tar-headers.ts";
import { rechunk } from "../../../lib/util/rechunk.ts";

const dir = mkdtempSync(join(tmpdir(), "seelie-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const long = `${"d".repeat(60)}/${"e".repeat(70)}/${"f".repeat(80)}`;
mkdirSync(join(dir, "root", long), { recursive: true });
writeFileSync(join(dir, "root", long, "file.txt"), "x".repeat(1000));
writeFileSync(join(dir, "root", "big"), new Uint8Array(1024 * 1024 + 3));
writeFileSync(join(dir, "root", ".wh.gone"), "");
symlinkSync("big", join(dir, "root", "link"));

async function listTar(format: string, chunk: number): Promise<TarEntry[]> {
  const p = Bun.spawn(["tar", "-C", join(dir, "root"), `--format=${format}`, "-cf", "-", "."], { stdout: "pipe" });
  const bytes = new Uint8Array(await new Response(p.stdout).arrayBuffer());
  const out: TarEntry[] = [];
  for await (const e of tarEntries(rechunk(new Blob([bytes]).stream(), chunk))) out.push(e);
  return out;
}

describe("tarEntries", () => {
  // GNU long names (type L) and PAX path records (type x); plain ustar cannot hold the 212-character name.
  for (const format of ["gnu", "pax"]) {
    for (const chunk of [1, 511, 512, 4096, 1 << 20]) {
      test(`${format} in chunks of ${chunk}`, async () => {
        const entries = await listTar(format, chunk);
        const byName = new Map(entries.map((e) => [normalizeTarPath(e.name), e]));
        expect(byName.get(`/${long}/file.txt`)).toMatchObject({ type: "0", size: 1000 });
        expect(byName.get("/big")).toMatchObject({ type: "0", size: 1024 * 1024 + 3 });
        expect(byName.get("/link")).toMatchObject({ type: "2", linkname: "big" });
        expect(byName.get(`/${long}`)?.type).toBe("5");
        expect(byName.has("/.wh.gone")).toBe(true);
      });
    }
  }
  test("empty stream", async () => {
    const out: TarEntry[] = [];
    for await (const e of tarEntries(rechunk(new Blob([new Uint8Array(1024)]).stream(), 100))) out.push(e);
    expect(out).toEqual([]);
  });
});

describe("parsePax", () => {
  test("records", () => {
    const rec = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let n = body.length + 1;
      while (String(n).length + body.length !== n) n++;
      return `${n}${body}`;
    };
    expect(parsePax(new TextEncoder().encode(rec("path", "a/b c") + rec("mtime", "1.5")))).toEqual({ path: "a/b c", mtime: "1.5" });
  });
});

describe("entryChange", () => {
  const e = (name: string, type = "0"): TarEntry => ({ name, type, size: 0, linkname: "" });
  const existing = new Set(["/etc", "/etc/passwd", "/tmp"]);
  const existed = (p: string) => existing.has(p);
  const cases: [string, TarEntry, ((p: string) => boolean) | undefined, ReturnType<typeof entryChange>][] = [
    ["new file", e("tmp/new"), existed, { path: "/tmp/new", kind: "added" }],
    ["modified file", e("etc/passwd"), existed, { path: "/etc/passwd", kind: "modified" }],
    ["dir with slash", e("etc/", "5"), existed, { path: "/etc", kind: "modified" }],
    ["dot prefix", e("./tmp/x"), existed, { path: "/tmp/x", kind: "added" }],
    ["whiteout", e("bin/.wh.ls"), existed, { path: "/bin/ls", kind: "deleted" }],
    ["whiteout at root", e(".wh.opt"), existed, { path: "/opt", kind: "deleted" }],
    ["opaque dir", e("var/cache/.wh..wh..opq"), existed, { path: "/var/cache", kind: "modified" }],
    ["root entry", e("./", "5"), existed, undefined],
    ["no lower info", e("etc/passwd"), undefined, { path: "/etc/passwd", kind: "added" }],
  ];
  for (const [name, entry, ex, want] of cases) test(name, () => expect(entryChange(entry, ex)).toEqual(want));
});
