#!/usr/bin/env bash
# Fuzzes each ACPI decoder with libFuzzer, seeded with the real tables in ../shared/fixtures/acpi,
# and the site-check plugins' JSON-line parser, seeded with the examples' lines.
#   scripts/fuzz.sh [SECONDS-PER-TARGET] [dmar|ivrs|iort|viot|text|plugin-json ...]
# Crashes land in .build-fuzz/crashes-NAME/; a crash makes the script fail. Turn each one into a
# regression test in Tests/ProbeCoreTests/ACPITests.swift (FuzzRegressionTests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(dmar ivrs iort viot text plugin-json)
shared=../shared/fixtures/acpi
out=.build-fuzz
mkdir -p "$out"
bin="$out/fuzz-acpi"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name ACPI Sources/ACPI/*.swift Fuzz/fuzz-acpi.swift -o "$bin"
json="$out/fuzz-plugin-json"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name PluginJSON Sources/ProbeCore/Report/JSONParser.swift \
    Sources/ProbeCore/Report/JSONValue.swift Fuzz/fuzz-plugin-json.swift -o "$json"
status=0
# fuzz NAME WHAT BINARY: runs BINARY over .build-fuzz/corpus-NAME (VP_FUZZ_SIGNATURE from the caller).
fuzz() {
    local t=$1 what=$2 binary=$3
    echo "== fuzzing $what for ${seconds}s"
    if ! "$binary" "$out/corpus-$t" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -artifact_prefix="$out/crashes-$t/" \
            -print_final_stats=1 > "$out/fuzz-$t.log" 2>&1; then
        echo "fuzz: $what CRASHED; see $out/fuzz-$t.log and $out/crashes-$t/" >&2
        tail -30 "$out/fuzz-$t.log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$out/fuzz-$t.log" | tail -2
    fi
}
for t in "${targets[@]}"; do
    corpus="$out/corpus-$t"
    mkdir -p "$corpus" "$out/crashes-$t"
    if [ "$t" = plugin-json ]; then
        printf '%s\n' '{"id": "site.bios", "status": "warn", "summary": "BIOS too old", "remedy": "update it", "device": "0000:3b:00.0", "blocks": ["vfio"]}' > "$corpus/seed-1"
        printf '%s\n' '{"a": [1, -2.5e3, true, null, "x\n\u00e9"], "b": {"c": {}}}' '# comment' '' > "$corpus/seed-2"
        fuzz "$t" "the plugin JSON-line parser" "$json"
        continue
    fi
    sig=$(echo "$t" | tr a-z A-Z)
    if [ "$t" = text ]; then
        # acpidump's text output (ap_dump_table_buffer): each real table as "SIG @ 0x..." and hex lines.
        if [ -d "$shared" ]; then
            for f in $(find "$shared" -name "*.bin" | sort | head -8); do
                python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
print("%4.4s @ 0x%016X" % (d[:4].decode("latin-1"), 0x7b7f5000))
for i in range(0, len(d), 16):
    c = d[i:i + 16]
    print("%8.4X: %s %s" % (i, "".join("%02X " % b for b in c) + "   " * (16 - len(c)), "".join(chr(b) if 32 <= b < 127 else "." for b in c)))
print()' "$f" > "$corpus/seed-$(basename "$f" .bin).txt"
            done
        fi
        VP_FUZZ_SIGNATURE=TEXT fuzz "$t" "acpidump's text format" "$bin"
        continue
    fi
    if [ -d "$shared" ]; then
        find "$shared" -name "*.$sig*.bin" -exec cp {} "$corpus/" \;
    else
        echo "fuzz: $shared is absent: $t starts from an empty corpus"
    fi
    VP_FUZZ_SIGNATURE="$sig" fuzz "$t" "the $sig decoder" "$bin"
done
exit $status
