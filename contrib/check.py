#!/usr/bin/env python3
"""Checks the files in contrib/ against the vfio-probe binary given (CI runs it after make install):

    contrib/check.py BINARY FIXTURE_ROOT

- systemd/: `systemd-analyze verify` on copies whose ExecStart names BINARY (the unit's
  /usr/bin/vfio-probe is not installed on a CI machine); each ExecStart also runs against
  FIXTURE_ROOT and must write its report.
- kubernetes/daemonset.yaml: parsed; a DaemonSet whose host mounts (/sys, /proc, /dev/vfio, ...)
  are read-only under /host, with writable features.d and /var/run/cdi; its loop's commands run
  once against FIXTURE_ROOT (standing for /host) and write an NFD file and a CDI spec.
- container/Containerfile: builds the static-stdlib binary and installs the runtime libraries.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # a Python of its own (pyenv) without PyYAML: Debian's python3-yaml is for /usr/bin/python3
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


def run_probe(binary, args):
    return subprocess.run([binary] + args, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def check_systemd(binary, fixture, tmp):
    service = open(os.path.join(HERE, "systemd", "vfio-probe.service")).read()
    timer = open(os.path.join(HERE, "systemd", "vfio-probe.timer")).read()
    exec_lines = [l.split("=", 1)[1] for l in service.splitlines() if l.startswith("ExecStart=")]
    expect(exec_lines, "vfio-probe.service has no ExecStart")
    ok = set(re.search(r"^SuccessExitStatus=(.*)$", service, re.M).group(1).split()) | {"0"}
    for line in exec_lines:
        argv = shlex.split(line)
        expect(argv[0] == "/usr/bin/vfio-probe", f"ExecStart runs {argv[0]}")
        out = os.path.join(tmp, "textfile", "vfio-probe.prom")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        args = [a.replace("/var/lib/prometheus/node-exporter", os.path.dirname(out)) for a in argv[1:]]
        r = run_probe(binary, ["--root", fixture] + args)
        expect(str(r.returncode) in ok, f"ExecStart exits {r.returncode} on {fixture}: {r.stderr.strip()}")
        expect(os.path.exists(out) and "vfio_probe_" in open(out).read(), "ExecStart wrote no Prometheus file")
    if shutil.which("systemd-analyze") is None:
        print("SKIPPED: systemd-analyze is absent: the units are not verified")
        return
    d = os.path.join(tmp, "units")
    os.makedirs(d)
    open(os.path.join(d, "vfio-probe.service"), "w").write(service.replace("/usr/bin/vfio-probe", os.path.abspath(binary)))
    open(os.path.join(d, "vfio-probe.timer"), "w").write(timer)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", os.path.join(d, "vfio-probe.service"), os.path.join(d, "vfio-probe.timer")],
                       capture_output=True, text=True)
    # Warnings about the machine's own units (other files systemd reads) are not ours.
    ours = [l for l in (r.stdout + r.stderr).splitlines() if "vfio-probe" in l]
    expect(r.returncode == 0 and not ours, f"systemd-analyze verify: {r.returncode} {ours}")


def check_daemonset(binary, fixture, tmp):
    doc = yaml.safe_load(open(os.path.join(HERE, "kubernetes", "daemonset.yaml")))
    expect(doc.get("apiVersion") == "apps/v1" and doc.get("kind") == "DaemonSet", "not an apps/v1 DaemonSet")
    spec = doc["spec"]
    expect(spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items(), "selector does not match the pod labels")
    pod = spec["template"]["spec"]
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    c = pod["containers"][0]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    for host_path in ("/sys", "/proc", "/dev/vfio"):
        m = mounts.get("/host" + host_path)
        expect(m and volumes.get(m["name"]) == host_path and m.get("readOnly") is True, f"{host_path} is not mounted read-only at /host{host_path}")
    for path, m in mounts.items():
        if path.startswith("/host/"):
            expect(m.get("readOnly") is True, f"{path} is writable")
    expect(volumes.get(mounts["/features.d"]["name"]) == "/etc/kubernetes/node-feature-discovery/features.d", "features.d is not NFD's")
    expect(volumes.get(mounts["/cdi"]["name"]) == "/var/run/cdi", "/cdi is not /var/run/cdi")
    script = c["args"][0]
    r = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True)
    expect(r.returncode == 0, f"the container's script does not parse: {r.stderr}")
    # Its commands, once, against the fixture standing for /host.
    features, cdi = os.path.join(tmp, "features.d"), os.path.join(tmp, "cdi")
    os.makedirs(features)
    os.makedirs(cdi)
    commands = [shlex.split(l.strip()) for l in script.splitlines() if l.strip().startswith("vfio-probe ")]
    expect(len(commands) == 2, f"expected the nfd and cdi commands, found {commands}")
    for argv in commands:
        args = [a.replace("/host", fixture).replace("/features.d", features).replace("/cdi", cdi) for a in argv[1:]]
        r = run_probe(binary, args)
        expect(r.returncode == 0, f"{' '.join(argv)} exits {r.returncode}: {r.stderr.strip()}")
    nfd = os.path.join(features, "vfio-probe")
    expect(os.path.exists(nfd) and "vfio.iommu=" in open(nfd).read(), "no NFD feature file written")
    spec_file = os.path.join(cdi, "vfio-probe.json")
    expect(os.path.exists(spec_file) and json.load(open(spec_file)).get("cdiVersion"), "no CDI spec written")


def check_containerfile():
    text = open(os.path.join(HERE, "container", "Containerfile")).read()
    expect("--static-swift-stdlib" in text, "the Containerfile does not build the static-stdlib binary")
    runtime = text.split("FROM ")[-1]
    for pkg in ("libpci3", "libudev1", "zlib1g", "pci.ids"):
        expect(pkg in runtime, f"the runtime image lacks {pkg}")
    expect("COPY --from=build" in runtime and 'ENTRYPOINT ["/usr/bin/vfio-probe"]' in runtime, "the runtime image has no vfio-probe")


def main():
    binary, fixture = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        check_systemd(binary, fixture, tmp)
        check_daemonset(binary, fixture, tmp)
        check_containerfile()
    for e in errors:
        print("contrib: " + e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print("contrib: systemd units, DaemonSet and Containerfile checked")


main()
