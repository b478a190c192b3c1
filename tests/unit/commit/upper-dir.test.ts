/**
 * The upper-directory walk on a real directory made to look like an overlay upper dir (whiteouts
 * made with mknod c 0 0 and trusted.overlay.* attributes set as overlayfs sets them; needs root
 * with CAP_MKNOD and CAP_SYS_ADMIN, as the committer itself does — the test fails, not skips,
 * without them). The engines' use of real upper dirs is in tests/integration/commit/layer-tree.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingCapabilities, UpperDirUnusable, upperDirTar, walkUpperDir } from "../../../lib/commit/upper-dir.ts";
import { parseTar } from "../../helpers/pushed-image.ts";

let dir: string;
const run = (argv: string[]) => {
  const r = Bun.spawnSync(argv);
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()} (run the unit tests as root)`);
};
const setx = (path: string, name: string, value: string) =>
  run([
    "python3",
    "-c",
    `import os; os.setxattr(${JSON.stringify(path)}, ${JSON.stringify(name)}, bytes.fromhex(${JSON.stringify(Buffer.from(value, "latin1").toString("hex"))}), follow_symlinks=False)`,
  ]);
/** A valid file capability (VFS_CAP_REVISION_2, cap_net_bind_service): the kernel checks the format. */
const CAP = "0100000200040000000000000000000000000000";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "seelie-upper-"));
  const u = join(dir, "upper");
  mkdirSync(join(u, "etc/default"), { recursive: true });
  mkdirSync(join(u, "w"));
  writeFileSync(join(u, "w/a.txt"), "hello");
  linkSync(join(u, "w/a.txt"), join(u, "w/b.txt"));
  symlinkSync("/etc/hostname", join(u, "w/sym"));
  run(["mkfifo", join(u, "w/fifo")]);
  run(["python3", "-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(join(u, "w/s.sock"))})`]);
  run(["mknod", join(u, "etc/passwd"), "c", "0", "0"]);
  setx(join(u, "etc/default"), "trusted.overlay.opaque", "y");
  setx(join(u, "etc"), "trusted.overlay.impure", "y");
  writeFileSync(join(u, "etc/default/only"), "x");
  writeFileSync(join(u, "w/cap"), "c");
  setx(join(u, "w/cap"), "security.capability", Buffer.from(CAP, "hex").toString("latin1"));
  setx(join(u, "w/cap"), "user.note", "n");
  writeFileSync(join(u, "w/sparse"), "");
  truncateSync(join(u, "w/sparse"), 10 * 1024 * 1024);
  appendFileSync(join(u, "w/sparse"), "end");
  const r = join(dir, "redirect");
  mkdirSync(join(r, "moved"), { recursive: true });
  setx(join(r, "moved"), "trusted.overlay.redirect", "/orig");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tarOf = async (s: ReadableStream<Uint8Array>) => parseTar(new Uint8Array(await new Response(s).arrayBuffer()));

describe("walkUpperDir + upperDirTar", () => {
  test("OCI whiteouts, opaque marker, hard link, no socket, only kept xattrs, sparse file read whole", async () => {
    const walk = walkUpperDir(join(dir, "upper"));
    expect(walk.whiteouts).toBe(1);
    expect(walk.opaque).toBe(1);
    const entries = await tarOf(upperDirTar(walk));
    const by = new Map(entries.map((e) => [e.name, e]));
    // In the order of the names on disk (as Docker's own overlay2 diff walks them), whiteouts renamed.
    expect(entries.map((e) => e.name)).toEqual([
      "etc",
      "etc/default",
      "etc/default/.wh..wh..opq",
      "etc/default/only",
      "etc/.wh.passwd",
      "w",
      "w/a.txt",
      "w/b.txt",
      "w/cap",
      "w/fifo",
      "w/sparse",
      "w/sym",
    ]);
    expect(by.get("w/b.txt")).toMatchObject({ type: "1", linkname: "w/a.txt" });
    expect(by.get("w/fifo")?.type).toBe("6");
    expect(by.get("w/sym")).toMatchObject({ type: "2", linkname: "/etc/hostname" });
    expect(by.get("w/cap")?.xattrs).toHaveLength(1);
    expect(by.get("w/cap")?.xattrs[0]).toStartWith("security.capability=");
    expect(by.get("etc")?.xattrs).toEqual([]);
    expect(by.get("w/sparse")?.size).toBe(10 * 1024 * 1024 + 3);
  });

  test("a file that changes after the walk: reported, and the tar keeps the walked size", async () => {
    const walk = walkUpperDir(join(dir, "upper"));
    writeFileSync(join(dir, "upper/w/a.txt"), "hi");
    const changed: string[] = [];
    const entries = await tarOf(upperDirTar(walk, { onChanged: (p) => changed.push(p) }));
    expect(changed).toContain("/w/a.txt");
    expect(entries.find((e) => e.name === "w/a.txt")?.size).toBe(5);
    expect(entries.at(-1)?.name).toBe("w/sym");
  });

  test("overlay redirects: not usable (the caller falls back to the API)", () => {
    expect(() => walkUpperDir(join(dir, "redirect"))).toThrow(UpperDirUnusable);
    expect(() => walkUpperDir(join(dir, "redirect"))).toThrow(/trusted.overlay.redirect/);
  });

  test("a missing directory: not usable, with a hint", () => {
    expect(() => walkUpperDir(join(dir, "nope"))).toThrow(/not readable here/);
  });

  test("without CAP_SYS_ADMIN or CAP_DAC_READ_SEARCH: not usable (deleted files would come back)", () => {
    const caps = (hex: string) => `Name:\tx\nCapEff:\t${hex}\n`;
    expect(missingCapabilities(caps("000001ffffffffff"))).toBeUndefined();
    expect(missingCapabilities(caps("0000000000000000"))).toMatch(/CAP_SYS_ADMIN.*CAP_DAC_READ_SEARCH/);
    expect(missingCapabilities(caps("0000000000200002"))).toBeUndefined();
    expect(missingCapabilities(caps("0000000000000006"))).toMatch(/CAP_SYS_ADMIN/);
    expect(missingCapabilities("no caps")).toMatch(/unknown/);
    expect(() => walkUpperDir(join(dir, "upper"), () => caps("0"))).toThrow(UpperDirUnusable);
  });
});
