#!/usr/bin/env bash
# Writes the man page's CHECKS list and the README's check table from the check descriptors, and
# the README's text examples from the tool
# (ProbeCore's CheckDocs, through the private `vfio-probe checks --format man|markdown`), between
# the BEGIN/END GENERATED CHECKS markers. DocumentationTests fail until this has been run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product vfio-probe >/dev/null
bin=.build/debug/vfio-probe
# splice FILE FORMAT: replaces the lines between FILE's markers with `vfio-probe checks --format FORMAT`.
splice() {
    local file=$1 format=$2 tmp
    tmp=$(mktemp)
    "$bin" checks --format "$format" > "$tmp.gen"
    awk -v gen="$tmp.gen" '
        /BEGIN GENERATED CHECKS/ { print; while ((getline l < gen) > 0) print l; skip = 1; found++; next }
        /END GENERATED CHECKS/ { skip = 0 }
        !skip { print }
        END { if (found != 1) exit 1 }' "$file" > "$tmp" || { echo "$file: no single BEGIN GENERATED CHECKS marker" >&2; rm -f "$tmp" "$tmp.gen"; exit 1; }
    cat "$tmp" > "$file"
    rm -f "$tmp" "$tmp.gen"
}
splice man/vfio-probe.1 man
splice README.md markdown
# The README's text examples: the tool's output, rewritten by the test that compares them.
VFIO_PROBE_UPDATE_GOLDENS=1 swift test --filter ReadmeExampleTests >/dev/null
echo "wrote the CHECKS section of man/vfio-probe.1, the check table and the text examples of README.md"
