/**
 * Follows one container's log through client-node's `Log`, surviving a stream that ends early (API
 * servers and proxies close long-lived log streams): lines are requested with timestamps, and when the
 * stream ends while the container still runs it is resumed from the last timestamp, skipping lines
 * already seen. `sinceTime` has one-second precision, hence the de-duplication.
 */
import { Writable } from "node:stream";
import type { Log } from "@kubernetes/client-node";
import { errorMessage } from "../errors.ts";

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z (.*)$/s;
const MAX_RESUMES = 100;

/** A timestamp as a sortable key: seconds, then nanoseconds padded to 9 digits. */
function tsKey(sec: string, frac: string | undefined): string {
  return `${sec}.${(frac ?? ".").slice(1).padEnd(9, "0")}`;
}

/** Splits a Writable's chunks into lines. */
function lineWriter(onLine: (line: string) => void): Writable {
  let buf = "";
  return new Writable({
    write(chunk, _enc, cb) {
      buf += chunk.toString();
      let i = buf.indexOf("\n");
      while (i >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
      }
      cb();
    },
    final(cb) {
      if (buf) onLine(buf);
      buf = "";
      cb();
    },
  });
}

/** Follows a container's log; call `poke()` on every status poll. */
export class ContainerLogFollower {
  private active?: Promise<void>;
  private started = false;
  private startedWhileRunning = false;
  private finalFetchDone = false;
  private resumes = 0;
  private gotLines = false;
  private lastKey?: string;
  private lastSecond?: string;
  private seenAtLast = new Set<string>();

  constructor(
    private readonly logs: Log,
    private readonly namespace: string,
    private readonly pod: string,
    private readonly container: string,
    private readonly onLine: (line: string) => void,
    private readonly onProblem: (msg: string) => void,
    private readonly signal?: AbortSignal,
  ) {}

  /** Starts following once the container runs or has ended; resumes a stream that ended early. */
  poke(state: "waiting" | "running" | "terminated"): void {
    if (this.active || state === "waiting" || this.signal?.aborted) return;
    if (this.started) {
      if (!this.startedWhileRunning) return; // began after the end: that stream had everything
      if (this.gotLines && !this.lastSecond) return; // no timestamps to resume from: never repeat lines
      if (state === "running" && this.resumes >= MAX_RESUMES) return;
      if (state === "terminated") {
        if (this.finalFetchDone) return;
        this.finalFetchDone = true; // one last read for lines written after an early end
      }
      this.resumes++;
    } else {
      this.started = true;
      this.startedWhileRunning = state === "running";
    }
    this.active = this.follow().finally(() => {
      this.active = undefined;
    });
  }

  /** Resolves when the current stream (if any) ends. */
  done(): Promise<void> {
    return this.active ?? Promise.resolve();
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

  private follow(): Promise<void> {
    return new Promise<void>((resolve) => {
      const w = lineWriter((l) => this.accept(l));
      w.on("finish", () => resolve());
      w.on("error", () => resolve());
      const options = this.lastSecond ? { follow: true, timestamps: true, sinceTime: this.lastSecond } : { follow: true, timestamps: true };
      this.logs
        .log(this.namespace, this.pod, this.container, w, options)
        .then((ac) => this.signal?.addEventListener("abort", () => ac.abort(), { once: true }))
        .catch((err) => {
          this.onProblem(`cannot stream the ${this.container} log: ${errorMessage(err)}`);
          resolve();
        });
    });
  }
}
