#!/usr/bin/env bash
# Runs every test vfio-probe has, on a fresh Debian or Ubuntu machine with a Swift 6 toolchain:
# installs the Debian packages it needs, checks that the committed fixture trees are what
# Tests/Fixtures/make-fixtures.py writes, lints the man page and the formatting (swift-format),
# runs `swift test`, and boots the
# real-kernel VM matrix (Tests/VM/matrix.py; its custom-kernel scenarios need ../shared/vm/bzImage
# and are reported as skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
packages=(libpci-dev pci.ids pkg-config zlib1g-dev mandoc python3 qemu-system-x86 busybox-static cpio xz-utils kmod prometheus python3-yaml tmux)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== fixture trees are current"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 Tests/Fixtures/make-fixtures.py "$tmp" >/dev/null
if ! diff -r --no-dereference "$tmp" Tests/Fixtures/hosts; then
    echo "Tests/Fixtures/hosts is stale: run python3 Tests/Fixtures/make-fixtures.py and commit the result" >&2
    exit 1
fi

echo "== man page lint"
mandoc -T lint -W warning man/vfio-probe.1

echo "== swift-format (.swift-format; scripts/format.sh formats the tree)"
if ! swift format lint --strict --configuration .swift-format --recursive Sources Tests/ProbeCoreTests Tests/VFIOProbeAPITests Fuzz; then
    echo "the tree is not formatted: run scripts/format.sh and commit the result" >&2
    exit 1
fi

echo "== swift test"
swift build
swift test

echo "== library API docs (DocC; a broken link or symbol reference fails)"
./scripts/api-docs.sh --warnings-as-errors >/dev/null

echo "== make install"
make install DESTDIR="$tmp/install" PREFIX=/usr > /dev/null
for f in usr/bin/vfio-probe usr/share/man/man1/vfio-probe.1 usr/share/doc/vfio-probe/README.md usr/share/bash-completion/completions/vfio-probe \
         usr/share/zsh/site-functions/_vfio-probe usr/share/fish/vendor_completions.d/vfio-probe.fish; do
    [ -s "$tmp/install/$f" ] || { echo "make install did not install $f" >&2; exit 1; }
done

echo "== contrib (systemd units, DaemonSet, Containerfile)"
python3 contrib/check.py "$tmp/install/usr/bin/vfio-probe" Tests/Fixtures/hosts/intel-vfio-ready

echo "== fuzz smoke (15 s per decoder; scripts/fuzz.sh 600 is the full run)"
if [ -d ../shared/fixtures/acpi ]; then
    ./scripts/fuzz.sh 15
else
    echo "SKIPPED: ../shared/fixtures/acpi is absent: no seed corpus for the fuzz smoke"
fi

echo "== VM matrix (real kernels under QEMU)"
python3 Tests/VM/matrix.py
