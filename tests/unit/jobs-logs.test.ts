/** The pure parts of `seelie job logs` and `job wait`: Docker's log frames, worker prefixes, durations, flag checks. */
import { expect, test } from "bun:test";
import { dockerDemuxer, parseDuration, prefixedLines } from "../../lib/jobs/log-lines.ts";
import { logRequest } from "../../lib/jobs/logs.ts";
import { waitTarget } from "../../lib/jobs/wait.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (chunks: Uint8Array[]) => new TextDecoder().decode(Buffer.concat(chunks));

function frame(type: 1 | 2, s: string): Uint8Array {
  const payload = enc(s);
  const h = new Uint8Array(8 + payload.length);
  h[0] = type;
  new DataView(h.buffer).setUint32(4, payload.length);
  h.set(payload, 8);
  return h;
}

test.each([1, 2, 3, 7, 8, 9, 1000])("Docker frames split every %i bytes come back whole, stdout and stderr apart", (step) => {
  const stream = Buffer.concat([
    frame(1, "out one\n"),
    frame(2, "err ü\n"),
    frame(1, ""),
    frame(1, "out two\nno newline"),
    frame(2, "x".repeat(300)),
  ]);
  const got: { 1: Uint8Array[]; 2: Uint8Array[] } = { 1: [], 2: [] };
  const push = dockerDemuxer((t, p) => got[t].push(p.slice()));
  for (let i = 0; i < stream.length; i += step) push(stream.subarray(i, i + step));
  expect(dec(got[1])).toBe("out one\nout two\nno newline");
  expect(dec(got[2])).toBe(`err ü\n${"x".repeat(300)}`);
});

test("prefixed lines: every whole line gets its worker, a last partial line is ended", () => {
  const out: Uint8Array[] = [];
  const w = prefixedLines("[worker-1] ", (c) => out.push(c));
  for (const part of ["a", "b\nc", "\n\nd\ne", "f"]) w.write(enc(part));
  expect(dec(out)).toBe("[worker-1] ab\n[worker-1] c\n[worker-1] \n[worker-1] d\n");
  w.end();
  expect(dec(out)).toBe("[worker-1] ab\n[worker-1] c\n[worker-1] \n[worker-1] d\n[worker-1] ef\n");
});

test("no prefix: bytes pass through untouched, even a partial multi-byte character", () => {
  const out: Uint8Array[] = [];
  const w = prefixedLines("", (c) => out.push(c));
  const bytes = enc("日本\n");
  w.write(bytes.subarray(0, 2));
  w.write(bytes.subarray(2));
  w.end();
  expect(dec(out)).toBe("日本\n");
});

test.each([
  ["90s", 90],
  ["10m", 600],
  ["1h30m", 5400],
  ["2d", 172800],
  ["0s", 0],
  ["1.5h", 5400],
])("duration %s is %i seconds", (raw, secs) => {
  expect(parseDuration("since", raw)).toBe(secs);
});

test.each(["", "10", "m", "-5m", "10 m", "1w", "5m3"])("duration %j is refused naming the flag", (raw) => {
  expect(() => parseDuration("timeout", raw)).toThrow(`--timeout "${raw}" is not a duration`);
});

test("logRequest: all workers prefixed, one worker plain, out-of-range and bad values named", () => {
  expect(logRequest({}, 3, 5)).toMatchObject({ workers: [0, 1, 2], prefix: true, follow: false, timestamps: false });
  expect(logRequest({}, 1, 5)).toMatchObject({ workers: [0], prefix: false });
  expect(logRequest({ worker: "2", tail: "10", since: "10m", follow: true }, 3, 5)).toMatchObject({
    workers: [2],
    prefix: false,
    tail: 10,
    sinceSeconds: 600,
    follow: true,
  });
  expect(() => logRequest({ worker: "3" }, 3, 5)).toThrow('--worker "3": job 5 has 3 workers (0 to 2)');
  expect(() => logRequest({ worker: "-1" }, 1, 5)).toThrow('--worker "-1": job 5 has 1 worker (0)');
  expect(() => logRequest({ tail: "ten" }, 1, 5)).toThrow('--tail "ten" is not a number of lines');
  expect(() => logRequest({ since: "yesterday" }, 1, 5)).toThrow('--since "yesterday" is not a duration');
});

test("wait --for takes the three statuses in any case and names a bad one", () => {
  expect(waitTarget(undefined)).toBe("Succeeded");
  expect(waitTarget("running")).toBe("Running");
  expect(waitTarget("FAILED")).toBe("Failed");
  expect(() => waitTarget("Created")).toThrow('--for "Created" is not a status');
});
