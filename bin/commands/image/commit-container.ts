import { defineCommand } from "citty";
import { SeelieError } from "../../../lib/errors.ts";

/** Placeholder: being built (see the open issue). */
export default defineCommand({
  meta: { name: "commit-container", description: "(not built yet)" },
  run() {
    throw new SeelieError("seelie image commit-container is not built yet");
  },
});
