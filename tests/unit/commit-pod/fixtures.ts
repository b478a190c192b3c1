/** Pod objects for the commit tests (the shapes client-node returns). */
import type { V1Pod } from "@kubernetes/client-node";

/** A running pod with the given containers (each running unless listed in `notRunning`). */
export function runningPod(opts: {
  name?: string;
  namespace?: string;
  containers: string[];
  node?: string | null;
  annotations?: Record<string, string>;
  runtime?: string;
  ids?: Record<string, string>;
  waiting?: Record<string, string>;
  init?: string[];
}): V1Pod {
  const runtime = opts.runtime ?? "containerd";
  const id = (c: string) => opts.ids?.[c] ?? `${c.padEnd(8, "0").replace(/[^0-9a-f]/g, "a")}${"0123456789abcdef".repeat(4)}`.slice(0, 64);
  const status = (c: string) =>
    opts.waiting?.[c]
      ? { name: c, ready: false, restartCount: 0, image: "img", imageID: "", state: { waiting: { reason: opts.waiting[c] } } }
      : {
          name: c,
          ready: true,
          restartCount: 0,
          image: "img",
          imageID: "",
          containerID: `${runtime}://${id(c)}`,
          state: { running: { startedAt: new Date() } },
        };
  return {
    metadata: { name: opts.name ?? "nb", namespace: opts.namespace ?? "team-a", annotations: opts.annotations },
    spec: {
      nodeName: opts.node === null ? undefined : (opts.node ?? "node-1"),
      containers: opts.containers.map((name) => ({ name, image: "img" })),
      initContainers: opts.init?.map((name) => ({ name, image: "img" })),
    },
    status: {
      phase: opts.node === null ? "Pending" : "Running",
      containerStatuses: opts.node === null ? undefined : opts.containers.map(status),
      initContainerStatuses: opts.init?.map((c) => ({
        name: c,
        ready: false,
        restartCount: 0,
        image: "img",
        imageID: "",
        containerID: `${runtime}://${id(c)}`,
        state: { terminated: { exitCode: 0, reason: "Completed" } },
      })),
    },
  } as V1Pod;
}
