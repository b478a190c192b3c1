/**
 * A Docker token server (the registry token auth spec) for tests: a self-signed RSA certificate made
 * with openssl, JWTs (RS256, `x5c` header) granting what is asked to the test user, 401 otherwise.
 * Paired with a real registry configured with `auth: token` and the certificate as root bundle.
 */
import { createSign, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** The scopes asked for, in order (to check what the client requested). */
  requests: string[][];
  stop(): void;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** Starts the token server on a free loopback port. */
export async function startTokenServer(user: string, password: string): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), "seelie-token-"));
  const key = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  const p = Bun.spawn(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      certPath,
      "-days",
      "1",
      "-subj",
      "/CN=seelie-test-token",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await p.exited) !== 0) throw new Error(`openssl failed: ${await new Response(p.stderr).text()}`);
  const keyPem = readFileSync(key, "utf8");
  const der = new X509Certificate(readFileSync(certPath)).raw;
  const service = "seelie-test-registry";
  const issuer = "seelie-test-issuer";
  const requests: string[][] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (req.headers.get("authorization") !== expected) return new Response("bad credentials", { status: 401 });
      const scopes = url.searchParams.getAll("scope");
      requests.push(scopes);
      const access = scopes.flatMap((s) => {
        const [type, ...rest] = s.split(":");
        const actions = rest.pop() ?? "";
        return [{ type, name: rest.join(":"), actions: actions.split(",") }];
      });
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: "RS256", typ: "JWT", x5c: [der.toString("base64")] };
      const claims = {
        iss: issuer,
        sub: user,
        aud: url.searchParams.get("service"),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: crypto.randomUUID(),
        access,
      };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const sig = createSign("RSA-SHA256").update(input).sign(keyPem);
      return Response.json({ token: `${input}.${b64url(sig)}`, expires_in: 300 });
    },
  });
  return {
    realm: `http://127.0.0.1:${server.port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop() {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
