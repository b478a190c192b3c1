/**
 * `seelie image build` end to end against the real engines: local dockerd, and the two Podman
 * "regions" behind their SOCKS5 proxies, pushing to the password-protected registry. Every pushed
 * image is pulled back and run to check its content.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { dockerCli, need, sh } from "../../helpers/services.ts";
import { ROOT, copyProject, registryHasTag, seelie, spawnSeelie, testHome, testSecrets, uniqueTag } from "../../helpers/seelie.ts";

setDefaultTimeout(300_000);
const { home, env } = testHome();
const cleanup: string[] = [home];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});
const EXAMPLE = join(ROOT, "examples/hello-training");
const PYTHON = need("SEELIE_TEST_PYTHON");
const BUSYBOX = need("SEELIE_TEST_BUSYBOX");
const REPO = "seelie/tester-training";

function noSecrets(out: { stdout: string; stderr: string }) {
  for (const s of testSecrets()) {
    expect(out.stdout).not.toContain(s);
    expect(out.stderr).not.toContain(s);
  }
}

/** Removes the local copy, pulls the pushed image back and runs a shell command in it. */
async function runPushed(image: string, script: string): Promise<string> {
  await sh(dockerCli("rmi", "-f", image));
  const pull = await sh(dockerCli("pull", "-q", image));
  expect(pull.code).toBe(0);
  const run = await sh(dockerCli("run", "--rm", image, "sh", "-c", script));
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  await sh(dockerCli("rmi", "-f", image));
  return run.stdout;
}

function exampleProject(): string {
  const d = copyProject(EXAMPLE);
  cleanup.push(d);
  writeFileSync(join(d, "notes.pyc"), "ignored by .dockerignore");
  return d;
}

describe("builds and pushes, then the pulled image holds the project", () => {
  const backends: [string, string[]][] = [
    ["local Docker", ["--backend=local"]],
    ["remote region-a (SOCKS5, no auth)", ["--backend=remote", "--region=region-a"]],
    ["remote region-b (SOCKS5 with username/password)", ["--backend", "remote", "--region", "region-b"]],
  ];
  test.each(backends)("generated Dockerfile on %s: code, build_script.sh, requirements", async (_name, flags) => {
    const tag = uniqueTag("gen");
    const out = await seelie(
      [
        "image",
        "build",
        `--project_dir=${exampleProject()}`,
        `--base_image=${PYTHON}`,
        `--tag=${tag}`,
        "--repo_type=training",
        ...flags,
        "--push",
        "-o",
        "json",
      ],
      env,
    );
    expect(out.code).toBe(0);
    noSecrets(out);
    const result = JSON.parse(out.stdout);
    expect(result.image).toBe(`${need("SEELIE_TEST_REGISTRY")}/${REPO}:${tag}`);
    expect(result.pushed).toBe(true);
    expect(result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(result.backend).toBe(flags[0]!.includes("remote") || flags[1] === "remote" ? "remote" : "local");
    expect(out.stderr).toContain("COPY . /workspace/code"); // the build's own output streamed to stderr
    const listing = await runPushed(result.image, "cd /workspace/code && ls -A && cat build-info.json && python3 train.py");
    expect(listing).toContain("ml.flag");
    expect(listing).toContain("train.py");
    expect(listing).toContain("built_at");
    expect(listing).toContain("hello from seelie_hello, training");
    expect(listing).not.toContain("notes.pyc");
    expect(listing).not.toContain(".seelie.Dockerfile");
  });

  test("a project Dockerfile with stages, --build-arg and --no-cache, on region-a", async () => {
    const d = copyProject(EXAMPLE);
    cleanup.push(d);
    writeFileSync(
      join(d, "Dockerfile"),
      `ARG BASE=${BUSYBOX}\nFROM \${BASE} AS stage1\nARG MSG\nRUN echo "$MSG" > /msg\nFROM stage1\nCOPY ml.flag /flag\n`,
    );
    const tag = uniqueTag("own");
    const args = [
      "image",
      "build",
      "--project-dir",
      d,
      "--tag",
      tag,
      "--repo-type",
      "training",
      "--backend=remote",
      "--build-arg",
      "MSG=hello there",
      "--build-arg=UNUSED=1",
      "--no-cache",
      "--push",
      "-o",
      "json",
    ];
    const out = await seelie(args, env);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result.dockerfile).toBe("project");
    expect(result.baseImages).toEqual([BUSYBOX]);
    expect(await runPushed(result.image, "cat /msg; ls /flag")).toBe("hello there\n/flag\n");
  });
});

describe("PEP 668 Python bases (Debian 12, Ubuntu 24.04)", () => {
  test("the test base is as hostile as Debian 12's: marker in place, no PIP_BREAK_SYSTEM_PACKAGES, plain pip install refused", async () => {
    const wheels = join(EXAMPLE, "wheels");
    const r = await sh(
      dockerCli(
        "run",
        "--rm",
        "-v",
        `${wheels}:/w:ro`,
        PYTHON,
        "sh",
        "-c",
        "ls /usr/lib/python3*/EXTERNALLY-MANAGED; env | grep PIP_ || echo no-pip-env; python3 -m pip install --no-cache-dir /w/*.whl",
      ),
    );
    expect(r.stdout).toContain("EXTERNALLY-MANAGED");
    expect(r.stdout).toContain("no-pip-env");
    expect(r.stderr).toContain("externally-managed-environment");
    expect(r.code).not.toBe(0);
  });

  test("the generated Dockerfile installs requirements there, and the image's python3 imports them", async () => {
    // (The builds on every backend above use this base too; this one checks the import on its own.)
    const d = copyProject(EXAMPLE);
    cleanup.push(d);
    const tag = uniqueTag("pep668");
    const out = await seelie(
      ["image", "build", `--project_dir=${d}`, `--base_image=${PYTHON}`, `--tag=${tag}`, "--repo_type=training", "--push", "-o", "json"],
      env,
    );
    expect(out.stderr).not.toContain("externally-managed-environment");
    expect(out.code).toBe(0);
    const image = JSON.parse(out.stdout).image;
    expect(
      await runPushed(
        image,
        "cd / && python3 -c 'import seelie_hello; print(seelie_hello.greet(\"pep668\"))' && env | grep -c PIP_BREAK || true",
      ),
    ).toBe("hello from seelie_hello, pep668\n0\n");
  });

  test("an empty requirements.txt installs nothing: it builds even on a base without python or pip", async () => {
    const d = copyProject(EXAMPLE);
    cleanup.push(d);
    rmSync(join(d, "build_script.sh"));
    writeFileSync(join(d, "requirements.txt"), "# nothing pinned yet\n\n");
    const tag = uniqueTag("emptyreq");
    const out = await seelie(
      ["image", "build", `--project_dir=${d}`, `--base_image=${BUSYBOX}`, `--tag=${tag}`, "--repo_type=training", "--push", "-o", "json"],
      env,
    );
    expect(out.code).toBe(0);
    expect(await runPushed(JSON.parse(out.stdout).image, "cat /workspace/code/requirements.txt")).toBe("# nothing pinned yet\n\n");
  });

  test("requirements on a base without pip: the build fails naming the cause", async () => {
    const d = copyProject(EXAMPLE);
    cleanup.push(d);
    rmSync(join(d, "build_script.sh"));
    const out = await seelie(
      ["image", "build", `--project_dir=${d}`, `--base_image=${BUSYBOX}`, `--tag=${uniqueTag("nopip")}`, "--repo_type=training"],
      env,
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("requirements.txt lists packages but the base image has no pip");
  });
});

describe("dry run", () => {
  test("prints the image name and the Dockerfile, contacts no engine, builds nothing", async () => {
    const tag = uniqueTag("dry");
    const out = await seelie(
      ["image", "build", `--project_dir=${EXAMPLE}`, `--base_image=${PYTHON}`, `--tag=${tag}`, "--repo_type=training", "--dry-run"],
      { ...env, DOCKER_HOST: "unix:///nonexistent.sock" },
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`image: ${need("SEELIE_TEST_REGISTRY")}/${REPO}:${tag}`);
    expect(out.stdout).toContain(`FROM ${PYTHON}`);
    const json = await seelie(
      [
        "image",
        "build",
        `--project_dir=${EXAMPLE}`,
        `--base_image=${PYTHON}`,
        `--tag=${tag}`,
        "--repo_type=training",
        "--dry-run",
        "-o",
        "json",
      ],
      env,
    );
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, pushed: false, dockerfile: "generated" });
    expect((await sh(dockerCli("image", "inspect", `${need("SEELIE_TEST_REGISTRY")}/${REPO}:${tag}`))).code).not.toBe(0);
  });
});

describe("bad input: a clear error, a non-zero exit, nothing built or pushed", () => {
  const project = () => exampleProject();
  type Case = [string, () => { args: string[]; env?: Record<string, string>; extraYaml?: string }, number, RegExp];
  const cases: Case[] = [
    [
      "missing ml.flag",
      () => {
        const d = project();
        rmSync(join(d, "ml.flag"));
        return { args: [`--project_dir=${d}`] };
      },
      2,
      /no ml\.flag.*touch/s,
    ],
    ["missing project_dir", () => ({ args: ["--project_dir=/nonexistent/proj"] }), 2, /\/nonexistent\/proj cannot be read/],
    ["project_dir is a file", () => ({ args: [`--project_dir=${join(project(), "ml.flag")}`] }), 2, /not a directory/],
    [
      "look-alike nvcr.io/nvidia-evil/x",
      () => ({ args: [`--project_dir=${project()}`, "--base_image=nvcr.io/nvidia-evil/x"] }),
      2,
      /nvidia-evil\/x" is not allowed/,
    ],
    [
      "look-alike pytorch/pytorch-nightly",
      () => ({ args: [`--project_dir=${project()}`, "--base_image=pytorch/pytorch-nightly"] }),
      2,
      /not allowed/,
    ],
    [
      "look-alike evil.io/pytorch/pytorch",
      () => ({ args: [`--project_dir=${project()}`, "--base_image=evil.io/pytorch/pytorch"] }),
      2,
      /evil\.io\/pytorch\/pytorch" is not allowed/,
    ],
    [
      "a disallowed FROM in the project's Dockerfile",
      () => {
        const d = project();
        writeFileSync(join(d, "Dockerfile"), `FROM ${BUSYBOX} AS a\nFROM evil.io/x:1\n`);
        return { args: [`--project_dir=${d}`] };
      },
      2,
      /Dockerfile line 2.*evil\.io\/x:1/,
    ],
    [
      "a base image that does not exist",
      () => ({ args: [`--project_dir=${project()}`, `--base_image=${need("SEELIE_TEST_REGISTRY")}/seelie/nope:1`] }),
      1,
      /does not exist/,
    ],
    ["an invalid tag", () => ({ args: [`--project_dir=${project()}`, "--tag=bad tag!"] }), 2, /invalid --tag "bad tag!"/],
    ["an invalid repo_type", () => ({ args: [`--project_dir=${project()}`, "--repo_type=Training/X"] }), 2, /invalid --repo_type/],
    [
      "a symlink leaving the project",
      () => {
        const d = project();
        Bun.spawnSync(["ln", "-s", "/etc/hostname", join(d, "host")]);
        return { args: [`--project_dir=${d}`] };
      },
      2,
      /host is a symlink to \/etc\/hostname, outside the project/,
    ],
    [
      "Docker engine down",
      () => ({ args: [`--project_dir=${project()}`], env: { DOCKER_HOST: "unix:///tmp/seelie-no-docker.sock" } }),
      1,
      /local Docker at unix:\/\/\/tmp\/seelie-no-docker\.sock is not answering/,
    ],
    [
      "Podman service down",
      () => ({
        args: [`--project_dir=${project()}`, "--backend=remote", "--region=down"],
        extraYaml: '  down: { endpoint: "tcp://127.0.0.1:8899" }\n',
      }),
      1,
      /region down \(Podman\) at tcp:\/\/127\.0\.0\.1:8899 is not answering/,
    ],
    [
      "SOCKS5 proxy down",
      () => ({
        args: [`--project_dir=${project()}`, "--backend=remote", "--region=noproxy"],
        extraYaml: `  noproxy: { endpoint: "${need("SEELIE_TEST_PODMAN_A")}", proxy: "socks5://127.0.0.1:1099" }\n`,
      }),
      1,
      /SOCKS5 proxy socks5:\/\/127\.0\.0\.1:1099/,
    ],
    [
      "proxy refusing the password",
      () => ({
        args: [`--project_dir=${project()}`, "--backend=remote", "--region=badpw"],
        extraYaml: `  badpw: { endpoint: "${need("SEELIE_TEST_PODMAN_B")}", proxy: "${need("SEELIE_TEST_SOCKS_B")}", proxyUsername: proxyuser, proxyPassword: wrong-pass }\n`,
      }),
      1,
      /refused the username\/password/,
    ],
    [
      "unknown region",
      () => ({ args: [`--project_dir=${project()}`, "--backend=remote", "--region=mars"] }),
      2,
      /unknown region "mars".*region-a, region-b/s,
    ],
    ["unknown backend", () => ({ args: [`--project_dir=${project()}`, "--backend=cloud"] }), 2, /unknown --backend "cloud"/],
    [
      "a failing build_script.sh",
      () => {
        const d = project();
        writeFileSync(join(d, "build_script.sh"), "#!/bin/sh\necho boom >&2\nexit 3\n");
        chmodSync(join(d, "build_script.sh"), 0o755);
        return { args: [`--project_dir=${d}`] };
      },
      1,
      /build of .* failed on local Docker/,
    ],
  ];
  test.each(cases)("%s", async (_name, make, wantCode, wantMsg) => {
    const c = make();
    const tag = uniqueTag("bad");
    let e = env;
    if (c.extraYaml) {
      const h = testHome(`regions_extra: true\n`);
      cleanup.push(h.home);
      // Append the extra regions under the existing `regions:` mapping.
      const path = join(h.home, ".seelie", "config.yaml");
      const text = (await Bun.file(path).text()).replace("defaultRegion:", `${c.extraYaml}defaultRegion:`);
      await Bun.write(path, text);
      e = h.env;
    }
    const args = ["image", "build", `--base_image=${PYTHON}`, `--tag=${tag}`, "--repo_type=training", "--push", ...c.args];
    const out = await seelie(args, { ...e, ...(c.env ?? {}) });
    expect(out.stderr).toMatch(wantMsg);
    expect(out.stderr).toContain("hint:");
    expect(out.code).toBe(wantCode);
    expect(out.stdout).toBe("");
    noSecrets(out);
    expect(await registryHasTag(REPO, tag)).toBe(false);
  });

  test("a registry that refuses the password: built, not pushed, error names the registry", async () => {
    const bad = testHome();
    cleanup.push(bad.home);
    const dir = join(bad.home, "docker");
    Bun.spawnSync(["mkdir", "-p", dir]);
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ auths: { [need("SEELIE_TEST_REGISTRY")]: { auth: Buffer.from("seelie:wrong-password").toString("base64") } } }),
    );
    const tag = uniqueTag("authfail");
    const out = await seelie(
      ["image", "build", `--project_dir=${exampleProject()}`, `--base_image=${PYTHON}`, `--tag=${tag}`, "--repo_type=training", "--push"],
      { ...bad.env, DOCKER_CONFIG: dir },
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`registry ${need("SEELIE_TEST_REGISTRY").replace(/\./g, "\\.")} refused to push`));
    expect(out.stderr).toContain(join(dir, "config.json"));
    expect(out.stderr).not.toContain("wrong-password");
    expect(await registryHasTag(REPO, tag)).toBe(false);
  });
});

describe("Ctrl-C", () => {
  const slowProject = () => {
    const d = exampleProject();
    writeFileSync(join(d, "build_script.sh"), "#!/bin/sh\necho build-started\nsleep 60\n");
    chmodSync(join(d, "build_script.sh"), 0o755);
    return d;
  };
  /** Build containers still carrying the run's mark: a build arg is in the env of every RUN step's container. */
  type Lister = (mark: string) => Promise<string[]>;
  async function interrupt(flags: string[], leftovers?: Lister) {
    const tag = uniqueTag("intr");
    const mark = `SEELIE_TEST_MARK=${tag}`;
    const run = spawnSeelie(
      [
        "image",
        "build",
        `--project_dir=${slowProject()}`,
        `--base_image=${PYTHON}`,
        `--tag=${tag}`,
        "--repo_type=training",
        "--push",
        "--build-arg",
        mark,
        ...flags,
      ],
      env,
    );
    expect(await run.waitFor("build-started", 60_000)).toBe(true);
    if (leftovers) expect(await leftovers(mark)).not.toEqual([]); // the build's RUN container exists while it runs
    const { code, stderr: err, ms } = await run.interrupt();
    expect(code).toBe(130);
    expect(ms).toBeLessThan(15_000);
    expect(err).toContain("interrupted");
    expect(await registryHasTag(REPO, tag)).toBe(false);
    if (!leftovers) return err;
    // The engine stops the build and removes its container.
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = await leftovers(mark);
      if (left.length === 0) break;
      await Bun.sleep(200);
    }
    expect(left).toEqual([]);
    return err;
  }
  const engineLister =
    (base: string): Lister =>
    async (mark) => {
      const init = { unix: base === "http://unix" ? "/var/run/docker.sock" : undefined } as RequestInit;
      const list = (await (await fetch(`${base}/containers/json?all=true`, init)).json()) as { Id: string }[];
      const found: string[] = [];
      for (const c of list) {
        const res = await fetch(`${base}/containers/${c.Id}/json`, init);
        if (!res.ok) continue;
        const info = (await res.json()) as { Config?: { Env?: string[] } };
        if (info.Config?.Env?.includes(mark)) found.push(c.Id);
      }
      return found;
    };
  test("during a local build: the build stops, nothing is pushed, no container is left", async () => {
    await interrupt(["--backend=local"], engineLister("http://unix"));
  });
  test("during a remote build: seelie stops at once, pushes nothing, and says the region finishes the build", async () => {
    // Podman 4.3 does not cancel a build when its client disconnects (containers/podman#10295), so
    // the remote build's containers live until it ends; what seelie controls is that nothing is pushed.
    const err = await interrupt(["--backend=remote", "--region=region-a"]);
    expect(err).toMatch(/region region-a \(Podman\) goes on with the build.*nothing is pushed/s);
  });
  /** Interrupts a build with --push once the push has started; returns the tag and seelie's stderr. */
  async function interruptPush(flags: string[]): Promise<{ tag: string; err: string }> {
    const d = exampleProject();
    // A fresh 120 MB layer, so the push takes long enough to be interrupted.
    writeFileSync(join(d, "Dockerfile"), `FROM ${BUSYBOX}\nCOPY . /w\n`);
    writeFileSync(join(d, "big.bin"), randomBytes(120 * 1024 * 1024));
    const tag = uniqueTag("pushintr");
    const run = spawnSeelie(["image", "build", `--project_dir=${d}`, `--tag=${tag}`, "--repo_type=training", "--push", ...flags], env);
    // The engine's own first push line: the push has reached the engine.
    expect(await run.waitFor("The push refers to repository", 120_000)).toBe(true);
    const { code, stderr: err } = await run.interrupt();
    expect(code).toBe(130);
    expect(err).toContain("push interrupted");
    return { tag, err };
  }
  test("during a local push: Docker stops it, and the tag never reaches the registry", async () => {
    const { tag } = await interruptPush(["--backend=local"]);
    for (let i = 0; i < 10; i++) {
      expect(await registryHasTag(REPO, tag)).toBe(false);
      await Bun.sleep(500);
    }
  });
  test("during a remote push: seelie says the region completes it, and what appears is a whole image", async () => {
    // Podman 4.3 completes a push whose client went away; seelie cannot stop it, so it says so.
    const { tag, err } = await interruptPush(["--backend=remote", "--region=region-a"]);
    expect(err).toMatch(/region region-a \(Podman\) finishes the push it started.*delete that tag/s);
    let pushed = false;
    for (let i = 0; i < 120 && !pushed; i++) {
      pushed = await registryHasTag(REPO, tag);
      if (!pushed) await Bun.sleep(500);
    }
    expect(pushed).toBe(true);
    const image = `${need("SEELIE_TEST_REGISTRY")}/${REPO}:${tag}`;
    expect(await runPushed(image, "ls -l /w/big.bin | awk '{print $5}'")).toBe(`${120 * 1024 * 1024}\n`);
  });
});
