/**
 * Runs a rendered Pod's container command on this machine, as the kubelet would start it: the
 * container's env with Kubernetes' `$(VAR)` expansion, its command and args expanded the same way,
 * and each volume mount replaced by a local directory (mountPath prefix -> local path).
 */
import type { ContainerSpec } from "../../lib/cloud-build/types.ts";

/** Kubernetes' `$(VAR)` expansion (`$$` escapes; unknown variables stay as they are). */
export function kubeExpand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => (m === "$$" ? "$" : name in vars ? vars[name]! : m));
}

/** Rewrites Pod paths under a mount to the local directory standing in for it. */
export function localizePath(s: string, mounts: Record<string, string>): string {
  const keys = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const k of keys) {
    if (s === k || s.startsWith(`${k}/`)) return mounts[k]! + s.slice(k.length);
    const i = s.indexOf(`=${k}`);
    if (i >= 0 && (s.length === i + 1 + k.length || s[i + 1 + k.length] === "/"))
      return s.slice(0, i + 1) + mounts[k]! + s.slice(i + 1 + k.length);
  }
  return s;
}

/** The container's environment as the kubelet builds it, with mount paths made local. */
export function containerEnv(c: ContainerSpec, mounts: Record<string, string>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const e of c.env ?? []) vars[e.name] = localizePath(kubeExpand(e.value, vars), mounts);
  return vars;
}

/** The container's argv (command + args) after `$(VAR)` expansion, mount paths made local. */
export function containerArgv(c: ContainerSpec, env: Record<string, string>, mounts: Record<string, string>): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])].map((a) => localizePath(kubeExpand(a, env), mounts));
}

/**
 * A `setpriv` prefix that applies a root container's securityContext here: the capability bounding set
 * becomes exactly `capabilities.add` (after `drop: [ALL]`), and `allowPrivilegeEscalation: false`
 * becomes no_new_privs — so the command runs with no more privilege than the Pod would give it.
 */
export function setprivFor(c: ContainerSpec): string[] {
  const sc = (c.securityContext ?? {}) as { allowPrivilegeEscalation?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  if (!sc.capabilities?.drop?.includes("ALL")) throw new Error(`container ${c.name} does not drop ALL capabilities`);
  const add = (sc.capabilities.add ?? []).map((x) => `+${x.toLowerCase()}`);
  return [
    "setpriv",
    ...(sc.allowPrivilegeEscalation === false ? ["--no-new-privs"] : []),
    "--bounding-set",
    ["-all", ...add].join(","),
    "--inh-caps",
    "-all",
  ];
}

/**
 * `docker run` arguments that start a Pod container as the kubelet would: `command[0]` as the
 * entrypoint (Kubernetes' command replaces ENTRYPOINT), the rest of command + args, the env, the
 * securityContext (user, read-only root, dropped capabilities, no_new_privs) and the volume mounts
 * (`mounts`: mountPath -> host directory; read-only where the Pod says so).
 */
export function dockerRunArgs(c: ContainerSpec, mounts: Record<string, string>): string[] {
  const vars: Record<string, string> = {};
  for (const e of c.env ?? []) vars[e.name] = kubeExpand(e.value, vars);
  const sc = (c.securityContext ?? {}) as {
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  const out = ["run", "--rm"];
  if (sc.runAsUser !== undefined) out.push("--user", `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (sc.readOnlyRootFilesystem) out.push("--read-only");
  if (sc.allowPrivilegeEscalation === false) out.push("--security-opt", "no-new-privileges");
  for (const d of sc.capabilities?.drop ?? []) out.push("--cap-drop", d);
  for (const a of sc.capabilities?.add ?? []) out.push("--cap-add", a);
  for (const m of c.volumeMounts ?? []) {
    const host = mounts[m.mountPath];
    if (!host) throw new Error(`no local directory for mount ${m.mountPath}`);
    out.push("-v", `${host}:${m.mountPath}${m.readOnly ? ":ro" : ""}`);
  }
  for (const [k, v] of Object.entries(vars)) out.push("-e", `${k}=${v}`);
  const [entry, ...rest] = c.command ?? [];
  if (entry) out.push("--entrypoint", entry);
  out.push(c.image, ...[...rest, ...(c.args ?? [])].map((a) => kubeExpand(a, vars)));
  return out;
}
