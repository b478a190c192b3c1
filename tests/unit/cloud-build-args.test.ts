/**
 * The builders that cannot run here (Kaniko, BuildKit, Buildpacks) are checked on paper: every flag in
 * the command lines the Pods use must be one the tool documents, with the value form it documents.
 * (Buildah's flags are also checked against the installed buildah's --help in the integration test.)
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellQuote, toolFragment } from "../../lib/cloud-build/tools.ts";
import type { BuildTool } from "../../lib/cloud-build/types.ts";

type FlagKind = "value" | "bool";
interface CommandDoc {
  /** Where the flags come from. */
  source: string;
  binary: string;
  /** Flags allowed before the sub-command (Buildah's global options). */
  global?: Record<string, FlagKind>;
  subcommand?: string;
  flags: Record<string, FlagKind>;
  /** How many positional arguments the command takes. */
  positionals: number;
  /** Flags written `-name=value` (Go's flag package) rather than `--name value`. */
  singleDash?: boolean;
}

// prettier-ignore
const DOCS: Record<BuildTool, CommandDoc[]> = {
  kaniko: [
    {
      source:
        "kaniko README 'Additional Flags' and `executor --help` (GoogleContainerTools/kaniko v1.x, unchanged in osscontainertools/kaniko)",
      binary: "/kaniko/executor",
      flags: {
        "--build-arg": "value",
        "--cache": "bool",
        "--cache-dir": "value",
        "--cache-repo": "value",
        "--cache-copy-layers": "bool",
        "--cache-run-layers": "bool",
        "--cache-ttl": "value",
        "--cleanup": "bool",
        "--compressed-caching": "value",
        "--context": "value",
        "--context-sub-path": "value",
        "--custom-platform": "value",
        "--digest-file": "value",
        "--dockerfile": "value",
        "--destination": "value",
        "--force": "bool",
        "--ignore-path": "value",
        "--image-name-with-digest-file": "value",
        "--insecure": "bool",
        "--insecure-pull": "bool",
        "--insecure-registry": "value",
        "--label": "value",
        "--log-format": "value",
        "--no-push": "bool",
        "--oci-layout-path": "value",
        "--push-retry": "value",
        "--registry-mirror": "value",
        "--reproducible": "bool",
        "--single-snapshot": "bool",
        "--skip-tls-verify": "bool",
        "--snapshot-mode": "value",
        "--tar-path": "value",
        "--target": "value",
        "--use-new-run": "bool",
        "--verbosity": "value",
      },
      positionals: 0,
    },
  ],
  buildkit: [
    {
      source:
        "BuildKit docs/reference/buildctl.md (`buildctl build --help`); buildctl-daemonless.sh passes its arguments to buildctl; dockerfile frontend opts from the BuildKit README",
      binary: "buildctl-daemonless.sh",
      subcommand: "build",
      flags: {
        "--output": "value",
        "-o": "value",
        "--progress": "value",
        "--trace": "value",
        "--local": "value",
        "--oci-layout": "value",
        "--frontend": "value",
        "--opt": "value",
        "--no-cache": "bool",
        "--export-cache": "value",
        "--import-cache": "value",
        "--secret": "value",
        "--allow": "value",
        "--ssh": "value",
        "--metadata-file": "value",
        "--source-policy-file": "value",
        "--ref-file": "value",
      },
      positionals: 0,
    },
  ],
  buildah: [
    {
      source: "buildah-bud(1) and buildah(1) of Buildah 1.28 (also checked against the installed buildah's --help)",
      binary: "buildah",
      global: { "--root": "value", "--runroot": "value", "--storage-driver": "value", "--storage-opt": "value", "--log-level": "value" },
      subcommand: "bud",
      flags: {
        "--isolation": "value",
        "--file": "value",
        "-f": "value",
        "--build-arg": "value",
        "--tag": "value",
        "-t": "value",
        "--layers": "bool",
        "--no-cache": "bool",
        "--pull": "value",
        "--format": "value",
        "--authfile": "value",
        "--tls-verify": "bool",
        "--platform": "value",
      },
      positionals: 1,
    },
    {
      source: "buildah-push(1) of Buildah 1.28",
      binary: "buildah",
      global: { "--root": "value", "--runroot": "value", "--storage-driver": "value", "--storage-opt": "value", "--log-level": "value" },
      subcommand: "push",
      flags: {
        "--digestfile": "value",
        "--authfile": "value",
        "--format": "value",
        "--tls-verify": "bool",
        "--creds": "value",
        "--quiet": "bool",
      },
      positionals: 2,
    },
  ],
  buildpacks: [
    {
      source: "CNB Platform Interface Specification (buildpacks/spec platform.md), `creator` inputs; lifecycle `creator -help`",
      binary: "/cnb/lifecycle/creator",
      singleDash: true,
      flags: {
        "-app": "value",
        "-buildpacks": "value",
        "-cache-dir": "value",
        "-cache-image": "value",
        "-daemon": "bool",
        "-gid": "value",
        "-launch-cache": "value",
        "-layers": "value",
        "-log-level": "value",
        "-order": "value",
        "-platform": "value",
        "-previous-image": "value",
        "-process-type": "value",
        "-report": "value",
        "-run-image": "value",
        "-run": "value",
        "-skip-restore": "bool",
        "-tag": "value",
        "-uid": "value",
      },
      positionals: 1,
    },
  ],
};

/** Checks one argv against its doc; returns the flags it used (name -> value). */
function checkArgv(argv: string[], doc: CommandDoc): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const add = (k: string, v: string) => used.set(k, [...(used.get(k) ?? []), v]);
  expect(argv[0]).toBe(doc.binary);
  let i = 1;
  const take = (table: Record<string, FlagKind>, stopAtSub: boolean) => {
    const positionals: string[] = [];
    while (i < argv.length) {
      const a = argv[i]!;
      if (stopAtSub && !a.startsWith("-")) return positionals;
      if (!a.startsWith("-")) {
        positionals.push(a);
        i++;
        continue;
      }
      const [name, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
      const kind = table[name];
      if (!kind)
        throw new Error(`${doc.binary}${doc.subcommand ? ` ${doc.subcommand}` : ""}: flag ${name} is not documented (${doc.source})`);
      if (doc.singleDash) expect(name.startsWith("--")).toBe(false);
      if (kind === "value") {
        const v = inline ?? argv[++i];
        if (v === undefined || (inline === undefined && v.startsWith("-"))) throw new Error(`${name} needs a value`);
        add(name, v);
      } else {
        add(name, inline ?? "true");
      }
      i++;
    }
    return positionals;
  };
  if (doc.global) take(doc.global, true);
  if (doc.subcommand) {
    expect(argv[i]).toBe(doc.subcommand);
    i++;
  }
  const positionals = take(doc.flags, false);
  expect(positionals.length).toBe(doc.positionals);
  used.set("", positionals);
  return used;
}

describe("builder command lines use only documented flags", () => {
  for (const tool of ["kaniko", "buildkit", "buildah", "buildpacks"] as const) {
    test(tool, () => {
      const steps = toolFragment(tool).steps;
      expect(steps.length).toBe(DOCS[tool].length);
      steps.forEach((argv, n) => {
        checkArgv(argv, DOCS[tool][n]!);
      });
    });
  }

  test("Kaniko: a dir:// context, the scratch Dockerfile, BASE_IMAGE as build arg, push to IMAGE, digest to the termination message", () => {
    const f = toolFragment("kaniko");
    const used = checkArgv(f.steps[0]!, DOCS.kaniko[0]!);
    expect(used.get("--context")).toEqual(["dir://$(CONTEXT_DIR)"]);
    expect(used.get("--dockerfile")).toEqual(["$(DOCKERFILE)"]);
    expect(used.get("--build-arg")).toEqual(["BASE_IMAGE=$(BASE_IMAGE)"]);
    expect(used.get("--destination")).toEqual(["$(IMAGE)"]);
    expect(used.get("--digest-file")).toEqual(["/dev/termination-log"]);
    expect(used.get("--log-format")).toEqual(["text"]);
    // the executor image has no shell: command + args, expanded by Kubernetes
    expect(f.command).toEqual(["/kaniko/executor"]);
    expect(f.env).toContainEqual({ name: "DOCKER_CONFIG", value: "/workspace/registry-auth" });
  });

  test("BuildKit: context from the project, Dockerfile from scratch, pushed image output, metadata file for the digest", () => {
    const used = checkArgv(toolFragment("buildkit").steps[0]!, DOCS.buildkit[0]!);
    expect(used.get("--frontend")).toEqual(["dockerfile.v0"]);
    expect(used.get("--local")).toEqual(["context=${CONTEXT_DIR}", "dockerfile=/workspace/scratch"]);
    expect(used.get("--opt")).toEqual(["filename=Dockerfile", "build-arg:BASE_IMAGE=${BASE_IMAGE}"]);
    expect(used.get("--output")).toEqual(["type=image,name=${IMAGE},push=true"]);
    expect(used.get("--metadata-file")).toEqual(["/workspace/scratch/buildkit-metadata.json"]);
    expect(toolFragment("buildkit").env).toContainEqual({ name: "BUILDKITD_FLAGS", value: "--oci-worker-no-process-sandbox" });
  });

  test("Buildpacks: the base image is the run image, the app is the scratch copy, the report carries the digest", () => {
    const used = checkArgv(toolFragment("buildpacks").steps[0]!, DOCS.buildpacks[0]!);
    expect(used.get("-run-image")).toEqual(["${BASE_IMAGE}"]);
    expect(used.get("-app")).toEqual(["/workspace/scratch/app"]);
    expect(used.get("-report")).toEqual(["/layers/report.toml"]);
    expect(used.get("")).toEqual(["${IMAGE}"]);
  });

  test("an undocumented flag is caught", () => {
    expect(() => checkArgv(["/kaniko/executor", "--context=dir:///x", "--made-up-flag"], DOCS.kaniko[0]!)).toThrow(
      "--made-up-flag is not documented",
    );
  });

  test("the shell scripts run exactly the checked steps", () => {
    for (const tool of ["buildkit", "buildah", "buildpacks"] as const) {
      const f = toolFragment(tool);
      expect(f.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
      const lines = f.command[2]!.split("\n");
      expect(lines[0]).toBe("set -eu");
      for (const step of f.steps) expect(lines).toContain(step.map(shellQuote).join(" "));
    }
  });
});

/**
 * Runs a builder's sh script with a stub in place of the tool: the stub records the argv it gets and
 * writes the tool's digest output (BuildKit's metadata file, the lifecycle's report.toml), so the test
 * sees the shell quoting deliver exactly the checked argv and the digest extraction work.
 */
async function runWithStub(tool: "buildkit" | "buildpacks", stubBody: string, replace: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), `seelie-stub-${tool}-`));
  const stub = join(dir, "stub");
  writeFileSync(stub, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${dir}/argv\n${stubBody.split("$DIR").join(dir)}\n`, {
    mode: 0o755,
  });
  let script = toolFragment(tool).command[2]!;
  for (const [from, to] of Object.entries({ ...replace, [toolFragment(tool).steps[0]![0]!]: stub }))
    script = script.split(from).join(to.replace("$DIR", dir));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    IMAGE: "registry.example.com/team/a b:v1", // a space proves the quoting
    BASE_IMAGE: "registry.example.com/base/python:3.10",
    CONTEXT_DIR: join(dir, "ctx"),
    TERMINATION_LOG: join(dir, "termination-log"),
  };
  const p = Bun.spawn(["/bin/sh", "-c", script], { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const argv = readFileSync(join(dir, "argv"), "utf8").split("\n").slice(0, -1);
  const termination = existsSync(env.TERMINATION_LOG) ? readFileSync(env.TERMINATION_LOG, "utf8") : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, argv, termination, env };
}

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("builder scripts with stubbed tools", () => {
  test("BuildKit: argv as checked, digest read from the metadata file", async () => {
    const r = await runWithStub("buildkit", `printf '{"containerimage.digest": "${DIGEST}", "image.name": "x"}' > $DIR/meta.json`, {
      "/workspace/scratch/buildkit-metadata.json": "$DIR/meta.json",
    });
    expect(r.code, r.stderr).toBe(0);
    const expected = toolFragment("buildkit")
      .steps[0]!.slice(1)
      .map((a) =>
        a.replace("${CONTEXT_DIR}", r.env.CONTEXT_DIR).replace("${BASE_IMAGE}", r.env.BASE_IMAGE).replace("${IMAGE}", r.env.IMAGE),
      );
    expect(r.argv).toEqual(expected.map((a) => a.replace("/workspace/scratch/buildkit-metadata.json", r.argv[r.argv.length - 1]!)));
    expect(r.stdout).toContain(`seelie-digest: ${DIGEST}`);
    expect(r.termination).toBe(DIGEST);
  });

  test("Buildpacks: argv as checked, digest read from report.toml", async () => {
    const r = await runWithStub(
      "buildpacks",
      `mkdir -p $DIR/layers; printf '[image]\\n  tags = ["x"]\\n  digest = "${DIGEST}"\\n  manifest-size = 1\\n' > $DIR/layers/report.toml`,
      {
        "/layers": "$DIR/layers",
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.argv[r.argv.length - 1]).toBe(r.env.IMAGE);
    expect(r.argv).toContain(`-run-image=${r.env.BASE_IMAGE}`);
    expect(r.stdout).toContain(`seelie-digest: ${DIGEST}`);
    expect(r.termination).toBe(DIGEST);
  });

  test("a failing tool fails the script (set -e) before any digest is reported", async () => {
    const r = await runWithStub("buildkit", "exit 3", {});
    expect(r.code).toBe(3);
    expect(r.stdout).not.toContain("seelie-digest");
  });
});
