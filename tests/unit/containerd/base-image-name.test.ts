import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { imageHints, isImageId, nameForId, type ImageHints } from "../../../lib/containerd/base-image-name.ts";

const ID = `sha256:${"a".repeat(64)}`;
const meta = (m: unknown) => ({
  "io.cri-containerd.container.metadata": create(AnySchema, {
    typeUrl: "github.com/containerd/cri/pkg/store/container/Metadata",
    value: new TextEncoder().encode(JSON.stringify(m)),
  }),
});

describe("imageHints", () => {
  const cases: [string, Parameters<typeof imageHints>[0], Parameters<typeof imageHints>[1], ImageHints][] = [
    [
      "ctr/nerdctl: the container's image",
      { image: "docker.io/library/busybox:1", extensions: {} },
      undefined,
      { names: ["docker.io/library/busybox:1"], ids: [] },
    ],
    [
      "CRI: empty image, annotation",
      { image: "", extensions: {} },
      { annotations: { "io.kubernetes.cri.image-name": "python:3", "io.kubernetes.cri.image-ref": ID } },
      { names: ["python:3"], ids: [ID] },
    ],
    [
      "CRI: image id on the container, name in the metadata",
      {
        image: ID,
        extensions: meta({ Version: "v1", Metadata: { ImageRef: ID, Config: { image: { image: "reg.example.com/team/nb:2" } } } }),
      },
      undefined,
      { names: ["reg.example.com/team/nb:2"], ids: [ID] },
    ],
    ["bare hex id", { image: "b".repeat(64), extensions: {} }, undefined, { names: [], ids: [`sha256:${"b".repeat(64)}`] }],
    [
      "metadata not JSON",
      { image: "", extensions: { "io.cri-containerd.container.metadata": create(AnySchema, { value: new Uint8Array([1, 2]) }) } },
      undefined,
      { names: [], ids: [] },
    ],
    ["nothing", { image: "", extensions: {} }, {}, { names: [], ids: [] }],
  ];
  for (const [name, container, spec, want] of cases) test(name, () => expect(imageHints(container, spec)).toEqual(want));
});

describe("nameForId / isImageId", () => {
  const cases: [string[], string | undefined][] = [
    [[ID, "docker.io/library/busybox:1"], "docker.io/library/busybox:1"],
    [[`docker.io/library/busybox@sha256:${"c".repeat(64)}`, "docker.io/library/busybox:1"], "docker.io/library/busybox:1"],
    [[`docker.io/library/busybox@sha256:${"c".repeat(64)}`], `docker.io/library/busybox@sha256:${"c".repeat(64)}`],
    [[ID], undefined],
    [[], undefined],
  ];
  for (const [names, want] of cases) test(JSON.stringify(names).slice(0, 60), () => expect(nameForId(names)).toBe(want));
  test("ids", () =>
    expect([isImageId(ID), isImageId("a".repeat(64)), isImageId("busybox:1"), isImageId("sha256:abc")]).toEqual([
      true,
      true,
      false,
      false,
    ]));
});
