import { mask, redactUrl } from "../util/secrets.ts";
import { loadConfig, type ConfigInputs } from "./load.ts";

/** The effective configuration for display: secrets masked, each value with its source. */
export function showConfig(inputs: ConfigInputs): { text: string; json: Record<string, unknown> } {
  const c = loadConfig(inputs);
  const src = (k: string) => c.sources[k] ?? "default";
  const rows: [string, string, string][] = [
    ["config file", c.configPath, src("configPath")],
    ["home", c.home, src("home")],
    ["registry.host", c.registryHost, src("registryHost")],
    ["registry.repo", c.repo, src("repo")],
    ["username", c.username, src("username")],
    ["registry.username", c.registryUsername ?? "", src("registryUsername")],
    ["registry.password", mask(c.registryPassword), src("registryPassword")],
    ["allowedBaseImages", c.allowedBaseImages.join(", "), src("allowedBaseImages")],
    ["docker config dir", c.dockerConfigDir, src("dockerConfigDir")],
    ["docker.host", c.dockerHost ?? "unix:///var/run/docker.sock", src("dockerHost")],
    ["defaultRegion", c.defaultRegion ?? "", src("defaultRegion")],
    ["jobStore", c.jobStore, src("jobStore")],
    ["committer.image", c.committerImage, src("committerImage")],
    ["committer.namespace", c.committerNamespace, src("committerNamespace")],
    ["committer.runtimeSocket", c.runtimeSocket ?? "", src("runtimeSocket")],
    ["committer.runtimeRoot", c.runtimeRoot ?? "", src("runtimeRoot")],
    ["cloudBuild.toolsImage", c.toolsImage, src("toolsImage")],
  ];
  const regions = Object.fromEntries(
    Object.entries(c.regions).map(([name, r]) => [
      name,
      {
        endpoint: redactUrl(r.endpoint),
        proxy: r.proxy ? redactUrl(r.proxy) : "",
        proxyUsername: r.proxyUsername ?? "",
        proxyPassword: mask(r.proxyPassword),
      },
    ]),
  );
  for (const [name, r] of Object.entries(regions)) {
    rows.push([
      `regions.${name}`,
      `${r.endpoint} via ${r.proxy || "direct"}${r.proxyUsername ? ` as ${r.proxyUsername}` : ""}${r.proxyPassword ? " (password set)" : ""}`,
      "file",
    ]);
  }
  for (const cr of c.credentials) rows.push([`credentials.${cr.registry}`, `${cr.username} / ${mask(cr.password)}`, "file"]);
  const width = Math.max(...rows.map((r) => r[0].length));
  const text = rows.map(([k, v, s]) => `${k.padEnd(width)}  ${v || "-"}  (${s})`).join("\n");
  const json = {
    values: Object.fromEntries(
      rows.filter((r) => !r[0].startsWith("regions.") && !r[0].startsWith("credentials.")).map(([k, v, s]) => [k, { value: v, source: s }]),
    ),
    regions,
    credentials: c.credentials.map((cr) => ({ registry: cr.registry, username: cr.username, password: mask(cr.password) })),
  };
  return { text, json };
}
