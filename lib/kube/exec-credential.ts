/**
 * Exec credential plugins (`users[].user.exec`, as `aws eks get-token` and `gke-gcloud-auth-plugin`
 * are used): run the command with `KUBERNETES_EXEC_INFO`, read the ExecCredential it prints (a bearer
 * token, or a client certificate and key), and keep it until its `expirationTimestamp` — or until the
 * API server answers 401, when kubectl runs the plugin again.
 */
import { SeelieError, UsageError } from "../errors.ts";
import type { ExecPlugin, KubeCluster } from "./kubeconfig.ts";

/** What a plugin hands back. */
export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Epoch ms; undefined = valid until the server refuses it. */
  expires?: number;
}

/** Expire cached credentials a little early: a token about to expire may lapse on its way. */
const EXPIRY_SKEW_MS = 10_000;
const PLUGIN_TIMEOUT_MS = 60_000;

/** Runs one plugin on demand and caches what it prints. */
export class ExecCredentialSource {
  private cached?: ExecCredential;
  private pending?: Promise<ExecCredential>;

  constructor(
    private readonly plugin: ExecPlugin,
    private readonly cluster: KubeCluster,
    private readonly user: string,
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached credential if still valid, else a fresh one from the plugin. */
  get(): Promise<ExecCredential> {
    const c = this.cached;
    if (c && (c.expires === undefined || c.expires - EXPIRY_SKEW_MS > this.now())) return Promise.resolve(c);
    this.pending ??= this.run().then(
      (cred) => {
        this.cached = cred;
        this.pending = undefined;
        return cred;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  /** Forgets the cached credential (the server refused it). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async run(): Promise<ExecCredential> {
    const p = this.plugin;
    const what = `the exec credential plugin "${p.command}" of user "${this.user}"`;
    const info = {
      apiVersion: p.apiVersion,
      kind: "ExecCredential",
      spec: {
        interactive: false,
        ...(p.provideClusterInfo
          ? {
              cluster: {
                server: this.cluster.server,
                "tls-server-name": this.cluster.tlsServerName,
                "insecure-skip-tls-verify": this.cluster.insecure,
                "proxy-url": this.cluster.proxyUrl,
              },
            }
          : {}),
      },
    };
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.env)) if (v !== undefined) env[k] = v;
    for (const e of p.env) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
    let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
    try {
      proc = Bun.spawn([p.command, ...p.args], {
        env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        timeout: PLUGIN_TIMEOUT_MS,
        killSignal: "SIGKILL",
      });
    } catch (err) {
      throw new UsageError(
        `cannot run ${what}: ${(err as Error).message}`,
        p.installHint ?? `install it, or fix users[].user.exec.command of "${this.user}" in the kubeconfig`,
      );
    }
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (proc.signalCode === "SIGKILL")
      throw new SeelieError(`${what} did not finish within ${PLUGIN_TIMEOUT_MS / 1000} s`, {
        hint: "run it by hand to see what it waits for (seelie never runs plugins interactively)",
      });
    if (code !== 0) {
      const tail = stderr.trim().split("\n").slice(-3).join(" | ");
      throw new SeelieError(`${what} failed (exit code ${code})${tail ? `: ${tail}` : ""}`, {
        hint: p.installHint ?? "run it by hand to see why (are you logged in to your cloud provider?)",
      });
    }
    return parseExecCredential(stdout, what);
  }
}

/** Reads the ExecCredential a plugin printed; throws naming the plugin when it is not one. */
export function parseExecCredential(stdout: string, what: string): ExecCredential {
  let doc: { kind?: unknown; status?: Record<string, unknown> };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new SeelieError(`${what} printed no ExecCredential JSON`, {
      hint: "run it by hand: it must print an ExecCredential object on stdout",
    });
  }
  const st = doc?.status;
  if (doc?.kind !== "ExecCredential" || !st || typeof st !== "object") {
    throw new SeelieError(`${what} printed something other than an ExecCredential with a status`, {
      hint: "run it by hand: it must print an ExecCredential object on stdout",
    });
  }
  const s = (k: string) => (typeof st[k] === "string" && st[k] ? (st[k] as string) : undefined);
  const cred: ExecCredential = { token: s("token"), clientCertificateData: s("clientCertificateData"), clientKeyData: s("clientKeyData") };
  if (!cred.token && !(cred.clientCertificateData && cred.clientKeyData)) {
    throw new SeelieError(`${what} returned neither a token nor a client certificate and key`, {
      hint: "run it by hand and check its status field",
    });
  }
  const exp = s("expirationTimestamp");
  if (exp) {
    const t = Date.parse(exp);
    if (Number.isNaN(t))
      throw new SeelieError(`${what} returned an unreadable expirationTimestamp "${exp}"`, {
        hint: "it must be RFC 3339, e.g. 2030-01-01T00:00:00Z",
      });
    cred.expires = t;
  }
  return cred;
}
