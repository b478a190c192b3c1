import { describe, expect, test } from "bun:test";
import { parseWwwAuthenticate } from "../../../lib/registry/www-authenticate.ts";

describe("parseWwwAuthenticate", () => {
  const cases: [string, string | null, ReturnType<typeof parseWwwAuthenticate>][] = [
    ["empty", "", undefined],
    ["null", null, undefined],
    ["basic", 'Basic realm="basic-realm"', { scheme: "basic", params: { realm: "basic-realm" } }],
    [
      "bearer with comma in scope",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"',
      {
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull,push" },
      },
    ],
    ["spaces and unquoted", 'Bearer  realm = "r" , service=reg', { scheme: "bearer", params: { realm: "r", service: "reg" } }],
    [
      "escaped quote",
      'Bearer realm="a\\"b",error="insufficient_scope"',
      { scheme: "bearer", params: { realm: 'a"b', error: "insufficient_scope" } },
    ],
    ["scheme only", "Negotiate", { scheme: "negotiate", params: {} }],
    ["case of keys", 'BEARER Realm="x"', { scheme: "bearer", params: { realm: "x" } }],
  ];
  for (const [name, header, want] of cases) {
    test(name, () => expect(parseWwwAuthenticate(header)).toEqual(want));
  }
});
