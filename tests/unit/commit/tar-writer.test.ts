import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TAR_END, tarHeader, tarPadding, type TarHeader } from "../../../lib/commit/tar-writer.ts";
import { parseTar } from "../../helpers/pushed-image.ts";

function tarOf(entries: (TarHeader & { data?: Uint8Array })[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    if (e.data) parts.push(e.data, tarPadding(e.data.length));
  }
  parts.push(TAR_END);
  return new Uint8Array(Buffer.concat(parts));
}

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000 };
const long = `${"d".repeat(120)}/${"f".repeat(90)}`;
const tooLong = `a/${"x".repeat(150)}`;
const cases: [string, TarHeader & { data?: Uint8Array }, Partial<ReturnType<typeof parseTar>[number]>][] = [
  [
    "a file with data",
    { ...base, name: "work/a.txt", type: "0", size: 5, data: new TextEncoder().encode("hello") },
    { name: "work/a.txt", type: "0", size: 5 },
  ],
  ["setuid + sticky modes", { ...base, name: "bin/x", type: "0", mode: 0o4755 }, { mode: 0o4755 }],
  ["a directory", { ...base, name: "work/", type: "5", mode: 0o1777 }, { name: "work", type: "5", mode: 0o1777 }],
  ["a whiteout", { ...base, name: "etc/.wh.passwd", type: "0", mode: 0o600 }, { name: "etc/.wh.passwd", type: "0" }],
  ["a symlink", { ...base, name: "l", type: "2", linkname: "/etc/hosts" }, { type: "2", linkname: "/etc/hosts" }],
  ["a hard link", { ...base, name: "h2", type: "1", linkname: "h1" }, { type: "1", linkname: "h1" }],
  ["a char device", { ...base, name: "dev/null", type: "3", devmajor: 1, devminor: 3 }, { type: "3", dev: "1,3" }],
  ["a FIFO", { ...base, name: "tmp/p", type: "6" }, { type: "6" }],
  ["a name split into prefix + name", { ...base, name: long, type: "0" }, { name: long }],
  ["a name too long for ustar (PAX path)", { ...base, name: tooLong, type: "0" }, { name: tooLong }],
  ["a non-ASCII name (PAX path)", { ...base, name: "données/é.txt", type: "0" }, { name: "données/é.txt" }],
  [
    "a long link target (PAX linkpath)",
    { ...base, name: "l2", type: "2", linkname: "/".repeat(1) + "t".repeat(200) },
    { linkname: `/${"t".repeat(200)}` },
  ],
  ["a big uid (PAX uid)", { ...base, name: "u", type: "0", uid: 10_000_000, gid: 5 }, { gid: 5 }],
  [
    "an xattr (PAX SCHILY.xattr)",
    { ...base, name: "cap", type: "0", xattrs: [["security.capability", new Uint8Array([1, 0, 0, 2])]] },
    { name: "cap" },
  ],
];

describe("tarHeader", () => {
  for (const [what, entry, want] of cases) {
    test(what, () => {
      const [got] = parseTar(tarOf([entry]));
      expect(got).toMatchObject(want);
    });
  }

  test("the xattr survives by name and value", () => {
    const [got] = parseTar(tarOf([{ ...base, name: "cap", type: "0", xattrs: [["security.capability", new TextEncoder().encode("v")]] }]));
    expect(got!.xattrs).toEqual([`security.capability=${Buffer.from("v").toString("hex")}`]);
  });

  test("GNU tar reads every case back (names, types, link targets)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "seelie-tarw-"));
    try {
      const file = join(dir, "t.tar");
      writeFileSync(file, tarOf(cases.map((c) => c[1])));
      const p = Bun.spawn(["tar", "-tvf", file], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(err).toBe("");
      expect(code).toBe(0);
      const lines = out.trim().split("\n");
      expect(lines.length).toBe(cases.length);
      expect(out).toContain(tooLong);
      expect(out).toContain("données/é.txt");
      expect(out).toContain("-rwsr-xr-x");
      expect(out).toContain("h2 link to h1");
      expect(out).toContain("10000000/5");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
