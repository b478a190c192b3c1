#!/bin/sh
# Runs at image build time, before requirements.txt is installed.
set -e
printf '{"built_at": "%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > build-info.json
