/**
 * Stands in for the `ssh2` package in the compiled executables (scripts/build.ts): docker-modem
 * loads it for `ssh://` Docker hosts, which seelie does not offer.
 */
export class Client {
  constructor() {
    throw new Error("ssh:// Docker hosts are not supported: use the unix socket, tcp:// or a SOCKS5 proxy");
  }
}
