import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../lib/config/load.ts";
import { showConfig } from "../../../lib/config/show.ts";

const dir = mkdtempSync(join(tmpdir(), "seelie-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cfgPath = join(dir, "config.yaml");
writeFileSync(join(dir, "proxy.pw"), "pr0xy-s3cret\n");
writeFileSync(
  cfgPath,
  `registry: { host: file.example.com, repo: filerepo, username: fileuser, password: "reg-s3cret" }
username: fileuser
allowedBaseImages: ["ghcr.io/acme/"]
regions:
  cn-shanghai: { endpoint: "tcp://10.0.0.5:8888", proxy: "socks5://1.2.3.4:1080", proxyUsername: u, proxyPasswordFile: ${join(dir, "proxy.pw")} }
defaultRegion: cn-shanghai
credentials:
  - { registry: nvcr.io, username: "$oauthtoken", password: "nv-s3cret" }
`,
);

describe("loadConfig precedence: flag > env > file > default", () => {
  const env = { SEELIE_CONFIG: cfgPath, HOME: dir };
  test("file values and their source", () => {
    const c = loadConfig({ env });
    expect([c.registryHost, c.repo, c.username]).toEqual(["file.example.com", "filerepo", "fileuser"]);
    expect(c.sources.registryHost).toBe("file");
    expect(c.regions["cn-shanghai"]?.proxyPassword).toBe("pr0xy-s3cret");
    expect(c.allowedBaseImages).toEqual(["ghcr.io/acme/"]);
  });
  test("env beats file, flag beats env", () => {
    const c = loadConfig({ env: { ...env, SEELIE_REGISTRY_HOST: "env.example.com", SEELIE_REPO: "envrepo" }, flags: { repo: "flagrepo" } });
    expect(c.registryHost).toBe("env.example.com");
    expect(c.sources.registryHost).toBe("env");
    expect(c.repo).toBe("flagrepo");
    expect(c.sources.repo).toBe("flag");
  });
  test("the runtime root: committer.runtimeRoot, clusters.<context>.runtimeRoot, SEELIE_RUNTIME_ROOT, --runtime_root", () => {
    const file = join(dir, "runtime-root.yaml");
    writeFileSync(
      file,
      "committer: { runtimeRoot: /data/containerd }\nclusters:\n  k3s: { runtimeRoot: /var/lib/rancher/k3s/agent/containerd }\n",
    );
    const fromFile = loadConfig({ env: { HOME: dir, SEELIE_CONFIG: file } });
    expect([fromFile.runtimeRoot, fromFile.sources.runtimeRoot]).toEqual(["/data/containerd", "file"]);
    expect(fromFile.clusters.k3s?.runtimeRoot).toBe("/var/lib/rancher/k3s/agent/containerd");
    const fromEnv = loadConfig({ env: { HOME: dir, SEELIE_CONFIG: file, SEELIE_RUNTIME_ROOT: "/env/root" } });
    expect([fromEnv.runtimeRoot, fromEnv.sources.runtimeRoot]).toEqual(["/env/root", "env"]);
    const fromFlag = loadConfig({
      env: { HOME: dir, SEELIE_CONFIG: file, SEELIE_RUNTIME_ROOT: "/env/root" },
      flags: { runtimeRoot: "/flag/root" },
    });
    expect([fromFlag.runtimeRoot, fromFlag.sources.runtimeRoot]).toEqual(["/flag/root", "flag"]);
    expect(loadConfig({ env }).runtimeRoot).toBeUndefined();
  });
  test("defaults without a file: the allow list includes the platform registry", () => {
    const c = loadConfig({ env: { HOME: dir, SEELIE_HOME: join(dir, "nohome"), SEELIE_REGISTRY_HOST: "r.example.com", USER: "Bob" } });
    expect(c.allowedBaseImages[0]).toBe("r.example.com/");
    expect(c.username).toBe("bob");
    expect(c.jobStore).toBe(join(dir, "nohome", "jobs.db"));
  });
  test("a broken YAML file is an error naming the file", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "registry: [unclosed\n");
    expect(() => loadConfig({ env: { SEELIE_CONFIG: bad, HOME: dir } })).toThrow(bad);
  });
  test("a region without endpoint is an error naming it", () => {
    const bad = join(dir, "noendpoint.yaml");
    writeFileSync(bad, "regions: { eu: { proxy: socks5://x:1 } }\n");
    expect(() => loadConfig({ env: { SEELIE_CONFIG: bad, HOME: dir } })).toThrow(/regions\.eu\.endpoint/);
  });
});

describe("seelie config display", () => {
  test("masks every secret and shows sources", () => {
    const shown = showConfig({ env: { SEELIE_CONFIG: cfgPath, HOME: dir, SEELIE_REPO: "envrepo" } });
    const all = shown.text + JSON.stringify(shown.json);
    for (const secret of ["reg-s3cret", "pr0xy-s3cret", "nv-s3cret"]) expect(all).not.toContain(secret);
    expect(shown.text).toMatch(/registry\.repo\s+envrepo\s+\(env\)/);
    expect(shown.text).toMatch(/registry\.password\s+\*+\s+\(file\)/);
    expect(shown.text).toContain("cn-shanghai");
  });
});
