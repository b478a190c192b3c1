/** lib/util/duration.ts: `--timeout` of image commit and cloud-build (milliseconds; a bare number is seconds), and the job commands' durations (seconds; a unit required, zero allowed). */
import { expect, test } from "bun:test";
import { formatDuration, parseDuration, parseDurationSeconds } from "../../../lib/util/duration.ts";

test.each([
  ["90", 90_000],
  ["90s", 90_000],
  ["10m", 600_000],
  ["1h30m", 5_400_000],
  ["500ms", 500],
  ["1.5s", 1500],
])("parseDuration(%p)", (v, ms) => expect(parseDuration(v)).toBe(ms));
test.each(["", "abc", "10x", "5m junk", "0"])("parseDuration refuses %p", (v) =>
  expect(() => parseDuration(v, "--timeout")).toThrow(/--timeout/),
);
test("formatDuration", () => {
  expect([formatDuration(500), formatDuration(90_000), formatDuration(3_600_000), formatDuration(1_800_000)]).toEqual([
    "500ms",
    "1m30s",
    "1h",
    "30m",
  ]);
});

test.each([
  ["90s", 90],
  ["10m", 600],
  ["1h30m", 5400],
  ["2d", 172800],
  ["0s", 0],
  ["1.5h", 5400],
])("duration %s is %i seconds", (raw, secs) => {
  expect(parseDurationSeconds("since", raw)).toBe(secs);
});

test.each(["", "10", "m", "-5m", "10 m", "1w", "5m3"])("duration %j is refused naming the flag", (raw) => {
  expect(() => parseDurationSeconds("timeout", raw)).toThrow(`--timeout "${raw}" is not a duration`);
});
