import { UsageError } from "../errors.ts";

/**
 * The Dockerfile seelie generates for a project without one (SPEC §1.2). Each `--build-arg` name is
 * declared after FROM so that build_script.sh and pip see it (e.g. PIP_INDEX_URL), as they would
 * with a hand-written Dockerfile that declares it.
 *
 * requirements.txt goes into the interpreter the image runs as `python3` (`python3 -m pip`, else
 * `pip`), so its packages are importable at run time. On a PEP 668 base (Debian 12, Ubuntu 24.04 and
 * the images built on them: an EXTERNALLY-MANAGED marker) pip refuses that unless told to break the
 * system packages; PEP 668 names container images as the place where that is the owner's call. A venv
 * would hide the packages from the image's `python3` (and the base's own, e.g. torch, from the venv)
 * and needs python3-venv, which such bases often lack. PIP_BREAK_SYSTEM_PACKAGES, set for this one
 * command only (never an ENV of the image), does it where pip knows the rule; older pip ignores
 * variables it has no option for, and without the marker it changes nothing. A requirements.txt with
 * nothing but blanks and comments installs nothing, so it needs no pip.
 */
export function generateDockerfile(baseImage: string, buildArgNames: readonly string[] = []): string {
  // build_script.sh first, then requirements.txt; `set -e` so a failing step fails the build.
  return [
    `FROM ${baseImage}`,
    ...buildArgNames.map((n) => `ARG ${n}`),
    "COPY . /workspace/code",
    "WORKDIR /workspace",
    "RUN set -e; cd /workspace/code; \\",
    "    if [ -f ./build_script.sh ]; then \\",
    "      if [ -x ./build_script.sh ]; then ./build_script.sh; else sh ./build_script.sh; fi; \\",
    "    fi; \\",
    "    if [ -f ./requirements.txt ] && grep -qvE '^[[:space:]]*(#|$)' ./requirements.txt; then \\",
    "      if python3 -m pip --version >/dev/null 2>&1; then pip='python3 -m pip'; \\",
    "      elif command -v pip >/dev/null 2>&1; then pip=pip; \\",
    "      else echo 'seelie: requirements.txt lists packages but the base image has no pip (python3 -m pip or pip): use a base with pip, or install it in build_script.sh' >&2; exit 1; fi; \\",
    "      PIP_BREAK_SYSTEM_PACKAGES=1 $pip install --no-cache-dir -r requirements.txt; \\",
    "    fi",
    "",
  ].join("\n");
}

/** One `FROM` of a Dockerfile: the image it names (after ARG substitution) and its stage name. */
export interface FromLine {
  line: number;
  image: string;
  stage?: string;
  /** True when `image` names an earlier build stage (or `scratch`), so nothing is pulled. */
  internal: boolean;
}

/** Joins continuation lines and drops comments, keeping the first physical line number of each instruction. */
function instructions(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let cur = "";
  let start = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    if (!cur && (trimmed === "" || trimmed.startsWith("#"))) return;
    if (cur && trimmed.startsWith("#")) return;
    if (!cur) start = i + 1;
    if (trimmed.endsWith("\\")) {
      cur += `${trimmed.slice(0, -1)} `;
      return;
    }
    cur += trimmed;
    out.push({ line: start, text: cur });
    cur = "";
  });
  if (cur.trim()) out.push({ line: start, text: cur });
  return out;
}

function substitute(word: string, vars: Record<string, string | undefined>, line: number): string {
  return word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, def, b) => {
    const name = (a ?? b) as string;
    const v = vars[name];
    if (v !== undefined && v !== "") return v;
    if (def !== undefined) return def as string;
    throw new UsageError(
      `Dockerfile line ${line}: FROM uses $${name}, which has no value`,
      `give it a default in an ARG before FROM or pass --build-arg ${name}=...`,
    );
  });
}

/**
 * The FROM lines of a Dockerfile, with global ARGs (and `buildArgs`) substituted and each marked
 * internal when it names an earlier stage or `scratch`.
 */
export function parseFromLines(dockerfile: string, buildArgs: Record<string, string> = {}): FromLine[] {
  const globals: Record<string, string | undefined> = {};
  const stages = new Set<string>();
  const froms: FromLine[] = [];
  for (const ins of instructions(dockerfile)) {
    const m = /^(\S+)\s*(.*)$/.exec(ins.text);
    if (!m) continue;
    const keyword = (m[1] ?? "").toUpperCase();
    const args = m[2] ?? "";
    if (keyword === "ARG" && froms.length === 0) {
      for (const decl of args.split(/\s+/).filter(Boolean)) {
        const eq = decl.indexOf("=");
        const name = eq >= 0 ? decl.slice(0, eq) : decl;
        const def = eq >= 0 ? decl.slice(eq + 1).replace(/^["']|["']$/g, "") : undefined;
        globals[name] = buildArgs[name] ?? def;
      }
    } else if (keyword === "FROM") {
      const words = args.split(/\s+/).filter((w) => w && !w.startsWith("--"));
      const rawImage = words[0];
      if (!rawImage) throw new UsageError(`Dockerfile line ${ins.line}: FROM names no image`, "write FROM <image>");
      const image = substitute(rawImage, globals, ins.line);
      const stage = words[1]?.toUpperCase() === "AS" ? words[2]?.toLowerCase() : undefined;
      const internal = image.toLowerCase() === "scratch" || stages.has(image.toLowerCase());
      froms.push({ line: ins.line, image, stage, internal });
      if (stage) stages.add(stage);
    }
  }
  if (froms.length === 0) throw new UsageError("the Dockerfile has no FROM instruction", "start the Dockerfile with FROM <base image>");
  return froms;
}
