#!/bin/sh
# Rewrites Tests/Golden from the debug build: the text, JSON, Prometheus and NFD reports and the
# groups listing of every fixture host, snapshot and a synthetic 320-function host (GoldenTests
# compares them). Run it after a change meant to change the output; read the diff before committing.
set -eu
cd "$(dirname "$0")/.."
VFIO_PROBE_UPDATE_GOLDENS=1 swift test --filter GoldenTests
git status --short Tests/Golden
