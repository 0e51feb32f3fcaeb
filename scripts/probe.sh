#!/usr/bin/env bash
# Builds vfio-probe and runs it on this host as root (what it needs to see everything), on a fresh
# Debian or Ubuntu machine with a Swift 6 toolchain. Arguments pass through:
#   ./scripts/probe.sh --device 0000:3b:00.0 --format json
# The exit status is the probe's (README "Exit status": 0 vfio, 5 unsafe-interrupts only, 2 no-IOMMU
# only, 3 nothing, 4 with --require after the listed actions, 1 no answer, 64 usage).
# The binary uses the toolchain's shared Swift runtime (found through its RUNPATH): it runs here, in
# place; `make` builds the one to copy to other machines (static Swift runtime).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=()
for p in libpci-dev pci.ids pkg-config zlib1g-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
swift build -c release --product vfio-probe >&2
exec $SUDO "$(swift build -c release --show-bin-path)/vfio-probe" "$@"
