import { defineCommand } from "citty";

/** `seelie submit …` */
export default defineCommand({
  meta: { name: "submit", description: "Submit jobs" },
  subCommands: {
    tfjob: () => import("./submit/tfjob.ts").then((m) => m.default),
  },
});
