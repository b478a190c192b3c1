import { describe, expect, test } from "bun:test";
import {
  MEDIA,
  buildCommitConfig,
  buildCommitManifest,
  goArch,
  manifestGcLabels,
  pickPlatformManifest,
  type ImageConfig,
  type ImageManifest,
} from "../../../lib/containerd/image-builders.ts";
import { execProcessSpec, fifoDirs } from "../../../lib/containerd/exec.ts";
import { lowerDirs } from "../../../lib/containerd/snapshot-diff.ts";
import { registryApiHost } from "../../../lib/registry/host.ts";
import { create } from "@bufbuild/protobuf";
import { MountSchema } from "../../../proto/gen/containerd/types/mount_pb.ts";

const baseConfig: ImageConfig = {
  created: "2020-01-01T00:00:00Z",
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/bin", "PIP_CACHE_DIR=/c"], Cmd: ["sh"], WorkingDir: "/w", Labels: { a: "b" } },
  container_config: { Cmd: ["/bin/sh", "-c", "#(nop)"] },
  container: "abc",
  rootfs: { type: "layers", diff_ids: ["sha256:aaa"] },
  history: [{ created: "2020-01-01T00:00:00Z", created_by: "import" }],
};

describe("buildCommitConfig", () => {
  const out = buildCommitConfig(baseConfig, "sha256:new", { created: "2026-01-01T00:00:00Z", comment: "from c1" });
  const cases: [string, () => unknown, unknown][] = [
    ["appends the diff id", () => out.rootfs.diff_ids, ["sha256:aaa", "sha256:new"]],
    ["keeps env/cmd/workdir/labels", () => out.config, baseConfig.config],
    [
      "adds a history entry",
      () => out.history?.at(-1),
      { created: "2026-01-01T00:00:00Z", created_by: "seelie commit", comment: "from c1" },
    ],
    ["keeps old history", () => out.history?.length, 2],
    ["sets created", () => out.created, "2026-01-01T00:00:00Z"],
    ["drops docker's build container", () => [out.container, out.container_config], [undefined, undefined]],
    ["keeps platform", () => [out.os, out.architecture], ["linux", "amd64"]],
    ["does not touch the base", () => baseConfig.rootfs.diff_ids, ["sha256:aaa"]],
  ];
  for (const [name, got, want] of cases) test(name, () => expect(got()).toEqual(want));
  test("without history", () => {
    const { history: _, ...noHist } = baseConfig;
    expect(buildCommitConfig(noHist as ImageConfig, "sha256:n", { created: "t" }).history).toEqual([
      { created: "t", created_by: "seelie commit" },
    ]);
  });
  test("rejects a config without diff_ids", () => {
    expect(() => buildCommitConfig({ rootfs: undefined } as unknown as ImageConfig, "sha256:n", { created: "t" })).toThrow(/diff_ids/);
  });
});

describe("buildCommitManifest", () => {
  const layer0 = { mediaType: MEDIA.dockerLayerGzip, digest: "sha256:l0", size: 10 };
  const cases: [string, ImageManifest, { mt: string; cfg: string; layer: string }][] = [
    [
      "docker base stays docker",
      {
        schemaVersion: 2,
        mediaType: MEDIA.dockerManifest,
        config: { mediaType: MEDIA.dockerConfig, digest: "sha256:c0", size: 1 },
        layers: [layer0],
      },
      { mt: MEDIA.dockerManifest, cfg: MEDIA.dockerConfig, layer: MEDIA.dockerLayerGzip },
    ],
    [
      "oci base stays oci",
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        config: { mediaType: MEDIA.ociConfig, digest: "sha256:c0", size: 1 },
        layers: [{ ...layer0, mediaType: MEDIA.ociLayerGzip }],
      },
      { mt: MEDIA.ociManifest, cfg: MEDIA.ociConfig, layer: MEDIA.ociLayerGzip },
    ],
    [
      "oci without mediaType field",
      { schemaVersion: 2, config: { mediaType: MEDIA.ociConfig, digest: "sha256:c0", size: 1 }, layers: [] },
      { mt: MEDIA.ociManifest, cfg: MEDIA.ociConfig, layer: MEDIA.ociLayerGzip },
    ],
  ];
  for (const [name, base, want] of cases) {
    test(name, () => {
      const m = buildCommitManifest(base, { digest: "sha256:cfg", size: 5 }, { digest: "sha256:new", size: 7 });
      expect(m.mediaType).toBe(want.mt);
      expect(m.config).toEqual({ mediaType: want.cfg, digest: "sha256:cfg", size: 5 });
      expect(m.layers.length).toBe(base.layers.length + 1);
      expect(m.layers.at(-1)).toEqual({ mediaType: want.layer, digest: "sha256:new", size: 7 });
      expect(m.layers.slice(0, -1)).toEqual(base.layers);
    });
  }
  test("gc labels name the config and every layer", () => {
    const m = buildCommitManifest(
      { schemaVersion: 2, config: { mediaType: MEDIA.ociConfig, digest: "sha256:c0", size: 1 }, layers: [layer0] },
      { digest: "sha256:cfg", size: 5 },
      { digest: "sha256:new", size: 7 },
    );
    expect(manifestGcLabels(m)).toEqual({
      "containerd.io/gc.ref.content.config": "sha256:cfg",
      "containerd.io/gc.ref.content.l.0": "sha256:l0",
      "containerd.io/gc.ref.content.l.1": "sha256:new",
    });
  });
});

describe("pickPlatformManifest", () => {
  const idx = {
    schemaVersion: 2 as const,
    manifests: [
      { mediaType: MEDIA.ociManifest, digest: "sha256:arm", size: 1, platform: { os: "linux", architecture: "arm64" } },
      { mediaType: MEDIA.ociManifest, digest: "sha256:amd", size: 1, platform: { os: "linux", architecture: "amd64" } },
    ],
  };
  const cases: [string, string, string | RegExp][] = [
    ["amd64", "amd64", "sha256:amd"],
    ["arm64", "arm64", "sha256:arm"],
    ["missing", "s390x", /no manifest for linux\/s390x/],
  ];
  for (const [name, arch, want] of cases) {
    test(name, () => {
      if (want instanceof RegExp) expect(() => pickPlatformManifest(idx, "img", "linux", arch)).toThrow(want);
      else expect(pickPlatformManifest(idx, "img", "linux", arch).digest).toBe(want);
    });
  }
  test("goArch", () => expect([goArch("x64"), goArch("arm64"), goArch("riscv64")]).toEqual(["amd64", "arm64", "riscv64"]));
});

describe("fifoDirs", () => {
  const cases: [string, string | undefined, { local: string; host: string }][] = [
    ["/run/containerd/containerd.sock", undefined, { local: "/run/containerd/x", host: "/run/containerd/x" }],
    ["/host/run/containerd/containerd.sock", "/host", { local: "/host/run/containerd/x", host: "/run/containerd/x" }],
    ["/host/run/containerd/containerd.sock", "/host/", { local: "/host/run/containerd/x", host: "/run/containerd/x" }],
    ["/other/containerd.sock", "/host", { local: "/other/x", host: "/other/x" }],
  ];
  for (const [sock, prefix, want] of cases) test(`${sock} ${prefix}`, () => expect(fifoDirs(sock, prefix, "x")).toEqual(want));
});

describe("execProcessSpec", () => {
  test("keeps user/env/cwd of the container, replaces args, no terminal", () => {
    const s = execProcessSpec({ process: { user: { uid: 1000, gid: 1000 }, env: ["A=1"], cwd: "/w", args: ["sleep"], terminal: true } }, [
      "sh",
      "-c",
      "x",
    ]);
    expect(s).toEqual({ user: { uid: 1000, gid: 1000 }, env: ["A=1"], cwd: "/w", args: ["sh", "-c", "x"], terminal: false });
  });
  test("defaults without a spec", () => {
    const s = execProcessSpec(undefined, ["true"]);
    expect(s.cwd).toBe("/");
    expect(s.args).toEqual(["true"]);
    expect((s.env as string[])[0]).toStartWith("PATH=");
  });
});

describe("lowerDirs / registryApiHost", () => {
  const m = (type: string, source: string, options: string[]) => create(MountSchema, { type, source, options });
  const cases: [string, ReturnType<typeof m>[], string[]][] = [
    ["bind", [m("bind", "/s/1/fs", ["ro", "rbind"])], ["/s/1/fs"]],
    ["overlay", [m("overlay", "overlay", ["index=off", "lowerdir=/s/2/fs:/s/1/fs"])], ["/s/2/fs", "/s/1/fs"]],
    ["none", [], []],
  ];
  for (const [name, mounts, want] of cases) test(name, () => expect(lowerDirs(mounts)).toEqual(want));
  test("docker hub api host", () =>
    expect([registryApiHost("docker.io"), registryApiHost("127.0.0.1:5000")]).toEqual(["registry-1.docker.io", "127.0.0.1:5000"]));
});
