/** A Kubernetes object as YAML for `kubectl apply -f -` (the `--render` of the commands that run Pods). */
import { stringify } from "yaml";

/** The object as YAML: no line wrapping, no anchors (kubectl's reader needs neither). */
export function podYaml(pod: object): string {
  return stringify(pod, { lineWidth: 0, aliasDuplicateObjects: false });
}
