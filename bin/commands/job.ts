import { defineCommand } from "citty";

/** `seelie job …` */
export default defineCommand({
  meta: { name: "job", description: "Look up submitted jobs" },
  subCommands: {
    get: () => import("./job/get.ts").then((m) => m.default),
    list: () => import("./job/list.ts").then((m) => m.default),
  },
});
