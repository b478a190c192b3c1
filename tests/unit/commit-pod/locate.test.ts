import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../lib/errors.ts";
import { DEFAULT_CONTAINER_ANNOTATION, chooseContainer, parseContainerId, targetFromPod } from "../../../lib/commit-pod/locate.ts";
import { runningPod } from "./fixtures.ts";

describe("chooseContainer", () => {
  const cases: { name: string; pod: Parameters<typeof runningPod>[0]; flag?: string; want?: string; error?: RegExp }[] = [
    { name: "the only container", pod: { containers: ["notebook"] }, want: "notebook" },
    { name: "by name among several", pod: { containers: ["notebook", "istio-proxy"] }, flag: "notebook", want: "notebook" },
    { name: "a sidecar only when named", pod: { containers: ["notebook", "istio-proxy"] }, flag: "istio-proxy", want: "istio-proxy" },
    {
      name: "the default-container annotation",
      pod: { containers: ["istio-proxy", "notebook"], annotations: { [DEFAULT_CONTAINER_ANNOTATION]: "notebook" } },
      want: "notebook",
    },
    { name: "ambiguity lists the names", pod: { containers: ["notebook", "istio-proxy"] }, error: /2 containers: notebook, istio-proxy/ },
    { name: "an unknown name", pod: { containers: ["notebook"] }, flag: "nope", error: /no container "nope"/ },
    {
      name: "an annotation naming a missing container",
      pod: { containers: ["a", "b"], annotations: { [DEFAULT_CONTAINER_ANNOTATION]: "c" } },
      error: /default container .*no such container/,
    },
    { name: "init containers are not candidates unless named", pod: { containers: ["main"], init: ["setup"] }, want: "main" },
    { name: "an init container when named", pod: { containers: ["main"], init: ["setup"] }, flag: "setup", want: "setup" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const pod = runningPod(c.pod);
      if (c.error) {
        expect(() => chooseContainer(pod, c.flag)).toThrow(c.error);
        expect(() => chooseContainer(pod, c.flag)).toThrow(UsageError);
      } else expect(chooseContainer(pod, c.flag)).toBe(c.want!);
    });
  }
});

describe("parseContainerId", () => {
  test.each([
    [
      "containerd://2532ea87fe612bcfe17a9c37721de9acf839149ee92e4e3c97f18e3791370270",
      "containerd",
      "2532ea87fe612bcfe17a9c37721de9acf839149ee92e4e3c97f18e3791370270",
    ],
    ["docker://abc123", "docker", "abc123"],
  ])("%s", (v, runtime, id) => expect(parseContainerId(v)).toEqual({ runtime: runtime as "docker", id }));
  test("other runtimes are refused by name", () => expect(() => parseContainerId("cri-o://abc")).toThrow(/runtime "cri-o"/));
  test("garbage", () => expect(() => parseContainerId("abc")).toThrow(/runtime:\/\/id/));
});

describe("targetFromPod", () => {
  test("gives node, runtime and id", () => {
    const t = targetFromPod(runningPod({ containers: ["nb"], ids: { nb: "feedbeef" }, runtime: "docker" }));
    expect(t).toMatchObject({
      namespace: "team-a",
      pod: "nb",
      container: "nb",
      node: "node-1",
      runtime: "docker",
      containerId: "feedbeef",
    });
  });
  test("a pending pod without a node is a clear error", () => {
    expect(() => targetFromPod(runningPod({ containers: ["nb"], node: null }))).toThrow(/Pending and not scheduled to a node/);
  });
  test("a container that is not running", () => {
    expect(() => targetFromPod(runningPod({ containers: ["nb"], waiting: { nb: "CrashLoopBackOff" } }))).toThrow(
      /not running: waiting \(CrashLoopBackOff\)/,
    );
  });
  test("a finished init container named explicitly is not running", () => {
    expect(() => targetFromPod(runningPod({ containers: ["main"], init: ["setup"] }), "setup")).toThrow(/terminated \(Completed\)/);
  });
});
