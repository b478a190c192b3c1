import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authFromDockerConfig, execCredentialHelper, resolveRegistryAuth } from "../../../lib/registry/credentials.ts";
import { loadConfig } from "../../../lib/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "seelie-creds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString("base64");

// A real credential helper program on PATH, as docker-credential-pass or -desktop would be.
const bin = join(dir, "bin");
mkdirSync(bin);
writeFileSync(
  join(bin, "docker-credential-testhelper"),
  `#!/bin/sh
read server
case "$server" in
  helper.example.com) echo '{"ServerURL":"helper.example.com","Username":"hu","Secret":"hs"}' ;;
  token.example.com) echo '{"ServerURL":"token.example.com","Username":"<token>","Secret":"refresh-tok"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"hubuser","Secret":"hubpw"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
);
chmodSync(join(bin, "docker-credential-testhelper"), 0o755);
process.env.PATH = `${bin}:${process.env.PATH}`;

describe("credentials from Docker's config.json, as the docker CLI reads them", () => {
  const cfg = {
    auths: {
      "https://index.docker.io/v1/": { auth: b64("hub:hubpass") },
      "127.0.0.1:5000": { auth: b64("seelie:pa:ss") },
      "https://old.example.com/v1/": { username: "u2", password: "p2" },
    },
    credHelpers: { "helper.example.com": "testhelper", "token.example.com": "testhelper" },
  };
  const cases: [string, string | undefined, string | undefined][] = [
    ["docker.io", "hub", "hubpass"],
    ["127.0.0.1:5000", "seelie", "pa:ss"],
    ["old.example.com", "u2", "p2"],
    ["helper.example.com", "hu", "hs"],
    ["unknown.example.com", undefined, undefined],
  ];
  test.each(cases)("%s", async (registry, user, pass) => {
    const a = await authFromDockerConfig(cfg, registry, "config.json", execCredentialHelper);
    expect(a?.username).toBe(user);
    expect(a?.password).toBe(pass);
  });
  test("a helper's <token> user becomes an identity token", async () => {
    const a = await authFromDockerConfig(cfg, "token.example.com", "config.json", execCredentialHelper);
    expect(a?.identitytoken).toBe("refresh-tok");
    expect(a?.password).toBeUndefined();
  });
  test("credsStore is asked before auths; a miss falls back to auths", async () => {
    const store = { credsStore: "testhelper", auths: { "127.0.0.1:5000": { auth: b64("a:b") } } };
    expect((await authFromDockerConfig(store, "docker.io", "c", execCredentialHelper))?.username).toBe("hubuser");
    expect((await authFromDockerConfig(store, "127.0.0.1:5000", "c", execCredentialHelper))?.username).toBe("a");
  });
  test("a missing helper program is an error naming it", async () => {
    await expect(authFromDockerConfig({ credsStore: "nosuchhelper" }, "x.io", "c", execCredentialHelper)).rejects.toThrow(
      /docker-credential-nosuchhelper/,
    );
  });
});

describe("resolveRegistryAuth order: seelie credentials, then SEELIE_REGISTRY_*, then DOCKER_CONFIG", () => {
  const dockerDir = join(dir, "docker");
  mkdirSync(dockerDir);
  writeFileSync(
    join(dockerDir, "config.json"),
    JSON.stringify({ auths: { "reg.example.com": { auth: b64("dock:dockpw") }, "nvcr.io": { auth: b64("x:y") } } }),
  );
  const cfgFile = join(dir, "c.yaml");
  writeFileSync(cfgFile, 'credentials: [{ registry: nvcr.io, username: "$oauthtoken", password: nvkey }]\n');
  test("each source in turn", async () => {
    const env = { HOME: dir, SEELIE_CONFIG: cfgFile, DOCKER_CONFIG: dockerDir, SEELIE_REGISTRY_HOST: "reg.example.com" };
    const c1 = loadConfig({ env });
    expect((await resolveRegistryAuth("nvcr.io", c1))?.username).toBe("$oauthtoken");
    expect((await resolveRegistryAuth("reg.example.com", c1))?.username).toBe("dock");
    const c2 = loadConfig({ env: { ...env, SEELIE_REGISTRY_USERNAME: "envu", SEELIE_REGISTRY_PASSWORD: "envp" } });
    const a = await resolveRegistryAuth("reg.example.com", c2);
    expect([a?.username, a?.password]).toEqual(["envu", "envp"]);
    expect(a?.source).not.toContain("envp");
  });
});
