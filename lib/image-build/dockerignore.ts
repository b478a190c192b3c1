/**
 * `.dockerignore` matching with the docker CLI's semantics: Go filepath.Match-style patterns with
 * `**`, `!` re-inclusion, the last matching pattern wins, and a pattern that matches a parent
 * directory excludes everything below it.
 */
export interface IgnorePattern {
  source: string;
  negate: boolean;
  re: RegExp;
}

function cleanPattern(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

/** Converts one cleaned pattern to an anchored regular expression. */
export function patternToRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        // `**/` also matches no directory at all.
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\]]/g, "\\$&");
  }
  return new RegExp(`${re}$`);
}

/** Parses a `.dockerignore` file's text into patterns (comments and blank lines dropped). */
export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    const cleaned = cleanPattern(line);
    if (!cleaned) continue;
    out.push({ source: raw.trim(), negate, re: patternToRegExp(cleaned) });
  }
  return out;
}

/** True when `relPath` (slash-separated, relative to the context root) is excluded by `patterns`. */
export function isIgnored(relPath: string, patterns: readonly IgnorePattern[]): boolean {
  if (patterns.length === 0) return false;
  const parents: string[] = [];
  const parts = relPath.split("/");
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
  let matched = false;
  for (const p of patterns) {
    if (p.negate !== matched) continue;
    if (p.re.test(relPath) || parents.some((d) => p.re.test(d))) matched = !p.negate;
  }
  return matched;
}

/** True when some pattern re-includes paths, so an excluded directory must still be walked. */
export function hasReinclusions(patterns: readonly IgnorePattern[]): boolean {
  return patterns.some((p) => p.negate);
}
