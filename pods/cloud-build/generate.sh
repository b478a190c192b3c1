#!/usr/bin/env bash
# Regenerates the Pod templates here from the renderer (lib/cloud-build/templates.ts).
# tests/unit/cloud-build/pod.test.ts fails when a template and the renderer disagree.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck disable=SC2016 # the script is JavaScript, its $ are not the shell's
bun -e '
const { allTemplates } = await import("./lib/cloud-build/templates.ts");
for (const [file, text] of Object.entries(allTemplates())) await Bun.write(`pods/cloud-build/${file}`, text);
'
