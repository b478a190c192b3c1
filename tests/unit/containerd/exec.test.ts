import { describe, expect, test } from "bun:test";
import { CONTAINERD_ID_MAX, execIdFor } from "../../../lib/containerd/exec.ts";

// CRI names containers by 64 hex digits; containerd refuses exec ids over 76 characters.
describe("execIdFor", () => {
  const cri = "2532ea87f1b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2";
  test.each([
    ["a CRI container id (64 hex)", cri],
    ["a short ctr name", "seelie-test-1"],
    ["a name whose 12th character is a dash", "seelie-test-main-mx3ea3kqdpha"],
    ["a name with no alphanumerics", "---"],
    ["a name with odd characters", "ns/pod:ctr name"],
    ["a very long name", "x".repeat(300)],
  ])("%s stays within containerd's limit and is valid", (_what, id) => {
    const exec = execIdFor(id);
    expect(exec.length).toBeLessThanOrEqual(CONTAINERD_ID_MAX);
    // containerd's own identifier rule (identifiers.Validate).
    expect(exec).toMatch(/^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$/);
  });
  test("names the container and differs per call", () => {
    expect(execIdFor(cri)).toStartWith(`seelie-exec-${cri.slice(0, 12)}-`);
    expect(execIdFor(cri)).not.toBe(execIdFor(cri));
  });
});
