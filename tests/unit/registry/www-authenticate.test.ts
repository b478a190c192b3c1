import { describe, expect, test } from "bun:test";
import { isLoopbackRegistry, parseWwwAuthenticate } from "../../../lib/registry/www-authenticate.ts";

describe("parseWwwAuthenticate", () => {
  const cases: [string, string | null, ReturnType<typeof parseWwwAuthenticate>][] = [
    ["empty", "", undefined],
    ["null", null, undefined],
    ["basic", 'Basic realm="basic-realm"', { scheme: "basic", params: { realm: "basic-realm" } }],
    [
      "bearer with comma in scope",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"',
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull,push" } },
    ],
    ["spaces and unquoted", 'Bearer  realm = "r" , service=reg', { scheme: "bearer", params: { realm: "r", service: "reg" } }],
    ["escaped quote", 'Bearer realm="a\\"b",error="insufficient_scope"', { scheme: "bearer", params: { realm: 'a"b', error: "insufficient_scope" } }],
    ["scheme only", "Negotiate", { scheme: "negotiate", params: {} }],
    ["case of keys", 'BEARER Realm="x"', { scheme: "bearer", params: { realm: "x" } }],
  ];
  for (const [name, header, want] of cases) {
    test(name, () => expect(parseWwwAuthenticate(header)).toEqual(want));
  }
});

describe("isLoopbackRegistry", () => {
  const cases: [string, boolean][] = [
    ["127.0.0.1:5000", true],
    ["127.1.2.3", true],
    ["localhost:5000", true],
    ["localhost", true],
    ["[::1]:5000", true],
    ["registry.example.com", false],
    ["10.0.0.1:5000", false],
    ["localhost.example.com:5000", false],
  ];
  for (const [host, want] of cases) test(host, () => expect(isLoopbackRegistry(host)).toBe(want));
});
