import { describe, expect, test } from "bun:test";
import {
  cacheDirs,
  hasCacheFiles,
  hasRecentTmp,
  chunkArgs,
  homesFromPasswd,
  homesUnderHome,
  parseKept,
  parseListing,
  parseStatLines,
  planCleanup,
  shQuote,
  writtenPaths,
  type StatEntry,
} from "../../../lib/commit/cleanup-plan.ts";

const NOW = 1_800_000_000;
const H = 3600;
const f = (path: string, ageH: number, kind: StatEntry["kind"] = "file", size = 10): StatEntry => ({
  path,
  ctime: NOW - ageH * H,
  size,
  kind,
});

describe("homesFromPasswd", () => {
  const cases: [string, string[]][] = [
    ["", ["/root"]],
    ["root:x:0:0:root:/root:/bin/sh", ["/root"]],
    [
      "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice/:/bin/sh\n# c\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\nd:x:1:1::/:/bin/false\nbad-line",
      ["/root", "/home/alice"],
    ],
    ["svc:x:5:5::relative:/bin/sh\njovyan:x:1000:100::/home/jovyan:/bin/bash", ["/root", "/home/jovyan"]],
  ];
  for (const [passwd, want] of cases) test(JSON.stringify(passwd.slice(0, 40)), () => expect(homesFromPasswd(passwd)).toEqual(want));
});

describe("cacheDirs", () => {
  const cases: [string[], string[], string[]][] = [
    [["/root"], [], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"]],
    [
      ["/root", "/home/a"],
      ["PIP_CACHE_DIR=/opt/pip//"],
      ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip", "/home/a/.cache/pip", "/opt/pip"],
    ],
    [["/root"], ["PIP_CACHE_DIR=relative"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"]],
    [["/root"], ["PIP_CACHE_DIR=/"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"]],
    [["/root"], ["PIP_CACHE_DIR=/root/.cache/pip"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"]],
    // An arbitrary uid with HOME only in the container's environment (OpenShift).
    [["/root"], ["HOME=/opt/app-root/src/"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip", "/opt/app-root/src/.cache/pip"]],
    [["/root"], ["HOME=/"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"]],
    [["/root"], ["HOME=relative"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"]],
    [["/root"], ["XDG_CACHE_HOME=/cache"], ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip", "/cache/pip"]],
  ];
  for (const [homes, env, want] of cases) test(`${homes} ${env}`, () => expect(cacheDirs(homes, env)).toEqual(want));
});

describe("writtenPaths", () => {
  test("added and modified paths of the writable layer; deletions are not written files", () => {
    const w = writtenPaths([
      { path: "/tmp", kind: "modified" },
      { path: "/tmp/new", kind: "added" },
      { path: "/var/lib/apt/lists/x_Packages", kind: "modified" },
      { path: "/tmp/gone", kind: "deleted" },
      { path: "/home/u//.cache/pip/a", kind: "added" },
    ]);
    expect([...w.added]).toEqual(["/tmp/new", "/home/u/.cache/pip/a"]);
    expect([...w.modified]).toEqual(["/tmp", "/var/lib/apt/lists/x_Packages"]);
  });
});

describe("homesUnderHome", () => {
  test("the /home/* users whose pip cache the listing found, in /etc/passwd or not", () => {
    expect(
      homesUnderHome([
        f("/home/u1001/.cache/pip/http/a", 1),
        f("/home/u1001/.cache/pip/b", 1),
        f("/home/x/.cache/other", 1),
        f("/home/y/.cache/pip/c", 1),
        f("/tmp/home/z/.cache/pip/d", 1),
      ]),
    ).toEqual(["/home/u1001", "/home/y"]);
  });
});

describe("hasCacheFiles", () => {
  const dirs = ["/var/lib/apt/lists", "/root/.cache/pip"];
  const cases: [string, StatEntry[], boolean][] = [
    ["nothing", [], false],
    ["only directories", [f("/var/lib/apt/lists/partial", 1, "dir")], false],
    ["the cache dir itself", [f("/root/.cache/pip", 1, "dir")], false],
    ["a file", [f("/var/lib/apt/lists/l", 1000)], true],
    ["a socket only", [f("/root/.cache/pip/s", 1, "socket")], false],
    ["a file elsewhere", [f("/work/x", 1)], false],
  ];
  for (const [name, stats, want] of cases) test(name, () => expect(hasCacheFiles(stats, dirs)).toBe(want));
});

describe("parseStatLines", () => {
  const cases: [string, StatEntry[]][] = [
    ["", []],
    ["1700000000 12 81a4 /tmp/a b", [{ ctime: 1700000000, size: 12, kind: "file", path: "/tmp/a b" }]],
    [
      "1 0 41ed /tmp/d\n2 0 c1ed /tmp/s\n3 0 11a4 /tmp/p\n4 5 a1ff /tmp/l\n5 0 21a4 /dev/x",
      [
        { ctime: 1, size: 0, kind: "dir", path: "/tmp/d" },
        { ctime: 2, size: 0, kind: "socket", path: "/tmp/s" },
        { ctime: 3, size: 0, kind: "fifo", path: "/tmp/p" },
        { ctime: 4, size: 5, kind: "symlink", path: "/tmp/l" },
        { ctime: 5, size: 0, kind: "other", path: "/dev/x" },
      ],
    ],
    // The second line of a name with a newline does not parse: that file is kept.
    ["1 1 81a4 /tmp/a\nb\nstat: can't stat '/tmp/x': No such file", [{ ctime: 1, size: 1, kind: "file", path: "/tmp/a" }]],
  ];
  for (const [text, want] of cases) test(JSON.stringify(text.slice(0, 30)), () => expect(parseStatLines(text)).toEqual(want));
});

describe("parseListing / parseKept / shQuote / chunkArgs", () => {
  test("listing", () => {
    expect(parseListing("1700000000\n--seelie--\nroot:x:0:0::/root:/bin/sh\n--seelie--\n1 2 81a4 /tmp/a\n")).toEqual({
      now: 1700000000,
      passwd: "root:x:0:0::/root:/bin/sh\n",
      stats: [{ ctime: 1, size: 2, kind: "file", path: "/tmp/a" }],
    });
    expect(parseListing("oops")).toEqual({ now: undefined, passwd: "", stats: [] });
  });
  test("kept", () => expect([...parseKept("kept /tmp/a\nnoise\nkept /tmp/b c\n")]).toEqual(["/tmp/a", "/tmp/b c"]));
  test("quote", () => expect(shQuote("it's")).toBe(`'it'\\''s'`));
  test("chunks", () => {
    expect(chunkArgs([], 10)).toEqual([]);
    expect(chunkArgs(["aaaa", "bbbb", "cccc"], 10)).toEqual([["aaaa", "bbbb"], ["cccc"]]);
    expect(chunkArgs(["a".repeat(20)], 10)).toEqual([["a".repeat(20)]]);
  });
});

describe("planCleanup", () => {
  const dirs = ["/var/cache/apt", "/var/lib/apt/lists", "/root/.cache/pip"];
  const cases: {
    name: string;
    stats: StatEntry[];
    added: string[];
    modified?: string[];
    files: string[];
    dirs?: string[];
    image?: string[];
  }[] = [
    { name: "recent /tmp file the container wrote goes", stats: [f("/tmp/a", 1)], added: ["/tmp/a"], files: ["/tmp/a"] },
    {
      name: "an mtime in the past does not matter: ctime is recent",
      stats: [f("/tmp/old-mtime", 0.1)],
      added: ["/tmp/old-mtime"],
      files: ["/tmp/old-mtime"],
    },
    { name: "written more than 48 h ago stays", stats: [f("/tmp/old", 49)], added: ["/tmp/old"], files: [] },
    { name: "just inside 48 h goes", stats: [f("/tmp/edge", 47.9)], added: ["/tmp/edge"], files: ["/tmp/edge"] },
    { name: "a file the image carried stays", stats: [f("/tmp/image", 1)], added: [], files: [] },
    {
      name: "an image /tmp file the container modified stays",
      stats: [f("/tmp/image", 1)],
      added: [],
      modified: ["/tmp/image"],
      files: [],
    },
    {
      name: "live socket and FIFO stay",
      stats: [f("/tmp/s", 1, "socket"), f("/tmp/p", 1, "fifo")],
      added: ["/tmp/s", "/tmp/p"],
      files: [],
    },
    { name: "symlink goes (not its target)", stats: [f("/tmp/l", 1, "symlink")], added: ["/tmp/l"], files: ["/tmp/l"] },
    { name: "outside /tmp stays even if added", stats: [f("/work/x", 1)], added: ["/work/x"], files: [] },
    {
      name: "cache files the container wrote go, whatever their age",
      stats: [f("/var/cache/apt/archives/x.deb", 1000), f("/var/lib/apt/lists/l", 1), f("/root/.cache/pip/http/a", 5000)],
      added: ["/var/cache/apt/archives/x.deb", "/root/.cache/pip/http/a"],
      modified: ["/var/lib/apt/lists/l"],
      files: ["/root/.cache/pip/http/a", "/var/cache/apt/archives/x.deb", "/var/lib/apt/lists/l"],
    },
    {
      name: "cache files that came with the image stay (a whiteout sheds nothing), and are reported",
      stats: [
        f("/var/lib/apt/lists/deb_Packages", 1, "file", 50_000_000),
        f("/var/lib/apt/lists/new_Packages", 1, "file", 7),
        f("/var/lib/apt/lists/partial", 1, "dir"),
      ],
      added: ["/var/lib/apt/lists/new_Packages"],
      files: ["/var/lib/apt/lists/new_Packages"],
      dirs: [],
      image: ["/var/lib/apt/lists/deb_Packages"],
    },
    {
      name: "a socket in a cache stays; added cache sub-dirs are rmdir'ed deepest first",
      stats: [f("/root/.cache/pip/s", 1, "socket"), f("/root/.cache/pip/http", 1, "dir"), f("/root/.cache/pip/http/x", 1, "dir")],
      added: ["/root/.cache/pip/s", "/root/.cache/pip/http", "/root/.cache/pip/http/x"],
      files: [],
      dirs: ["/root/.cache/pip/http/x", "/root/.cache/pip/http"],
    },
    {
      name: "a cache sub-dir of the image stays",
      stats: [f("/root/.cache/pip/http", 1, "dir")],
      added: [],
      modified: ["/root/.cache/pip/http"],
      files: [],
      dirs: [],
    },
    { name: "the cache dir itself stays", stats: [f("/var/cache/apt", 1, "dir")], added: ["/var/cache/apt"], files: [], dirs: [] },
    {
      name: "dirs the container added under /tmp recently are rmdir candidates",
      stats: [f("/tmp/d", 1, "dir"), f("/tmp/d/e", 1, "dir"), f("/tmp/old-d", 100, "dir")],
      added: ["/tmp/d", "/tmp/d/e", "/tmp/old-d"],
      files: [],
      dirs: ["/tmp/d/e", "/tmp/d"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plan = planCleanup({
        stats: c.stats,
        cacheDirs: dirs,
        written: { added: new Set(c.added), modified: new Set(c.modified ?? []) },
        now: NOW,
      });
      expect(plan.files.map((x) => x.path)).toEqual(c.files);
      if (c.dirs) expect(plan.dirs).toEqual(c.dirs);
      if (c.image) expect(plan.imageFiles.map((x) => x.path)).toEqual(c.image);
    });
  }
});

describe("hasRecentTmp", () => {
  const cases: [string, StatEntry[], boolean][] = [
    ["nothing", [], false],
    ["/tmp itself does not count", [f("/tmp", 1, "dir")], false],
    ["a recent file", [f("/tmp/a", 1)], true],
    ["only old files", [f("/tmp/a", 49)], false],
    ["only live sockets/FIFOs", [f("/tmp/s", 1, "socket"), f("/tmp/p", 1, "fifo")], false],
    ["recent cache file is not /tmp", [f("/var/cache/apt/x", 1)], false],
  ];
  for (const [name, stats, want] of cases) test(name, () => expect(hasRecentTmp(stats, NOW)).toBe(want));
});
