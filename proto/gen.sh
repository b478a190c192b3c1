#!/usr/bin/env bash
# Generates TypeScript (protobuf-es v2) from proto/containerd/**.proto into proto/gen/.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf gen
../node_modules/.bin/buf generate
