/**
 * Following one container's log through the transport, surviving a stream that ends early (API
 * servers, proxies and load balancers close long-lived streams): lines are asked for with timestamps,
 * and when the stream ends while the container still runs it is resumed from the last timestamp,
 * skipping the lines already seen (`sinceTime` has one-second precision). After the container ended,
 * one last read picks up what the stream missed. The owner calls `poke()` with the container's state
 * on every status poll.
 */
import { errorMessage } from "../errors.ts";
import { kubeError } from "./errors.ts";
import type { KubeTransport } from "./transport.ts";

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z (.*)$/s;
const MAX_RESUMES = 100;

/** A container's state as the follower needs it. */
export type ContainerPhase = "waiting" | "running" | "terminated";

/** A timestamp as a sortable key: seconds, then nanoseconds padded to 9 digits. */
function tsKey(sec: string, frac: string | undefined): string {
  return `${sec}.${(frac ?? ".").slice(1).padEnd(9, "0")}`;
}

/** Follows one container's log; lines (without their timestamps) go to `onLine`. */
export class LogFollower {
  private active?: Promise<void>;
  private abort?: AbortController;
  private started = false;
  private finished = false;
  private stopped = false;
  private resumes = 0;
  private gotLines = false;
  private lastKey?: string;
  private lastSecond?: string;
  private readonly seenAtLast = new Set<string>();

  constructor(
    private readonly transport: KubeTransport,
    private readonly namespace: string,
    private readonly pod: string,
    readonly container: string,
    private readonly onLine: (line: string) => void,
    private readonly onProblem: (msg: string) => void = () => {},
  ) {}

  /** How many times a stream was resumed (for tests and messages). */
  get resumed(): number {
    return this.resumes;
  }

  /** Starts a stream when the container runs or has ended and none is open; resumes one that ended early. */
  poke(state: ContainerPhase): void {
    if (this.active || this.finished || this.stopped || state === "waiting") return;
    if (this.gotLines && !this.lastSecond) {
      // No timestamps to resume from: a second stream would repeat lines. Only the first one counts.
      this.finished = true;
      return;
    }
    if (state === "terminated")
      this.finished = true; // this read goes to the end of the log
    else if (this.started && ++this.resumes > MAX_RESUMES) return;
    this.started = true;
    this.active = this.stream().finally(() => {
      this.active = undefined;
    });
  }

  /** Resolves when the open stream (if any) ends. */
  done(): Promise<void> {
    return this.active ?? Promise.resolve();
  }

  /** Reads to the end of the log of an ended container (waiting at most `ms` for each of the two reads). */
  async finish(ms: number): Promise<void> {
    await within(this.done(), ms);
    this.poke("terminated");
    await within(this.done(), ms);
    this.stop();
  }

  /** Closes the open stream and starts no more. */
  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private accept(raw: string): void {
    this.gotLines = true;
    const m = TS_RE.exec(raw);
    if (!m) {
      this.onLine(raw);
      return;
    }
    const key = tsKey(m[1]!, m[2]);
    if (this.lastKey !== undefined && key < this.lastKey) return;
    if (key === this.lastKey && this.seenAtLast.has(raw)) return;
    if (key !== this.lastKey) this.seenAtLast.clear();
    this.lastKey = key;
    this.lastSecond = `${m[1]}Z`;
    this.seenAtLast.add(raw);
    this.onLine(m[3]!);
  }

  private async stream(): Promise<void> {
    const q = new URLSearchParams({ container: this.container, follow: "true", timestamps: "true" });
    if (this.lastSecond) q.set("sinceTime", this.lastSecond);
    const ac = new AbortController();
    this.abort = ac;
    let buf = "";
    try {
      const resp = await this.transport.fetch(
        `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(this.pod)}/log?${q}`,
        {
          signal: ac.signal,
        },
      );
      if (!resp.ok) {
        this.onProblem(`cannot stream the ${this.container} log: ${kubeError({ code: resp.status, body: await resp.text() }).message}`);
        return;
      }
      const decoder = new TextDecoder();
      for await (const chunk of resp.body ?? []) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i = buf.indexOf("\n");
        while (i >= 0) {
          this.accept(buf.slice(0, i));
          buf = buf.slice(i + 1);
          i = buf.indexOf("\n");
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) this.onProblem(`the ${this.container} log stream broke: ${errorMessage(err)}`);
    } finally {
      // A last line without a newline: only at the true end of the log (a dropped stream resends it).
      if (buf && this.finished) this.accept(buf);
      if (this.abort === ac) this.abort = undefined;
    }
  }
}

/** Waits for `p` at most `ms` (without leaving a timer that keeps the process alive). */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
