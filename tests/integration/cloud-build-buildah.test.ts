/**
 * The Buildah variant of the in-cluster build, for real: the Pod's two containers run here with the
 * exact command lines of the rendered Pod (volume mounts stood in for by local directories):
 *   1. prepare — the compiled seelie CLI (what the seelie-tools image carries) checks the project and
 *      writes the Dockerfile into the scratch directory;
 *   2. build — Debian's buildah (vfs storage, chroot isolation) builds and pushes to the registry with
 *      htpasswd, using the registry Secret's .dockerconfigjson as its auth file, restricted to the
 *      container's securityContext (capability bounding set SETUID SETGID SETFCAP, no_new_privs).
 * The pushed image is pulled back with /usr/bin/docker and run to check its content.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { renderBuildPod } from "../../lib/cloud-build/pod.ts";
import { DEFAULT_BUILDER_IMAGES, REGISTRY_AUTH_DIR, SCRATCH_DIR, VOLUME_MOUNT } from "../../lib/cloud-build/tools.ts";
import type { CloudBuildInputs } from "../../lib/cloud-build/types.ts";
import { containerArgv, containerEnv, setprivFor } from "../helpers/pod-local.ts";
import { dockerCli, need, sh } from "../helpers/services.ts";

const ROOT = join(import.meta.dir, "../..");
let work: string;
let seelieBin: string;
const pushed: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "seelie-cloud-build-"));
  seelieBin = join(work, "bin", "seelie");
  // The prepare init container runs the compiled CLI (bun run build:cli), as the seelie-tools image does.
  const r = await sh(["bun", "build", "--compile", "bin/seelie.ts", "--outfile", seelieBin], { cwd: ROOT });
  if (r.code !== 0) throw new Error(`bun build --compile failed: ${r.stderr}`);
});

afterAll(async () => {
  for (const img of pushed) await sh(dockerCli("rmi", "-f", img));
  rmSync(work, { recursive: true, force: true });
});

/** A wheel of a one-module package, made here (no PyPI): the requirement the image must install. */
async function makeWheel(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const name = "seelie_demo-0.1-py3-none-any.whl";
  const py = `
import base64, hashlib, zipfile, sys
files = {
  "seelie_demo.py": b"VALUE = 'from-the-wheel'\\n",
  "seelie_demo-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: seelie-demo\\nVersion: 0.1\\n",
  "seelie_demo-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: seelie-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
rec = ""
for n, data in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    rec += f"{n},sha256={h},{len(data)}\\n"
rec += "seelie_demo-0.1.dist-info/RECORD,,\\n"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for n, data in files.items(): z.writestr(n, data)
    z.writestr("seelie_demo-0.1.dist-info/RECORD", rec)
`;
  // python3 from the test's Python base image, so the host needs none
  const r = await sh(dockerCli("run", "--rm", "-v", `${dir}:/out`, need("SEELIE_TEST_PYTHON"), "python3", "-c", py, `/out/${name}`));
  if (r.code !== 0) throw new Error(r.stderr);
  return name;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Sets up the stand-in directories for the Pod's volumes and runs one container of the Pod. */
class LocalPod {
  readonly volume: string;
  readonly scratch: string;
  readonly auth: string;
  readonly storage: string;
  readonly terminationLog: string;
  readonly mounts: Record<string, string>;

  constructor(readonly inputs: CloudBuildInputs, tag: string) {
    const base = join(work, tag);
    this.volume = join(base, "volume");
    this.scratch = join(base, "scratch");
    this.auth = join(base, "registry-auth");
    this.storage = join(base, "containers");
    this.terminationLog = join(base, "termination-log");
    for (const d of [this.volume, this.scratch, this.auth, this.storage]) mkdirSync(d, { recursive: true });
    // The Secret volume: its .dockerconfigjson key appears as config.json (what `kubectl create secret docker-registry` stores).
    cpSync(join(need("SEELIE_TEST_DOCKER_CONFIG"), "config.json"), join(this.auth, "config.json"));
    this.mounts = { [VOLUME_MOUNT]: this.volume, [SCRATCH_DIR]: this.scratch, [REGISTRY_AUTH_DIR]: this.auth, "/var/lib/containers": this.storage };
  }

  get pod() {
    return renderBuildPod(this.inputs);
  }

  async prepare(): Promise<Run> {
    const c = this.pod.spec.initContainers[0]!;
    const env = containerEnv(c, this.mounts);
    const argv = containerArgv(c, env, this.mounts);
    expect(argv.slice(0, 3)).toEqual(["seelie", "image", "prepare"]);
    return sh([seelieBin, ...argv.slice(1)], { env: { ...env, HOME: work, SEELIE_CONFIG: join(work, "none.yaml") } });
  }

  async build(): Promise<Run> {
    const c = this.pod.spec.containers[0]!;
    const env = containerEnv(c, this.mounts);
    // With the Pod's capabilities only (SETUID SETGID SETFCAP) and no_new_privs, as the kubelet would start it.
    const argv = [...setprivFor(c), ...containerArgv(c, env, this.mounts)];
    const p = Bun.spawn(argv, {
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: work, ...env, TERMINATION_LOG: this.terminationLog },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  }
}

function inputs(over: Partial<CloudBuildInputs>): CloudBuildInputs {
  return {
    tool: "buildah",
    baseImage: need("SEELIE_TEST_PYTHON"),
    context: { pvc: "ml-projects" },
    contextSubpath: "alice/proj",
    registrySecret: "regcred",
    image: `${need("SEELIE_TEST_REGISTRY")}/seelie/cloud-build-test:${Date.now().toString(36)}`,
    namespace: "default",
    builderImage: DEFAULT_BUILDER_IMAGES.buildah,
    toolsImage: "unused.example.com/seelie-tools:0",
    allowedBaseImages: [`${need("SEELIE_TEST_REGISTRY")}/seelie/`],
    name: "seelie-build-buildah",
    ...over,
  };
}

const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

test("the commands run below are exactly those of pods/cloud-build/buildah.yaml", () => {
  const template = parse(readFileSync(join(ROOT, "pods/cloud-build/buildah.yaml"), "utf8"));
  const pod = renderBuildPod(inputs({}));
  expect(pod.spec.containers[0]!.command).toEqual(template.spec.containers[0].command);
  expect(pod.spec.containers[0]!.securityContext).toEqual(template.spec.containers[0].securityContext);
  expect(pod.spec.initContainers[0]!.command).toEqual(template.spec.initContainers[0].command);
  expect(pod.spec.initContainers[0]!.args).toEqual(template.spec.initContainers[0].args);
  // only the parameter values differ: the variable names are the template's
  const names = (c: { env?: { name: string }[] }) => c.env!.map((e) => e.name);
  expect(names(pod.spec.containers[0]!)).toEqual(names(template.spec.containers[0]));
});

describe("Buildah build Pod, run for real", () => {
  test("generated Dockerfile: build_script.sh, then the local-wheel requirement; pushed with the Secret's auth, pulled back and run", async () => {
    const lp = new LocalPod(inputs({}), "generated");
    const proj = join(lp.volume, "alice/proj");
    mkdirSync(proj, { recursive: true });
    writeFileSync(join(proj, "ml.flag"), "");
    writeFileSync(join(proj, "train.py"), "print('training')\n");
    writeFileSync(join(proj, "build_script.sh"), "#!/bin/sh\nset -e\necho built-by-script > /workspace/code/from_build_script.txt\n", { mode: 0o755 });
    const wheel = await makeWheel(join(proj, "wheels"));
    writeFileSync(join(proj, "requirements.txt"), `./wheels/${wheel}\n`);
    // .dockerignore in the project is honoured although the Dockerfile comes from the scratch volume
    writeFileSync(join(proj, ".dockerignore"), "local-secrets.env\n");
    writeFileSync(join(proj, "local-secrets.env"), "TOKEN=do-not-ship\n");
    const before = listing(lp.volume);

    const prep = await lp.prepare();
    expect(prep.code, prep.stderr).toBe(0);
    expect(readFileSync(join(lp.scratch, "Dockerfile"), "utf8")).toStartWith(`FROM ${need("SEELIE_TEST_PYTHON")}\n`);

    const t0 = performance.now();
    const build = await lp.build();
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    expect(build.code, `${build.stdout}\n${build.stderr}`).toBe(0);
    pushed.push(lp.inputs.image);
    const digest = /seelie-digest: (sha256:[0-9a-f]{64})/.exec(build.stdout)?.[1];
    expect(digest).toBeDefined();
    expect(readFileSync(lp.terminationLog, "utf8")).toBe(digest!);
    process.stderr.write(`[buildah] build+push of the python project took ${seconds}s (vfs, chroot)\n`);

    // Nothing was written into the user's storage.
    expect(listing(lp.volume)).toEqual(before);

    const pull = await sh(dockerCli("pull", lp.inputs.image));
    expect(pull.code, pull.stderr).toBe(0);
    const repoDigests = await sh(dockerCli("image", "inspect", "--format", "{{json .RepoDigests}}", lp.inputs.image));
    expect(repoDigests.stdout).toContain(digest!);
    const run = await sh(
      dockerCli("run", "--rm", lp.inputs.image, "sh", "-c", "pwd; ls /workspace/code; cat /workspace/code/from_build_script.txt; python3 -c 'import seelie_demo; print(seelie_demo.VALUE)'"),
    );
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout.split("\n");
    expect(out[0]).toBe("/workspace");
    for (const f of ["ml.flag", "train.py", "build_script.sh", "requirements.txt", "wheels", "from_build_script.txt"]) expect(out).toContain(f);
    expect(out).not.toContain("local-secrets.env");
    expect(out).toContain("built-by-script");
    expect(out).toContain("from-the-wheel");
  }, 300_000);

  test("project Dockerfile: BASE_IMAGE reaches its FROM through the same build arg", async () => {
    const lp = new LocalPod(inputs({ baseImage: need("SEELIE_TEST_BUSYBOX") }), "own-dockerfile");
    const proj = join(lp.volume, "alice/proj");
    mkdirSync(proj, { recursive: true });
    writeFileSync(join(proj, "ml.flag"), "");
    writeFileSync(join(proj, "Dockerfile"), "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\nRUN echo own-dockerfile > /marker\n");
    writeFileSync(join(proj, "hello.txt"), "hello\n");
    const prep = await lp.prepare();
    expect(prep.code, prep.stderr).toBe(0);
    const build = await lp.build();
    expect(build.code, `${build.stdout}\n${build.stderr}`).toBe(0);
    pushed.push(lp.inputs.image);
    expect((await sh(dockerCli("pull", lp.inputs.image))).code).toBe(0);
    const run = await sh(dockerCli("run", "--rm", lp.inputs.image, "cat", "/hello.txt", "/marker"));
    expect(run.stdout).toBe("hello\nown-dockerfile\n");
  }, 300_000);

  test("the prepare step refuses a project without ml.flag and a base image off the allow list; nothing is built", async () => {
    const noFlag = new LocalPod(inputs({}), "no-flag");
    mkdirSync(join(noFlag.volume, "alice/proj"), { recursive: true });
    writeFileSync(join(noFlag.volume, "alice/proj/train.py"), "");
    const r1 = await noFlag.prepare();
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain("has no ml.flag");
    expect(readdirSync(noFlag.scratch)).toEqual([]);

    const offList = new LocalPod(inputs({ baseImage: "docker.io/library/ubuntu:22.04" }), "off-list");
    mkdirSync(join(offList.volume, "alice/proj"), { recursive: true });
    writeFileSync(join(offList.volume, "alice/proj/ml.flag"), "");
    const r2 = await offList.prepare();
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('"docker.io/library/ubuntu:22.04" is not allowed');

    const missing = new LocalPod(inputs({ contextSubpath: "bob/nothing-here" }), "missing");
    const r3 = await missing.prepare();
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain("does not exist");
  }, 60_000);

  test("the template's buildah flags exist in the installed buildah's own help (bud, push, global)", async () => {
    const help = async (...a: string[]) => (await sh(["buildah", ...a, "--help"])).stdout;
    const [global, bud, push] = await Promise.all([help(), help("bud"), help("push")]);
    for (const f of ["--root", "--runroot", "--storage-driver"]) expect(global).toContain(f);
    for (const f of ["--isolation", "--file", "--build-arg", "--tag"]) expect(bud).toContain(f);
    expect(push).toContain("--digestfile");
  });
});
