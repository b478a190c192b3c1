/**
 * A test playing the kubelet for the fake API server: when a selected Pod is created it goes
 * Pending (ContainerCreating) → Running, its one container runs as a real local process (the test
 * maps the Pod's volumes and paths to local ones), the process's stdout and stderr become the
 * container's log, and its exit becomes the container's terminated state and the Pod's phase
 * (termination message from `terminationMessagePath`, else the log's tail when the policy is
 * `FallbackToLogsOnError` and the process failed). Deleting the Pod stops the process (SIGTERM, then
 * SIGKILL after the grace period), as the kubelet does.
 */
import { sleep } from "../../lib/util/sleep.ts";
import type { FakeKube, KubeObject } from "./fake-kube.ts";

/** How to run a Pod's container as a local process. */
export interface LocalProcess {
  argv: string[];
  env?: Record<string, string>;
  /** Local file standing for the container's terminationMessagePath. */
  terminationMessageFile?: string;
  /** Called after the process ended (remove temp files). */
  cleanup?: () => void;
}

export interface KubeletOptions {
  /** Which created Pods this kubelet runs (default: every Pod). */
  select?: (pod: KubeObject) => boolean;
  /** Maps a Pod to a local process; throw to fail the container (CreateContainerError). */
  prepare: (pod: KubeObject) => LocalProcess | Promise<LocalProcess>;
  /** How long a Pod stays Pending (ContainerCreating) before it runs; default 200 ms. */
  pendingMs?: number;
  /** How long the container is Running before the process starts (to interrupt a run mid-way). */
  startDelayMs?: number;
  /** Instead of running, leave the container waiting with this reason (e.g. ImagePullBackOff). */
  waitingReason?: string;
  /** Grace period before SIGKILL after a delete; default 5 s. */
  graceMs?: number;
}

/** What the kubelet did, for assertions. */
export interface KubeletRecord {
  /** Pods it started processes for, by name. */
  started: string[];
  /** Pods whose process it killed because the Pod was deleted. */
  killed: string[];
  /** Exit codes by Pod name. */
  exits: Record<string, number>;
  /** Resolves when every process the kubelet started has ended. */
  idle(): Promise<void>;
}

/** Starts playing the kubelet on `fk`. */
export function playKubelet(fk: FakeKube, opts: KubeletOptions): KubeletRecord {
  const running = new Map<string, { proc?: ReturnType<typeof Bun.spawn>; deleted: boolean }>();
  const pending = new Set<Promise<void>>();
  const record: KubeletRecord = {
    started: [],
    killed: [],
    exits: {},
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
  const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}/${o.metadata.uid}`;

  /** Updates the stored Pod unless it was deleted (or replaced) meanwhile. */
  const update = (pod: KubeObject, fn: (p: KubeObject) => void): boolean => {
    const cur = fk.get("pods", pod.metadata.namespace, pod.metadata.name);
    if (!cur || cur.metadata.uid !== pod.metadata.uid) return false;
    fn(cur);
    fk.put("pods", cur);
    return true;
  };

  async function run(pod: KubeObject): Promise<void> {
    const k = key(pod);
    const state = { deleted: false } as { proc?: ReturnType<typeof Bun.spawn>; deleted: boolean };
    running.set(k, state);
    const ns = pod.metadata.namespace as string;
    const name = pod.metadata.name as string;
    const container = pod.spec.containers[0];
    const cname = container.name as string;
    const cs = (st: Record<string, unknown>, ready = false) => [{ name: cname, image: container.image, imageID: "", ready, restartCount: 0, ...st }];
    update(pod, (p) => {
      p.status = { phase: "Pending", startTime: new Date().toISOString(), containerStatuses: cs({ state: { waiting: { reason: "ContainerCreating" } } }) };
    });
    await sleep(opts.pendingMs ?? 200);
    if (state.deleted) return;
    if (opts.waitingReason) {
      update(pod, (p) => {
        p.status.containerStatuses = cs({ state: { waiting: { reason: opts.waitingReason, message: `fake kubelet: ${opts.waitingReason}` } } });
      });
      return;
    }
    let local: LocalProcess;
    try {
      local = await opts.prepare(pod);
    } catch (err) {
      update(pod, (p) => {
        p.status.containerStatuses = cs({ state: { waiting: { reason: "CreateContainerError", message: String(err) } } });
      });
      return;
    }
    const startedAt = new Date().toISOString();
    const containerID = `fake://${crypto.randomUUID().replace(/-/g, "")}`;
    update(pod, (p) => {
      p.status.phase = "Running";
      p.status.containerStatuses = cs({ containerID, state: { running: { startedAt } } }, true);
    });
    fk.appendLog(ns, name, cname, "");
    for (let waited = 0; waited < (opts.startDelayMs ?? 0) && !state.deleted; waited += 100) await sleep(100);
    if (state.deleted) return local.cleanup?.();
    record.started.push(name);
    const proc = Bun.spawn(local.argv, { env: { ...process.env, ...local.env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    state.proc = proc;
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) fk.appendLog(ns, name, cname, dec.decode(chunk, { stream: true }));
    };
    await Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>), pump(proc.stderr as ReadableStream<Uint8Array>)]);
    const code = await proc.exited;
    record.exits[name] = code;
    let message = "";
    if (local.terminationMessageFile) {
      try {
        message = (await Bun.file(local.terminationMessageFile).text()).slice(0, 4096);
      } catch {
        /* not written */
      }
    }
    if (!message && code !== 0 && container.terminationMessagePolicy === "FallbackToLogsOnError") {
      const log = fk.logOf(ns, name, cname) ?? "";
      message = log.split("\n").slice(-80).join("\n").slice(-2048);
    }
    update(pod, (p) => {
      p.status.phase = code === 0 ? "Succeeded" : "Failed";
      p.status.containerStatuses = cs({
        containerID,
        state: { terminated: { exitCode: code, reason: code === 0 ? "Completed" : "Error", message: message || undefined, startedAt, finishedAt: new Date().toISOString(), containerID } },
      });
    });
    fk.endLog(ns, name, cname);
    local.cleanup?.();
  }

  fk.onCreate((plural, obj) => {
    if (plural !== "pods" || (opts.select && !opts.select(obj))) return;
    const p = run(obj).finally(() => {
      pending.delete(p);
      running.delete(key(obj));
    });
    pending.add(p);
  });
  fk.onDelete((plural, obj) => {
    if (plural !== "pods") return;
    const state = running.get(key(obj));
    if (!state) return;
    state.deleted = true;
    if (state.proc && state.proc.exitCode === null) {
      record.killed.push(obj.metadata.name);
      state.proc.kill("SIGTERM");
      const proc = state.proc;
      setTimeout(() => proc.exitCode === null && proc.kill("SIGKILL"), opts.graceMs ?? 5000);
    }
  });
  return record;
}
