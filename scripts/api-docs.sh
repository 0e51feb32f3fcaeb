#!/usr/bin/env bash
# Builds the VFIOProbe library's API documentation (DocC, from the doc comments and
# Sources/VFIOProbe/VFIOProbe.docc) into .build-docs/VFIOProbe.doccarchive, with the toolchain's own
# docc: no package plugin. Open it with `docc preview` or serve the archive's static files.
set -euo pipefail
cd "$(dirname "$0")/.."
# A build folder of its own: an up-to-date .build would skip the compile that writes the graphs.
graphs=.build-docs/symbol-graphs
rm -rf "$graphs" && mkdir -p "$graphs"
touch Sources/VFIOProbe/Probe.swift
swift build --scratch-path .build-docs --target VFIOProbe -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$PWD/$graphs" >/dev/null
# Only the library's own graph (and its extensions of the engine's types): the API, not ProbeCore.
find "$graphs" -name '*.symbols.json' ! -name 'VFIOProbe*' -delete
docc=$(command -v docc || echo "$(dirname "$(command -v swift)")/docc")
"$docc" convert Sources/VFIOProbe/VFIOProbe.docc --fallback-display-name VFIOProbe --fallback-bundle-identifier io.vfio-probe.VFIOProbe \
    --additional-symbol-graph-dir "$graphs" --output-path .build-docs/VFIOProbe.doccarchive "$@"
echo "wrote .build-docs/VFIOProbe.doccarchive"
