#!/usr/bin/env python3
"""Benchmark: vfio-probe against lspci on the same synthetic trees, side by side in one run.

    Tests/Bench/bench.py [RUNS]

Builds the release binary, writes a 4096-function tree (64 PFs x 63 VFs, plus root ports) and a
16-function tree with Tests/Bench/make-tree.py, then runs, interleaved, RUNS times each:
  - vfio-probe --no-live --root TREE                         (the full analysis and its text report, with pci.ids names)
  - vfio-probe --no-live --root TREE --format json           (the same, as JSON; for information)
  - lspci -D -A linux-sysfs -O sysfs.path=TREE/sys/bus/pci   (the same tree, with names)
  - vfio-probe --no-live --root TREE --quiet --device BDF    (on the 4096 and on the 16 tree)
and reports medians, ratios and peak RSS against the targets in BENCHMARKS.md.
"""
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The trees live on tmpfs when there is one: sysfs is in memory (kernfs), and on a disk file system
# every read of a freshly written tree also costs an atime update, which no real host pays.
WORK = "/dev/shm/vfio-probe-bench" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else os.path.join(REPO, ".build-bench")


def sh(cmd):
    return subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout


def measure(cmd, runs_out):
    """Wall time (perf_counter) and peak RSS (GNU time) of one run; standard output is discarded,
    as both tools' reports are written."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    runs_out.append((wall, rss_kb))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    sh(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "vfio-probe"])
    probe = os.path.join(sh(["swift", "build", "-c", "release", "--show-bin-path"]).strip(), "vfio-probe")
    big, small = os.path.join(WORK, "tree-4096"), os.path.join(WORK, "tree-16")
    sh(["python3", "Tests/Bench/make-tree.py", big, "64", "63"])
    sh(["python3", "Tests/Bench/make-tree.py", small, "2", "7"])
    print(f"trees in {WORK}")
    bdf = "0000:01:01.0"
    cases = {
        "full-4096": [probe, "--no-live", "--root", big, "--color", "never"],
        "json-4096": [probe, "--no-live", "--root", big, "--format", "json"],
        "lspci-4096": ["lspci", "-D", "-A", "linux-sysfs", "-O", f"sysfs.path={big}/sys/bus/pci"],
        "device-4096": [probe, "--no-live", "--root", big, "--color", "never", "--device", bdf],
        "device-16": [probe, "--no-live", "--root", small, "--color", "never", "--device", bdf],
    }
    results = {k: [] for k in cases}
    for k, c in cases.items():  # warm the page cache
        subprocess.run(c, capture_output=True)
    for _ in range(runs):
        for k, c in cases.items():
            measure(c, results[k])
    med = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    rss = {k: max(r for _, r in v) for k, v in results.items()}
    ratio_full = med["full-4096"] / med["lspci-4096"]
    ratio_dev = med["device-4096"] / med["device-16"]
    print(f"runs: {runs}, cores: {os.cpu_count()}")
    print(f"{'case':<14}{'median ms':>10}{'peak RSS MB':>13}")
    for k in cases:
        print(f"{k:<14}{med[k] * 1000:>10.1f}{rss[k] / 1024:>13.1f}")
    targets = [
        ("full analysis / lspci on 4096 functions", ratio_full, 1.25),
        ("--device on 4096 / --device on 16", ratio_dev, 1.5),
        ("peak RSS of the full analysis (MB)", rss["full-4096"] / 1024, 40.0),
        ("--device start on 16 functions (ms)", med["device-16"] * 1000, 15.0),
    ]
    ok = True
    for name, value, limit in targets:
        met = value <= limit
        ok &= met
        print(f"{name}: {value:.2f} (target <= {limit}) {'met' if met else 'MISSED'}")
    if WORK.startswith("/dev/shm/"):
        import shutil
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
