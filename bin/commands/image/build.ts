import { defineCommand } from "citty";
import { SeelieError } from "../../../lib/errors.ts";

/** Placeholder: being built. */
export default defineCommand({
  meta: { name: "build", description: "(not built yet)" },
  run() {
    throw new SeelieError("seelie image build is not built yet");
  },
});
