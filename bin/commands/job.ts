import { defineCommand } from "citty";

/** `seelie job …` */
export default defineCommand({
  meta: { name: "job", description: "Look at, follow and delete submitted jobs" },
  subCommands: {
    get: () => import("./job/get.ts").then((m) => m.default),
    list: () => import("./job/list.ts").then((m) => m.default),
    logs: () => import("./job/logs.ts").then((m) => m.default),
    wait: () => import("./job/wait.ts").then((m) => m.default),
    delete: () => import("./job/delete.ts").then((m) => m.default),
  },
});
