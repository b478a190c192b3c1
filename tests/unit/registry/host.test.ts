import { describe, expect, test } from "bun:test";
import { isLoopbackRegistry } from "../../../lib/registry/host.ts";

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
