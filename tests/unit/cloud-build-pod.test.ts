import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { renderBuildPod } from "../../lib/cloud-build/pod.ts";
import { allTemplates, renderTemplate, templateInputs } from "../../lib/cloud-build/templates.ts";
import { DEFAULT_BUILDER_IMAGES, toolFragment } from "../../lib/cloud-build/tools.ts";
import { BUILD_TOOLS, type BuildTool, type CloudBuildInputs, type PodSpecDoc } from "../../lib/cloud-build/types.ts";
import { validatePodV121 } from "../helpers/json-schema.ts";

const POD_DIR = join(import.meta.dir, "../../pods/cloud-build");

function cliInputs(tool: BuildTool, over: Partial<CloudBuildInputs> = {}): CloudBuildInputs {
  return {
    tool,
    baseImage: "registry.example.com/base/python:3.10",
    context: { nfs: { server: "nas.example.com", path: "/exports/ml" } },
    contextSubpath: "alice/mnist",
    registrySecret: "regcred",
    image: "registry.example.com/team/alice-training:v1",
    namespace: "ml",
    builderImage: DEFAULT_BUILDER_IMAGES[tool],
    toolsImage: "registry.example.com/seelie/seelie-tools:0.1.0",
    allowedBaseImages: ["registry.example.com/"],
    deadlineSeconds: 600,
    name: `seelie-build-${tool}-x7b2k`,
    ...over,
  };
}

describe("every rendered build Pod is a valid Kubernetes v1.21 Pod", () => {
  for (const tool of BUILD_TOOLS) {
    test(`${tool}: CLI Pod (NFS, host network) and template Pod (PVC)`, () => {
      expect(validatePodV121(renderBuildPod(cliInputs(tool, { hostNetwork: true })))).toEqual([]);
      expect(validatePodV121(renderBuildPod(cliInputs(tool, { context: { pvc: "projects" }, name: `b-${tool}` })))).toEqual([]);
      const fromFile = parse(readFileSync(join(POD_DIR, `${tool}.yaml`), "utf8"));
      expect(validatePodV121(fromFile)).toEqual([]);
    });
  }

  test("the schema is strict: fields unknown to v1.21 and wrong types are refused", () => {
    const pod = renderBuildPod(cliInputs("kaniko")) as any;
    const withOs = structuredClone(pod);
    withOs.spec.os = { name: "linux" }; // PodSpec.os arrived in v1.23
    expect(validatePodV121(withOs)).toContain('$.spec: unknown field "os"');
    const withAppArmorField = structuredClone(pod);
    withAppArmorField.spec.containers[0].securityContext.appArmorProfile = { type: "Unconfined" }; // v1.30
    expect(validatePodV121(withAppArmorField).join()).toContain('unknown field "appArmorProfile"');
    const badType = structuredClone(pod);
    badType.spec.containers[0].securityContext.runAsUser = "0";
    expect(validatePodV121(badType).join()).toContain("runAsUser: expected integer|null");
    const noName = structuredClone(pod);
    delete noName.spec.volumes[0].name;
    expect(validatePodV121(noName).join()).toContain('missing required "name"');
  });
});

describe("the static templates and the renderer agree", () => {
  for (const [file, text] of Object.entries(allTemplates())) {
    test(`pods/cloud-build/${file} is what the renderer produces (regenerate: bash pods/cloud-build/generate.sh)`, () => {
      expect(readFileSync(join(POD_DIR, file), "utf8")).toBe(text);
      const tool = file.replace(/\.yaml$/, "") as BuildTool;
      expect(parse(text)).toEqual(JSON.parse(JSON.stringify(renderBuildPod(templateInputs(tool)))));
    });
  }
  test("a Pod rendered without a namespace has none, and always a real name (kubectl apply refuses generateName)", () => {
    const pod = renderBuildPod(cliInputs("kaniko", { namespace: "" }));
    expect(pod.metadata).toEqual({ name: "seelie-build-kaniko-x7b2k", labels: expect.any(Object) });
    expect(renderBuildPod(cliInputs("kaniko")).metadata.namespace).toBe("ml");
  });
  test("--host_network: the node's network and its resolv.conf; otherwise neither field", () => {
    expect(renderBuildPod(cliInputs("buildkit", { hostNetwork: true })).spec).toMatchObject({ hostNetwork: true, dnsPolicy: "Default" });
    const plain = renderBuildPod(cliInputs("buildkit")).spec;
    expect(plain.hostNetwork).toBeUndefined();
    expect(plain.dnsPolicy).toBeUndefined();
  });
  test("templates carry no namespace (kubectl -n works) and a fixed name (kubectl apply works)", () => {
    for (const tool of BUILD_TOOLS) {
      const pod = parse(renderTemplate(tool)) as PodSpecDoc;
      expect(pod.metadata.namespace).toBeUndefined();
      expect(pod.metadata.name).toBe(`seelie-build-${tool}`);
    }
  });
});

/** Removes the declared tool-specific parts (TOOL_SPECIFIC_PARTS in lib/cloud-build/pod.ts). */
function sharedPart(pod: PodSpecDoc, tool: BuildTool): unknown {
  const p = structuredClone(pod) as any;
  const frag = toolFragment(tool);
  delete p.metadata.name;
  delete p.metadata.labels["seelie.dev/build-tool"];
  delete p.metadata.annotations;
  const prep = p.spec.initContainers[0];
  prep.env = prep.env.filter((e: { name: string }) => e.name !== "BUILD_TOOL");
  const b = p.spec.containers[0];
  for (const k of ["image", "command", "args", "securityContext"]) delete b[k];
  b.env = b.env.slice(0, b.env.length - frag.env.length);
  b.volumeMounts = b.volumeMounts.slice(0, b.volumeMounts.length - frag.mounts.length);
  p.spec.volumes = p.spec.volumes.slice(0, p.spec.volumes.length - frag.volumes.length);
  return p;
}

describe("switching the tool changes only the declared tool-specific parts", () => {
  for (const a of BUILD_TOOLS) {
    for (const b of BUILD_TOOLS) {
      if (a >= b) continue;
      test(`${a} vs ${b}`, () => {
        const pa = renderBuildPod(cliInputs(a, { builderImage: "x.example.com/builder:1" }));
        const pb = renderBuildPod(cliInputs(b, { builderImage: "x.example.com/builder:1" }));
        expect(pa).not.toEqual(pb);
        expect(sharedPart(pa, a)).toEqual(sharedPart(pb, b));
      });
    }
  }
  test("the parameters sit in the same places for every tool", () => {
    for (const tool of BUILD_TOOLS) {
      const pod = renderBuildPod(cliInputs(tool));
      const build = pod.spec.containers[0]!;
      expect(build.env!.slice(0, 4).map((e) => `${e.name}=${e.value}`)).toEqual([
        "BASE_IMAGE=registry.example.com/base/python:3.10",
        "IMAGE=registry.example.com/team/alice-training:v1",
        "CONTEXT_DIR=/workspace/volume/alice/mnist",
        "DOCKERFILE=/workspace/scratch/Dockerfile",
      ]);
      expect(pod.spec.volumes.slice(0, 3)).toEqual([
        { name: "context", nfs: { server: "nas.example.com", path: "/exports/ml", readOnly: true } },
        { name: "scratch", emptyDir: {} },
        { name: "registry-auth", secret: { secretName: "regcred", items: [{ key: ".dockerconfigjson", path: "config.json" }] } },
      ]);
      // the project's volume is read-only everywhere; only the scratch emptyDir is written
      for (const c of [...pod.spec.initContainers, ...pod.spec.containers]) {
        expect(c.volumeMounts!.find((m) => m.name === "context")).toEqual({
          name: "context",
          mountPath: "/workspace/volume",
          readOnly: true,
        });
      }
    }
  });
});

describe("security contexts: unprivileged everywhere, least capabilities", () => {
  for (const tool of BUILD_TOOLS) {
    test(tool, () => {
      const pod = renderBuildPod(cliInputs(tool));
      for (const c of [...pod.spec.initContainers, ...pod.spec.containers]) {
        expect(c.securityContext?.privileged).toBeUndefined();
        const caps = (c.securityContext?.capabilities ?? {}) as { add?: string[] };
        expect(caps.add ?? []).not.toContain("SYS_ADMIN");
      }
      expect(pod.spec.initContainers[0]!.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(pod.spec.automountServiceAccountToken).toBe(false);
    });
  }
  // Measured on the v1.21 cluster (docs/cloud-build.md): Kaniko builds under the runtime's default
  // profile; BuildKit rootless ("fork/exec /proc/self/exe: operation not permitted") and Buildah
  // ("unshare(CLONE_NEWUSER): Operation not permitted") fail under it.
  test.each([
    ["kaniko", "RuntimeDefault"],
    ["buildkit", "Unconfined"],
    ["buildah", "Unconfined"],
    ["buildpacks", "RuntimeDefault"],
  ] as const)("seccomp: %s builds under %s; the prepare step always under RuntimeDefault", (tool, profile) => {
    const pod = renderBuildPod(cliInputs(tool));
    expect(pod.spec.securityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.spec.initContainers[0]!.securityContext?.seccompProfile).toBeUndefined();
    const own = pod.spec.containers[0]!.securityContext?.seccompProfile as { type: string } | undefined;
    expect(own?.type ?? pod.spec.securityContext.seccompProfile.type).toBe(profile);
  });
  test("BuildKit runs rootless (uid 1000)", () => {
    expect(renderBuildPod(cliInputs("buildkit")).spec.containers[0]!.securityContext).toMatchObject({
      runAsUser: 1000,
      runAsNonRoot: true,
    });
  });
});

/** Checks the API server makes beyond the schema (ValidatePod): references, names, variable use. */
function semanticProblems(pod: PodSpecDoc): string[] {
  const out: string[] = [];
  const volumes = new Set(pod.spec.volumes.map((v) => v.name));
  if (volumes.size !== pod.spec.volumes.length) out.push("duplicate volume names");
  const containers = [...pod.spec.initContainers, ...pod.spec.containers];
  const names = containers.map((c) => c.name);
  if (new Set(names).size !== names.length) out.push("duplicate container names");
  for (const c of containers) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c.name)) out.push(`${c.name}: not a DNS label`);
    const paths = new Set<string>();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) out.push(`${c.name}: mount of unknown volume ${m.name}`);
      if (paths.has(m.mountPath)) out.push(`${c.name}: two mounts at ${m.mountPath}`);
      paths.add(m.mountPath);
    }
    const defined = new Set<string>();
    for (const e of c.env ?? []) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.name)) out.push(`${c.name}: env name ${e.name}`);
      for (const m of e.value.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
        if (!defined.has(m[1]!)) out.push(`${c.name}: env ${e.name} uses $(${m[1]}) before it is defined`);
      defined.add(e.name);
    }
    for (const a of [...(c.command ?? []), ...(c.args ?? [])]) {
      for (const m of a.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
        if (!defined.has(m[1]!)) out.push(`${c.name}: $(${m[1]}) is not in its env`);
    }
    const caps = (c.securityContext?.capabilities ?? {}) as { add?: string[]; drop?: string[] };
    for (const cap of [...(caps.add ?? []), ...(caps.drop ?? [])])
      if (!/^[A-Z_]+$/.test(cap) || cap.startsWith("CAP_")) out.push(`${c.name}: capability ${cap}`);
  }
  for (const [k, v] of Object.entries(pod.metadata.annotations ?? {})) {
    const m = /^container\.apparmor\.security\.beta\.kubernetes\.io\/(.+)$/.exec(k);
    if (m && !names.includes(m[1]!)) out.push(`AppArmor annotation for unknown container ${m[1]}`);
    if (m && !["unconfined", "runtime/default"].includes(v) && !v.startsWith("localhost/")) out.push(`AppArmor profile ${v}`);
  }
  return out;
}

describe("what the API server checks beyond the schema", () => {
  for (const tool of BUILD_TOOLS) {
    test(tool, () => {
      expect(semanticProblems(renderBuildPod(cliInputs(tool)))).toEqual([]);
      expect(semanticProblems(renderBuildPod(cliInputs(tool, { context: { pvc: "p" }, name: "n" })))).toEqual([]);
    });
  }
  test("the check itself catches a dangling mount and an undefined variable", () => {
    const pod = structuredClone(renderBuildPod(cliInputs("kaniko")));
    pod.spec.containers[0]!.volumeMounts!.push({ name: "nope", mountPath: "/x" });
    pod.spec.containers[0]!.args!.push("--label=x=$(UNDEFINED)");
    expect(semanticProblems(pod)).toEqual(["build: mount of unknown volume nope", "build: $(UNDEFINED) is not in its env"]);
  });
});
