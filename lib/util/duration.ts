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

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration of the job commands (`--since`, `job wait --timeout`) such as `90s`, `10m`, `1h30m`,
 * `2d`, `0s` into seconds: a unit is required (SPEC), zero allowed. A UsageError naming the flag otherwise.
 */
export function parseDurationSeconds(flag: string, raw: string): number {
  const m = /^(?:[0-9]+(?:\.[0-9]+)?[smhd])+$/.test(raw) ? raw.match(/[0-9]+(?:\.[0-9]+)?[smhd]/g)! : null;
  if (!m)
    throw new UsageError(
      `--${flag} "${raw}" is not a duration`,
      `write it as a number and a unit (s, m, h, d), e.g. --${flag} 10m or 1h30m`,
    );
  return m.reduce((sum, part) => sum + Number(part.slice(0, -1)) * UNIT_SECONDS[part.slice(-1)]!, 0);
}
