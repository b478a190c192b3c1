import { defineCommand } from "citty";
import { SeelieError } from "../../../lib/errors.ts";

/** Placeholder: being built (see the open issue). */
export default defineCommand({
  meta: { name: "list", description: "(not built yet)" },
  run() {
    throw new SeelieError("seelie job list is not built yet");
  },
});
