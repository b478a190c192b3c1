/**
 * The fast layer source (the overlay upper directory, walked by the committer) against the API
 * fallback (Docker: `docker commit` + `docker save`; containerd: the diff service), on real dockerd
 * and real containerd, on the python (Debian) image: deleted files and directories, an opaque
 * directory, hard links (new, and to a file of the image), a live socket and a FIFO, extended
 * attributes (security.capability, a user.* one), modes (setuid, sticky, 0600, owners), a sparse
 * file, a device node, symlinks, long and non-ASCII names. Each image is pulled back and its tree
 * listed from inside (python's os.lstat, hashes, xattrs): fast and fallback give the same tree,
 * and the fast path's layer carries OCI whiteouts and none of overlay's own attributes.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { dockerCli, need, sh, shOk, testRegistry, ctrPull, removeCtrContainers } from "../../helpers/services.ts";
import { ensureCommitterBuilt, runCommitter } from "../../helpers/committer.ts";
import { topLayerTree } from "../../helpers/pushed-image.ts";

setDefaultTimeout(600_000);
const RUN = `${process.pid}-${Date.now().toString(36)}`;
let reg: ReturnType<typeof testRegistry>;
let sock: string;
let python: string;
const dockerContainers: string[] = [];
const ctrContainers: string[] = [];
const pulled: string[] = [];

const ok = shOk;
const docker = (...a: string[]) => ok(dockerCli(...a));
const ctr = (...a: string[]) => ok(["ctr", "--address", sock, "-n", "k8s.io", ...a]);

const LONG = "d".repeat(120);
/** The changes, made as root in the running container. */
const SCENE = `set -e
rm -f /etc/debian_version
rm -rf /etc/apt/apt.conf.d
rm -rf /etc/default && mkdir /etc/default && echo only > /etc/default/only
mkdir -p /w/${LONG} /w/sub
echo h > /w/h1 && ln /w/h1 /w/h2 && ln /usr/bin/env /w/env-link
mkfifo /w/fifo
echo s > /w/suid && chmod 4755 /w/suid
mkdir /w/sticky && chmod 1777 /w/sticky
echo p > /w/private && chmod 0600 /w/private && chown 1234:5678 /w/private
dd if=/dev/zero of=/w/sparse bs=1 count=0 seek=50M 2>/dev/null && echo end >> /w/sparse
ln -s /etc/hostname /w/sym && ln -s ../nowhere /w/dangling
mknod /w/null c 1 3
echo deep > /w/${LONG}/données-ünïcode.txt
echo changed >> /etc/shells
python3 - <<'PY'
import os, socket
os.setxattr('/w/h1', 'user.note', b'kept-or-not')
os.setxattr('/w/suid', 'security.capability', bytes.fromhex('0100000200200000000000000000000000000000'))
s = socket.socket(socket.AF_UNIX); s.bind('/w/live.sock'); s.listen()
PY
`;

/** Lists a tree from inside an image (python, no network): one JSON line per path. */
const LIST = `
import os, sys, json, hashlib, stat
def walk(root):
    if not os.path.lexists(root):
        print(json.dumps({"path": root, "missing": True})); return
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in [d] + sorted(os.path.join(d, f) for f in files) + [os.path.join(d, x) for x in dirs if os.path.islink(os.path.join(d, x))]:
            st = os.lstat(n)
            e = {"path": n, "mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
            if stat.S_ISREG(st.st_mode):
                e["size"] = st.st_size; e["nlink"] = st.st_nlink
                e["sha256"] = hashlib.sha256(open(n, 'rb').read()).hexdigest()
            if stat.S_ISLNK(st.st_mode): e["link"] = os.readlink(n)
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode): e["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
            try: e["xattrs"] = sorted(x + "=" + os.getxattr(n, x, follow_symlinks=False).hex() for x in os.listxattr(n, follow_symlinks=False))
            except OSError: pass
            print(json.dumps(e))
for r in sys.argv[1:]: walk(r)
`;
const ROOTS = ["/w", "/etc/default", "/etc/apt", "/etc/debian_version", "/etc/shells"];

async function treeOf(image: string): Promise<string[]> {
  await docker("pull", "-q", image);
  pulled.push(image);
  const out = await docker("run", "--rm", "--network", "none", "--user", "0", "--entrypoint", "python3", image, "-c", LIST, ...ROOTS);
  return out.split("\n");
}

beforeAll(async () => {
  reg = testRegistry();
  sock = need("SEELIE_TEST_CONTAINERD_SOCK");
  python = need("SEELIE_TEST_PYTHON");
  await ensureCommitterBuilt();
  await docker("pull", "-q", python);
  await ctrPull(python, (a) => ctr(...a));
});

afterAll(async () => {
  for (const c of dockerContainers) await sh(dockerCli("rm", "-f", c));
  await removeCtrContainers(sock, "k8s.io", ctrContainers);
  for (const i of pulled) await sh(dockerCli("rmi", "-f", i));
});

async function commitBoth(containerArg: string[], runtime: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const source of ["upperdir", "api"]) {
    const target = `${reg.addr}/seelie-test/fastcommit-tree:${runtime}-${source}-${RUN}`;
    const r = await runCommitter([
      ...containerArg,
      "--image",
      target,
      "--docker-config",
      reg.dockerConfig,
      "--no-clean",
      "--layer-source",
      source,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.layerSource).toBe(source);
    out[source] = target;
  }
  return out;
}

async function expectSameTrees(images: Record<string, string>, runtime: string) {
  const fast = await treeOf(images.upperdir!);
  const api = await treeOf(images.api!);
  expect(fast).toEqual(api);
  const byPath = new Map(fast.map((l) => [JSON.parse(l).path as string, JSON.parse(l)]));
  // What the scene did, seen from inside the committed image.
  expect(byPath.get("/etc/debian_version")?.missing, runtime).toBe(true);
  expect(
    [...byPath.keys()].filter((p) => p.startsWith("/etc/apt/apt.conf.d")),
    runtime,
  ).toEqual([]);
  expect(
    [...byPath.keys()].filter((p) => p.startsWith("/etc/default")),
    runtime,
  ).toEqual(["/etc/default", "/etc/default/only"]);
  expect(byPath.get("/w/h1")?.nlink).toBe(2);
  expect(byPath.get("/w/h2")?.sha256).toBe(byPath.get("/w/h1")?.sha256);
  expect(byPath.get("/w/suid")?.mode).toBe("0o104755");
  expect(byPath.get("/w/suid")?.xattrs).toEqual(["security.capability=0100000200200000000000000000000000000000"]);
  expect(byPath.get("/w/sticky")?.mode).toBe("0o41777");
  expect([byPath.get("/w/private")?.mode, byPath.get("/w/private")?.uid, byPath.get("/w/private")?.gid]).toEqual(["0o100600", 1234, 5678]);
  expect(byPath.get("/w/sparse")?.size).toBe(50 * 1024 * 1024 + 4);
  expect(byPath.get("/w/fifo")?.mode).toBe("0o10644");
  expect(byPath.get("/w/null")?.rdev).toEqual([1, 3]);
  expect(byPath.get("/w/sym")?.link).toBe("/etc/hostname");
  expect(byPath.get(`/w/${LONG}/données-ünïcode.txt`)?.size).toBe(5);
  // Sockets are left out by dockerd's and containerd's diffs, and so by the upper-dir walk.
  expect(byPath.has("/w/live.sock")).toBe(false);

  const layer = await topLayerTree(images.upperdir!);
  const names = layer.map((e) => e.name);
  expect(names).toContain("etc/.wh.debian_version");
  expect(names).toContain("etc/apt/.wh.apt.conf.d");
  expect(names).toContain("etc/default/.wh..wh..opq");
  expect(layer.find((e) => e.name === "w/h2")).toMatchObject({ type: "1", linkname: "w/h1" });
  expect(layer.flatMap((e) => e.xattrs).filter((x) => /overlay/.test(x))).toEqual([]);
}

describe("upper directory vs API: the same file tree", () => {
  test("Docker (overlay2)", async () => {
    const id = await docker("run", "-d", "--network", "none", "--name", `seelie-fastcommit-tree-${RUN}`, python, "sleep", "100000");
    dockerContainers.push(id);
    await docker("exec", "-u", "0", id, "bash", "-c", SCENE);
    await expectSameTrees(await commitBoth(["--container-id", `docker://${id}`], "docker"), "docker");
  });

  test("containerd (overlayfs snapshotter)", async () => {
    const id = `seelie-fastcommit-tree-${RUN}`;
    await ctr("run", "-d", python, id, "sleep", "100000");
    ctrContainers.push(id);
    await ctr("task", "exec", "--exec-id", `scene-${RUN}`, id, "bash", "-c", SCENE);
    await expectSameTrees(
      await commitBoth(["--container-id", `containerd://${id}`, "--runtime-endpoint", `unix://${sock}`], "containerd"),
      "containerd",
    );
  });
});
