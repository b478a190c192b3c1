/**
 * A second, short-lived registry (distribution 2.8, htpasswd auth with the test user) on another
 * loopback port, for tests that need to kill a registry or start it late, and for benchmarks that push
 * gigabytes (the shared test registry frees space only by an offline garbage collection).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { need } from "./services.ts";

export interface ExtraRegistry {
  addr: string;
  start(): Promise<void>;
  /** SIGKILLs the registry process. */
  kill(): Promise<void>;
  /** Empties its storage (no blob descriptor cache is configured: it looks at the disk each time). */
  wipe(): void;
  /** Kills it and removes its storage. */
  dispose(): Promise<void>;
}

/**
 * A registry on 127.0.0.1:`port` (not started yet) sharing the test registry's htpasswd file, or
 * with the `auth:` block given (e.g. token auth).
 */
export function extraRegistry(port: number, opts: { auth?: string } = {}): ExtraRegistry {
  const dir = mkdtempSync(join(tmpdir(), "seelie-extra-registry-"));
  const addr = `127.0.0.1:${port}`;
  const htpasswd = join(need("SEELIE_TEST_DIR"), "htpasswd");
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: ${dir}/data }, delete: { enabled: true } }
http: { addr: ${addr} }
auth: ${opts.auth ?? `{ htpasswd: { realm: basic-realm, path: ${htpasswd} } }`}
`,
  );
  let proc: Subprocess | undefined;
  const self: ExtraRegistry = {
    addr,
    async start() {
      if (proc && proc.exitCode === null && proc.signalCode === null) return;
      proc = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "ignore" });
      for (let i = 0; i < 100; i++) {
        try {
          const r = await fetch(`http://${addr}/v2/`);
          if (r.status === 401 || r.status === 200) return;
        } catch {
          // not listening yet
        }
        await Bun.sleep(50);
      }
      throw new Error(`the extra registry on ${addr} did not start`);
    },
    async kill() {
      if (proc && proc.exitCode === null) {
        proc.kill(9);
        await proc.exited;
      }
    },
    wipe() {
      rmSync(join(dir, "data"), { recursive: true, force: true });
    },
    async dispose() {
      await self.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
