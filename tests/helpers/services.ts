/**
 * The real services started by tests/services/up.sh, as the test run exports them. A test that needs
 * one calls `need(...)`: when the variable is missing the test fails saying why, it is never skipped.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The value of a SEELIE_TEST_* variable, or an error that says how to start the services. */
export function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through 'bash tests/run.sh', which starts the real services`);
  return v;
}

/** The registry's address, user and password. */
export function testRegistry(): { addr: string; user: string; password: string; dockerConfig: string } {
  return {
    addr: need("SEELIE_TEST_REGISTRY"),
    user: need("SEELIE_TEST_REGISTRY_USER"),
    password: readFileSync(need("SEELIE_TEST_REGISTRY_PASSWORD_FILE"), "utf8").trim(),
    dockerConfig: need("SEELIE_TEST_DOCKER_CONFIG"),
  };
}

/**
 * Pulls `ref` from the test registry with ctr, without its password in argv: ctr takes credentials
 * only as `--user USER:PASSWORD` (seen by `ps`) or from a terminal, so the registry's Basic
 * authorization goes into a hosts.toml header (containerd >= 1.5) in a root-only temp directory that
 * lives as long as the pull. `run` runs ctr (its address and namespace are the caller's) with the pull's arguments.
 */
export async function ctrPull<T>(ref: string, run: (args: string[]) => Promise<T>): Promise<T> {
  const reg = testRegistry();
  const dir = mkdtempSync(join(tmpdir(), "seelie-ctr-hosts-"));
  try {
    mkdirSync(join(dir, reg.addr), { mode: 0o700 });
    const url = `http://${reg.addr}`;
    const basic = Buffer.from(`${reg.user}:${reg.password}`).toString("base64");
    writeFileSync(
      join(dir, reg.addr, "hosts.toml"),
      `server = "${url}"\n[host."${url}"]\n  capabilities = ["pull", "resolve"]\n  [host."${url}".header]\n    authorization = "Basic ${basic}"\n`,
      { mode: 0o600 },
    );
    return await run(["images", "pull", "--hosts-dir", dir, ref]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Removes containerd containers a test made: kills each task, removes it once it has stopped (up to
 * 2 s), then the container. What is gone already is no error.
 */
export async function removeCtrContainers(sock: string, namespace: string, ids: string[]): Promise<void> {
  const ctr = (...a: string[]) => sh(["ctr", "--address", sock, "-n", namespace, ...a]);
  for (const id of ids) {
    await ctr("task", "kill", "-s", "KILL", id);
    for (let i = 0; i < 20; i++) {
      const r = await ctr("task", "rm", "-f", id);
      if (r.code === 0 || /not found/.test(r.stderr)) break;
      await Bun.sleep(100);
    }
    await ctr("containers", "rm", id);
  }
}

/** Runs a command, returning its exit code and output (never throws on a non-zero exit); `env` adds to `baseEnv` (default: this process's). */
export async function sh(
  argv: string[],
  opts: { env?: Record<string, string | undefined>; baseEnv?: Record<string, string | undefined>; stdin?: string; cwd?: string } = {},
) {
  const base = opts.baseEnv ?? process.env;
  const p = Bun.spawn(argv, {
    env: opts.env ? { ...base, ...opts.env } : base,
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    cwd: opts.cwd,
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** Runs a command that must succeed: its trimmed stdout, or an error naming the command and its stderr. */
export async function shOk(argv: string[]): Promise<string> {
  const r = await sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Debian's docker client (matches the 20.10 engine), with the test registry's credentials. */
export function dockerCli(...args: string[]): string[] {
  return ["/usr/bin/docker", "--config", need("SEELIE_TEST_DOCKER_CONFIG"), ...args];
}

/**
 * Follows a running process's peak RSS (VmHWM of /proc/PID/status, in MiB) until it exits. Not
 * `resourceUsage().maxRSS`: a spawned child's maxRSS also counts the parent's pages it held between
 * fork and exec, so a test process that has grown makes every child look as large.
 */
export function followPeakRss(pid: number, everyMs = 20): { stop(): number } {
  let peakKiB = 0;
  const read = () => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      /* exited */
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peakKiB / 1024;
    },
  };
}
