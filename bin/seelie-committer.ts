#!/usr/bin/env bun
/** seelie-committer: placeholder, being built (see the committer issue). */
console.error("seelie-committer is not built yet");
process.exit(1);
