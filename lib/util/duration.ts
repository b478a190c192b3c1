import { UsageError } from "../errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `90`, `90s`, `10m`, `1h30m`, `500ms` (a bare number is seconds) into milliseconds. */
export function parseDuration(value: string, what = "duration"): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v) && Number(v) > 0) return Math.round(Number(v) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = re.lastIndex;
  }
  if (!v || end !== v.length || total <= 0) {
    throw new UsageError(`invalid ${what} "${value}"`, "write e.g. 90s, 10m, 1h30m (a bare number is seconds)");
  }
  return Math.round(total);
}

/** `1h2m3s`-style text for a number of milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}
