/**
 * The package installs of tests/services/up.sh (`apt_install` in tests/services/apt.sh) with the real
 * apt and dpkg, in a scratch chroot: a copy of the Debian tree up.sh made for the Python base, never this
 * machine's own packages. The situation of issue 10: a config file written before the package that owns
 * it is installed (the old quick start wrote /etc/containers/policy.json before containers-common).
 * Made up here: the package, a tiny .deb with one conffile built with dpkg-deb and installed from a
 * local path (apt takes one), so the test needs the mirror only for `apt-get update`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/seelie.ts";
import { need, sh } from "../helpers/services.ts";

setDefaultTimeout(300_000);
const PKG = "seelie-apt-test-conffile";
const CONF = "/etc/seelie-apt-test/app.conf";
let scratch = "";

/** A fresh chroot with the package file in /tmp/pkg.deb, apt.sh in /tmp/apt.sh and CONF already written by "someone else". */
async function freshRoot(name: string): Promise<string> {
  const tree = join(need("SEELIE_TEST_DIR"), "cache/pyroot");
  if (!existsSync(join(tree, "usr/bin/apt-get"))) throw new Error(`${tree} holds no Debian tree: run tests/services/up.sh, which makes it`);
  const root = join(scratch, name);
  const r = await sh(["cp", "-a", tree, root]);
  if (r.code !== 0) throw new Error(`copying ${tree}: ${r.stderr}`);
  cpSync("/etc/resolv.conf", join(root, "etc/resolv.conf"));
  const pkg = join(scratch, `pkg-${name}`);
  mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
  mkdirSync(join(pkg, "etc/seelie-apt-test"), { recursive: true });
  writeFileSync(
    join(pkg, "DEBIAN/control"),
    `Package: ${PKG}\nVersion: 1.0\nArchitecture: all\nMaintainer: seelie tests <tests@seelie.invalid>\nDescription: one conffile\n`,
  );
  writeFileSync(join(pkg, "DEBIAN/conffiles"), `${CONF}\n`);
  writeFileSync(join(pkg, CONF), "from-the-package=1\n");
  const b = await sh(["dpkg-deb", "--build", "--root-owner-group", pkg, join(root, "tmp/pkg.deb")]);
  if (b.code !== 0) throw new Error(`dpkg-deb: ${b.stderr}`);
  cpSync(join(ROOT, "tests/services/apt.sh"), join(root, "tmp/apt.sh"));
  mkdirSync(join(root, "etc/seelie-apt-test"), { recursive: true });
  writeFileSync(join(root, CONF), "written-before=1\n");
  return root;
}

const installedStatus = async (root: string) => (await sh(["chroot", root, "dpkg-query", "-W", "-f=${Status}", PKG])).stdout;
const aptInstall = (root: string) =>
  sh(["chroot", root, "bash", "-c", "source /tmp/apt.sh && apt_install /tmp/apt.log /tmp/pkg.deb"], {
    env: { DEBIAN_FRONTEND: undefined },
  });

beforeAll(() => {
  scratch = mkdtempSync("/var/tmp/seelie-apt-test-");
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("apt_install: no question, config files already there", () => {
  test("reproduction: a plain non-interactive apt-get install stops at dpkg's conffile question", async () => {
    const root = await freshRoot("plain");
    const r = await sh([
      "chroot",
      root,
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      "/tmp/pkg.deb",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("end of file on stdin at conffile prompt");
    expect(await installedStatus(root)).not.toBe("install ok installed");

    // The machine of the issue: apt_install finishes the half-configured package, keeping the file.
    const fixed = await aptInstall(root);
    expect(fixed.code, readFileSync(join(root, "tmp/apt.log"), "utf8")).toBe(0);
    expect(await installedStatus(root)).toBe("install ok installed");
    expect(readFileSync(join(root, CONF), "utf8")).toBe("written-before=1\n");
  });

  test("a fresh install over a config file written earlier: installed, the file kept, nothing asked", async () => {
    const root = await freshRoot("fresh");
    const r = await aptInstall(root);
    const log = readFileSync(join(root, "tmp/apt.log"), "utf8");
    expect(r.code, log).toBe(0);
    expect(log).toContain("Keeping old config file as default");
    expect(await installedStatus(root)).toBe("install ok installed");
    expect(readFileSync(join(root, CONF), "utf8")).toBe("written-before=1\n");
  });
});
