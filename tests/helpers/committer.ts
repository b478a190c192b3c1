/**
 * Shared by the committer's integration tests and benchmark: the compiled executable (built when
 * absent) and a way to run it.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const COMMITTER = join(ROOT, "dist/seelie-committer");

/** The newest modification time (ms) of the sources the committer is compiled from. */
function newestSource(): number {
  let newest = statSync(join(ROOT, "package.json")).mtimeMs;
  for (const dir of ["bin", "lib"]) {
    for (const f of readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })) {
      if (f.endsWith(".ts")) newest = Math.max(newest, statSync(join(ROOT, dir, f)).mtimeMs);
    }
  }
  return newest;
}

/** Builds dist/seelie-committer with `bun run build:committer` unless it is there and newer than its sources. */
export async function ensureCommitterBuilt(): Promise<string> {
  const built = statSync(COMMITTER, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built > newestSource()) return COMMITTER;
  const p = Bun.spawn(["bun", "run", "build:committer"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`bun run build:committer failed: ${err}`);
  return COMMITTER;
}

/** The result of one committer run. */
export interface CommitterRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The parsed `-o json` document, when stdout held one. */
  json?: {
    image: string;
    digest: string;
    size: number;
    layers: number;
    runtime: string;
    containerId: string;
    layerSource?: string;
    compression?: string;
    cleanup: { skipped: boolean; reason?: string; files: number; bytes: number; removed: string[] };
    timings: Record<string, number>;
  };
}

/** Runs the compiled committer with `args` (and `-o json`), returning exit code, output and the parsed result. */
export async function runCommitter(args: string[], env: Record<string, string> = {}): Promise<CommitterRun> {
  const p = Bun.spawn([COMMITTER, ...args, "-o", "json"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  let json: CommitterRun["json"];
  try {
    json = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}

/** Real changes in a running busybox container (run with `sh -c`). */
export const SETUP_BUSYBOX = `
set -e
mkdir -p /tmp/newdir/sub /work /var/cache/apt/archives /var/lib/apt/lists/partial /root/.cache/pip/http
echo scratch > /tmp/new1
echo deep > /tmp/newdir/sub/new2
echo old > /tmp/old-mtime && touch -d "2001-01-01 00:00:00" /tmp/old-mtime
mkdir -p /src/tarred && echo t > /src/tarred/t.txt && touch -d "2003-03-03 00:00:00" /src/tarred/t.txt
tar -C /src -cf /src/t.tar tarred && tar -C /tmp -xf /src/t.tar && rm -rf /src
mkfifo /tmp/live.fifo
echo "my notebook" > /work/notebook.txt
dd if=/dev/urandom of=/work/big.bin bs=1M count=20 2>/dev/null
echo deb > /var/cache/apt/archives/pkg_1.0_amd64.deb
echo list > /var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease
echo wheel > /root/.cache/pip/http/abc
`;

/** What the committer removes from a container after SETUP_BUSYBOX. */
export const BUSYBOX_REMOVED = [
  "/root/.cache/pip/http/abc",
  "/tmp/new1",
  "/tmp/newdir/sub/new2",
  "/tmp/old-mtime",
  "/tmp/tarred/t.txt",
  "/var/cache/apt/archives/pkg_1.0_amd64.deb",
  "/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
];

/** Checks, in the image pulled back after SETUP_BUSYBOX; prints exactly BUSYBOX_IMAGE_OUT. */
export const BUSYBOX_IMAGE_CHECK = [
  "cat /work/notebook.txt",
  "stat -c %s /work/big.bin",
  "cat /tmp/image-file /tmp/image-dir/f",
  "for p in /tmp/new1 /tmp/newdir /tmp/old-mtime /tmp/tarred /var/cache/apt/archives/pkg_1.0_amd64.deb /root/.cache/pip/http/abc; do [ -e $p ] && echo LEFT $p; done",
  "ls /var/lib/apt/lists",
  "test -p /tmp/live.fifo && echo fifo",
  "true",
].join("; ");
export const BUSYBOX_IMAGE_OUT = ["my notebook", String(20 * 1024 * 1024), "carried", "c2", "fifo"];

/** Real changes in a running python (Debian) container started with PIP_CACHE_DIR=/opt/pipcache. */
export const PYTHON_SETUP = `set -e
useradd -m alice
mkdir -p /home/alice/.cache/pip/wheels /root/.cache/pip/http /opt/pipcache/x /var/lib/apt/lists /var/cache/apt /home/alice/project
echo w > /home/alice/.cache/pip/wheels/a.whl; echo h > /root/.cache/pip/http/b; echo p > /opt/pipcache/x/c
echo l > /var/lib/apt/lists/l_Packages; echo c > /var/cache/apt/pkgcache.bin
echo "import torch" > /home/alice/project/train.py
echo tmp > /tmp/py-scratch`;

/** Paths the committer must remove after PYTHON_SETUP, and nothing else: the image's own apt lists stay. */
export const PYTHON_REMOVED = [
  "/home/alice/.cache/pip/wheels/a.whl",
  "/opt/pipcache/x/c",
  "/root/.cache/pip/http/b",
  "/tmp/py-scratch",
  "/var/cache/apt/pkgcache.bin",
  "/var/lib/apt/lists/l_Packages",
];
/** Their bytes: all in the container's writable layer, so exactly what the new layer sheds. */
export const PYTHON_REMOVED_BYTES = 14;

/** The python socket server run in the background: a live unix socket in /tmp, like Jupyter's. */
export const PYTHON_SOCKET_SERVER = [
  "python3",
  "-c",
  "import socket,time; s=socket.socket(socket.AF_UNIX); s.bind('/tmp/jupyter.sock'); s.listen(); time.sleep(100000)",
];

/** The cache files the python base image itself carries (its apt lists): run in the base image, they must all still be there after the clean-up. */
export const PYTHON_CACHE_FILES =
  "find /home/alice/.cache/pip /root/.cache/pip /opt/pipcache /var/lib/apt/lists /var/cache/apt -type f 2>/dev/null | sort; true";
/** The python image's check after PYTHON_SETUP: prints the user's file, then exactly the base image's PYTHON_CACHE_FILES. */
export const PYTHON_IMAGE_CHECK = `cat /home/alice/project/train.py; ${PYTHON_CACHE_FILES}; test -e /tmp/py-scratch && echo LEFT; true`;

/** An arbitrary uid, as OpenShift runs pods: in no /etc/passwd, its HOME set only in the container's environment. */
export const ARBITRARY_UID = "1000740000";
export const UID_HOME = "/opt/app-home";
/** Run as root first: the home directories the uid may write (as an image made for arbitrary uids has them). */
export const UID_ROOT_SETUP = `set -e; mkdir -p ${UID_HOME} /home/ghost; chown ${ARBITRARY_UID}:0 ${UID_HOME} /home/ghost`;
/** Run as the uid: a pip cache in $HOME and in a /home/* directory of no passwd user, and work that stays. */
export const UID_SETUP = `set -e
test "$(id -u)" = ${ARBITRARY_UID}
test "$HOME" = ${UID_HOME}
if grep -q ":${ARBITRARY_UID}:" /etc/passwd; then echo "uid in passwd"; exit 1; fi
mkdir -p "$HOME/.cache/pip/http/a" /home/ghost/.cache/pip/wheels "$HOME/work"
head -c 3000 /dev/urandom > "$HOME/.cache/pip/http/a/b"
head -c 2000 /dev/urandom > /home/ghost/.cache/pip/wheels/w.whl
echo "my notebook" > "$HOME/work/notebook.txt"`;
/** What the committer removes after UID_SETUP, and their bytes. */
export const UID_REMOVED = [`${UID_HOME}/.cache/pip/http/a/b`, "/home/ghost/.cache/pip/wheels/w.whl"];
export const UID_REMOVED_BYTES = 5000;
/** Checks the pushed image after UID_SETUP: prints only the notebook. */
export const UID_IMAGE_CHECK = `cat ${UID_HOME}/work/notebook.txt; find ${UID_HOME}/.cache /home/ghost/.cache -type f; true`;
