/**
 * Which image a container was created from. `ctr`/nerdctl record the image name on the container;
 * the CRI plugin (the kubelet's containers) may leave it empty or put the image id (`sha256:<config>`)
 * there, and records the name in the spec annotation `io.kubernetes.cri.image-name` and in its
 * container metadata extension.
 */
import type { Container } from "../../proto/gen/containerd/services/containers/v1/containers_pb.ts";

export const CRI_IMAGE_NAME_ANNOTATION = "io.kubernetes.cri.image-name";
export const CRI_IMAGE_REF_ANNOTATION = "io.kubernetes.cri.image-ref";
export const CRI_METADATA_EXTENSION = "io.cri-containerd.container.metadata";

/** What the container records about its image. */
export interface ImageHints {
  /** Names to try, best first (`repo:tag` or `repo@digest`). */
  names: string[];
  /** Image ids (`sha256:<config digest>`) to resolve to a name through the images sharing their target. */
  ids: string[];
}

const ID_RE = /^(sha256:)?[0-9a-f]{64}$/;

/** True for an image id rather than a name. */
export function isImageId(s: string): boolean {
  return ID_RE.test(s);
}

/** Collects the image names and ids a container records (container image, CRI annotations, CRI metadata). */
export function imageHints(
  container: Pick<Container, "image" | "extensions">,
  spec: { annotations?: Record<string, string> } | undefined,
): ImageHints {
  const names: string[] = [];
  const ids: string[] = [];
  const add = (v: unknown) => {
    if (typeof v !== "string" || !v) return;
    if (isImageId(v)) ids.push(v.startsWith("sha256:") ? v : `sha256:${v}`);
    else if (!names.includes(v)) names.push(v);
  };
  add(container.image);
  add(spec?.annotations?.[CRI_IMAGE_NAME_ANNOTATION]);
  const ext = container.extensions?.[CRI_METADATA_EXTENSION];
  if (ext?.value?.length) {
    try {
      const meta = JSON.parse(new TextDecoder().decode(ext.value)) as {
        Metadata?: { ImageRef?: string; Config?: { image?: { image?: string } } };
      };
      add(meta.Metadata?.Config?.image?.image);
      add(meta.Metadata?.ImageRef);
    } catch {
      // Not JSON (another version of the plugin): the other hints remain.
    }
  }
  add(spec?.annotations?.[CRI_IMAGE_REF_ANNOTATION]);
  return { names, ids: [...new Set(ids)] };
}

/** Out of the images pointing at the same manifest as an id, the name to use (a tag before a digest). */
export function nameForId(candidates: string[]): string | undefined {
  const named = candidates.filter((n) => !isImageId(n));
  return named.find((n) => !n.includes("@")) ?? named[0];
}
