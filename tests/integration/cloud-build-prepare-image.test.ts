/**
 * The prepare init container for real: the seelie-tools image is built from
 * pods/cloud-build/seelie-tools.Dockerfile around the compiled CLI (on the test's Python base image,
 * which has glibc as distroless/cc does), then the rendered Pod's init container runs under docker
 * with the Pod's securityContext (uid 65532, read-only root, no capabilities, no_new_privs) and the
 * project mounted read-only, as the kubelet would start it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderBuildPod } from "../../lib/cloud-build/pod.ts";
import { DEFAULT_BUILDER_IMAGES, SCRATCH_DIR, VOLUME_MOUNT } from "../../lib/cloud-build/tools.ts";
import type { BuildTool } from "../../lib/cloud-build/types.ts";
import { dockerRunArgs } from "../helpers/pod-local.ts";
import { dockerCli, need, sh } from "../helpers/services.ts";

const ROOT = join(import.meta.dir, "../..");
let work: string;
const toolsImage = `${process.env.SEELIE_TEST_REGISTRY ?? "127.0.0.1:5000"}/seelie/seelie-tools:test-${Date.now().toString(36)}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "seelie-tools-image-"));
  const ctx = join(work, "image-context");
  mkdirSync(ctx);
  const c = await sh(["bun", "build", "--compile", "bin/seelie.ts", "--outfile", join(ctx, "seelie")], { cwd: ROOT });
  if (c.code !== 0) throw new Error(c.stderr);
  const b = await sh(
    dockerCli(
      "build",
      "-q",
      "--build-arg",
      `BASE=${need("SEELIE_TEST_PYTHON")}`,
      "-f",
      join(ROOT, "pods/cloud-build/seelie-tools.Dockerfile"),
      "-t",
      toolsImage,
      ctx,
    ),
  );
  if (b.code !== 0) throw new Error(`docker build of seelie-tools failed: ${b.stderr}`);
}, 120_000);

afterAll(async () => {
  await sh(dockerCli("rmi", "-f", toolsImage));
  rmSync(work, { recursive: true, force: true });
});

function setup(tool: BuildTool, name: string, files: Record<string, string>) {
  const vol = join(work, name, "volume");
  const scratch = join(work, name, "scratch");
  mkdirSync(join(vol, "alice/proj"), { recursive: true });
  mkdirSync(scratch, { recursive: true });
  chmodSync(scratch, 0o777); // an emptyDir is world-writable
  for (const [f, text] of Object.entries(files)) writeFileSync(join(vol, "alice/proj", f), text);
  const pod = renderBuildPod({
    tool,
    baseImage: need("SEELIE_TEST_PYTHON"),
    context: { pvc: "ml-projects" },
    contextSubpath: "alice/proj",
    registrySecret: "regcred",
    image: "127.0.0.1:5000/seelie/unused:1",
    namespace: "default",
    builderImage: DEFAULT_BUILDER_IMAGES[tool],
    toolsImage,
    allowedBaseImages: [`${need("SEELIE_TEST_REGISTRY")}/seelie/`],
    name: `seelie-build-${tool}`,
  });
  const args = dockerRunArgs(pod.spec.initContainers[0]!, { [VOLUME_MOUNT]: vol, [SCRATCH_DIR]: scratch });
  return { vol, scratch, run: () => sh(dockerCli(...args)) };
}

describe("the prepare init container in the seelie-tools image", () => {
  test("writes the generated Dockerfile into the scratch volume as uid 65532 with a read-only root", async () => {
    const s = setup("kaniko", "ok", { "ml.flag": "", "train.py": "print(1)\n" });
    const r = await s.run();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(s.scratch, "Dockerfile"), "utf8")).toStartWith(`FROM ${need("SEELIE_TEST_PYTHON")}\nCOPY . /workspace/code\n`);
    expect(statSync(join(s.scratch, "Dockerfile")).uid).toBe(65532);
    expect(JSON.parse(readFileSync(join(s.scratch, "prepared.json"), "utf8"))).toMatchObject({ tool: "kaniko", generated: true });
  }, 60_000);

  test("Buildpacks: a world-writable copy of the project in scratch/app (the CNB user differs)", async () => {
    const s = setup("buildpacks", "bp", { "ml.flag": "", "requirements.txt": "numpy\n", "build_script.sh": "echo hi\n" });
    const r = await s.run();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(s.scratch, "app/requirements.txt"), "utf8")).toBe("numpy\n");
    expect(statSync(join(s.scratch, "app")).mode & 0o777).toBe(0o777);
    expect(r.stderr).toContain("Buildpacks do not run build_script.sh");
  }, 60_000);

  test("refuses a project without ml.flag with exit 2 (the Pod fails before the builder starts)", async () => {
    const s = setup("buildah", "noflag", { "train.py": "" });
    const r = await s.run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has no ml.flag at its root");
  }, 60_000);
});
