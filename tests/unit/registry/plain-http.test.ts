/** The one rule for credentials over plain http (issue 10.5), as a table; the integration test is tests/integration/registry/plain-http.test.ts. */
import { expect, test } from "bun:test";
import { mayCarryCredentials } from "../../../lib/registry/distribution.ts";

const cases: [string, string, string, boolean, boolean][] = [
  ["https anywhere", "https://registry.example.com/v2/", "registry.example.com", false, true],
  ["https token realm on another host", "https://auth.example.com/token", "registry.example.com", false, true],
  ["http to a non-loopback registry", "http://registry.example.com/v2/", "registry.example.com", false, false],
  ["http to a name that only resolves to loopback", "http://vm:5000/v2/", "vm:5000", false, false],
  ["http to a private address", "http://10.0.0.5:5000/v2/", "10.0.0.5:5000", false, false],
  ["http to 127.0.0.1", "http://127.0.0.1:5000/v2/", "127.0.0.1:5000", false, true],
  ["http to 127.0.0.2", "http://127.0.0.2:5000/v2/", "127.0.0.2:5000", false, true],
  ["http to localhost", "http://localhost:5000/v2/", "localhost:5000", false, true],
  ["http to [::1]", "http://[::1]:5000/v2/", "[::1]:5000", false, true],
  ["http to an insecure-configured registry", "http://registry.lan:5000/v2/", "registry.lan:5000", true, true],
  ["http realm on another host of an insecure registry", "http://auth.lan/token", "registry.lan:5000", true, false],
  ["http upload location on another host", "http://evil.example.com/upload", "127.0.0.1:5000", false, false],
  ["insecure registry, other port of the same host", "http://registry.lan:80/v2/", "registry.lan:5000", true, false],
  ["not http at all", "ftp://127.0.0.1/x", "127.0.0.1", false, false],
];
test.each(cases)("%s", (_name, url, registry, insecure, want) => expect(mayCarryCredentials(url, registry, insecure)).toBe(want));
