import { describe, expect, test } from "bun:test";
import type { V1Pod } from "@kubernetes/client-node";
import { describePod, podEnded, podProblem } from "../../../lib/kube/pod-state.ts";

const waiting = (reason: string, message = "", init = false): V1Pod => ({
  spec: { containers: [{ name: "main", image: "reg/img:1" }], initContainers: [{ name: "prep", image: "reg/prep:1" }] },
  status: {
    phase: "Pending",
    [init ? "initContainerStatuses" : "containerStatuses"]: [{ name: init ? "prep" : "main", state: { waiting: { reason, message } } }],
  },
});
const unschedulable: V1Pod = {
  status: {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/2 nodes are available" }],
  },
};

describe("podProblem: the states that will not get better", () => {
  const cases: [string, V1Pod, boolean, string | undefined][] = [
    ["ContainerCreating waits", waiting("ContainerCreating"), false, undefined],
    ["ErrImagePull of a passing failure waits (the kubelet retries)", waiting("ErrImagePull", "rpc error: i/o timeout"), false, undefined],
    ["ErrImagePull: not found", waiting("ErrImagePull", "manifest unknown: manifest unknown"), false, "ErrImagePull"],
    ["ErrImagePull: unauthorized", waiting("ErrImagePull", "unauthorized: authentication required"), false, "ErrImagePull"],
    ["ImagePullBackOff", waiting("ImagePullBackOff", "Back-off pulling image"), false, "ImagePullBackOff"],
    ["ErrImageNeverPull", waiting("ErrImageNeverPull"), false, "ErrImageNeverPull"],
    ["InvalidImageName", waiting("InvalidImageName"), false, "InvalidImageName"],
    ["CreateContainerConfigError", waiting("CreateContainerConfigError", 'secret "s" not found'), false, "CreateContainerConfigError"],
    ["CrashLoopBackOff", waiting("CrashLoopBackOff"), false, "CrashLoopBackOff"],
    ["in an init container", waiting("ImagePullBackOff", "", true), false, "ImagePullBackOff"],
    ["Unschedulable, not yet counted", unschedulable, false, undefined],
    ["Unschedulable, counted", unschedulable, true, "Unschedulable"],
  ];
  test.each(cases)("%s", (_what, pod, unsched, reason) => {
    expect(podProblem(pod, { unschedulable: unsched })?.reason).toBe(reason);
  });

  test("names the container and its image (init containers too)", () => {
    expect(podProblem(waiting("ImagePullBackOff", "", true), { unschedulable: false })).toEqual({
      container: "prep",
      reason: "ImagePullBackOff",
      message: "",
      image: "reg/prep:1",
    });
  });
});

describe("describePod and podEnded", () => {
  test.each([
    [waiting("ContainerCreating"), "Pending (ContainerCreating)"],
    [waiting("ErrImagePull", "not found"), "Pending (ErrImagePull: not found)"],
    [unschedulable, "Pending (Unschedulable: 0/2 nodes are available)"],
    [{ status: { phase: "Running" } } as V1Pod, "Running"],
    [{ status: { phase: "Failed", reason: "DeadlineExceeded", message: "too long" } } as V1Pod, "Failed (DeadlineExceeded: too long)"],
  ])("%#: %p", (pod, text) => {
    expect(describePod(pod)).toBe(text);
  });

  test("ended: the phase, or the main container's end while a sidecar runs", () => {
    const sidecar = {
      status: {
        phase: "Running",
        containerStatuses: [
          { name: "main", state: { terminated: { exitCode: 0 } } },
          { name: "sidecar", state: { running: {} } },
        ],
      },
    } as V1Pod;
    expect(podEnded(sidecar)).toBe(false);
    expect(podEnded(sidecar, "main")).toBe(true);
    expect(podEnded(sidecar, "sidecar")).toBe(false);
    expect(podEnded({ status: { phase: "Succeeded" } })).toBe(true);
  });
});
