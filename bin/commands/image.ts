import { defineCommand } from "citty";

/** `seelie image …` */
export default defineCommand({
  meta: { name: "image", description: "Build, commit and push images" },
  subCommands: {
    build: () => import("./image/build.ts").then((m) => m.default),
    commit: () => import("./image/commit.ts").then((m) => m.default),
    "commit-container": () => import("./image/commit-container.ts").then((m) => m.default),
    "cloud-build": () => import("./image/cloud-build.ts").then((m) => m.default),
    prepare: () => import("./image/prepare.ts").then((m) => m.default),
  },
});
