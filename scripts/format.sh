#!/bin/sh
# Formats the Swift sources with the toolchain's swift-format and the one configuration,
# .swift-format (line length 140). scripts/test-all.sh fails when the tree is not formatted.
set -eu
cd "$(dirname "$0")/.."
exec swift format format --configuration .swift-format --in-place --recursive Sources Tests/ProbeCoreTests Tests/VFIOProbeAPITests Fuzz
