#!/usr/bin/env python3
"""The real-kernel matrix: boots Linux under QEMU (TCG) with emulated IOMMUs and real VFIO, runs
vfio-probe inside, and asserts its verdicts, readiness, actions, live walks, and that the probe
changed nothing.

    Tests/VM/matrix.py [--update-snapshots] [SCENARIO ...]

Every scenario also takes `vfio-probe snapshot` inside the VM, and the host checks that
`--root SNAPSHOT --no-live` reproduces the static report the VM gave; --update-snapshots copies
the snapshots into Tests/Fixtures/snapshots as regression fixtures.

Kernels: ../shared/vm/bzImage (6.12 with VFIO, type1, no-IOMMU, iommufd + cdev, mdev/mtty, uio all
built in), or $VFIO_PROBE_KERNEL; and Debian's stock kernel (apt-get download), for the "distro
kernel without no-IOMMU" case. Scenarios whose kernel is missing are reported as SKIPPED, loudly.
"""
import base64
import concurrent.futures
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WORK = os.path.join(REPO, ".build-vm")
SHARED_KERNEL = os.environ.get("VFIO_PROBE_KERNEL", os.path.join(REPO, "..", "shared", "vm", "bzImage"))
# The same 6.12 with iommufd's emulated /dev/vfio/vfio (no legacy container, no type1) and SR-IOV.
COMPAT_KERNEL = os.environ.get("VFIO_PROBE_COMPAT_KERNEL", os.path.join(REPO, "..", "shared", "vm", "bzImage-compat"))
E1000E = "8086:10d3"
BIND = f"vp.bind={E1000E} vp.device={E1000E}"
INTEL = "-machine q35,accel=tcg -device intel-iommu,intremap=on -device e1000e,romfile="
AMD = "-machine q35,accel=tcg -device amd-iommu -device e1000e,romfile="
PLAIN = "-machine q35,accel=tcg -device e1000e,romfile="


def device(doc, vendor_device=E1000E):
    v, d = vendor_device.split(":")
    return next((x for x in doc["devices"] if x["vendor_id"] == v and x["device_id"] == d), None)


def finding(doc, check_id, device_bdf=None):
    return [c for c in doc["checks"] if c["id"] == check_id and (device_bdf is None or c.get("device") == device_bdf)]


def walk(dev, path):
    return next((w for w in (dev.get("live") or []) if w["path"] == path), None)


def expect(cond, what, errors):
    if not cond:
        errors.append(what)


# ---- scenarios: qemu devices, kernel command line, kernel, and the assertions -------------------

def s_intel_vfio(doc, errors, extras=()):
    # The README's systemd gate, as written: the NIC is bound and ready, so the service may start.
    expect(extras and extras[0][0] == 0, f"--require vfio --device BDF --quiet --numeric exits {extras and extras[0][0]}, not 0", errors)
    d = device(doc)
    expect(doc["verdict"]["mode"] == "vfio", f"mode {doc['verdict']['mode']}", errors)
    expect(d and d["readiness"] == "ready", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    t1 = walk(d or {}, "type1")
    expect(t1 and t1["succeeded"], f"type1 walk: {t1 and t1['failed_step']}", errors)
    expect(t1 and t1["facts"].get("mapped_iova") and t1["facts"].get("unmapped_size") == t1["facts"].get("mapped_size"),
           "type1 mapped and unmapped DMA", errors)
    expect(t1 and t1["facts"].get("config_vendor_id") == "8086" and t1["facts"].get("config_device_id") == "10d3",
           "config space read through VFIO matches", errors)
    fd = walk(d or {}, "iommufd")
    expect(fd and fd["succeeded"], f"iommufd walk: {fd and fd['failed_step']} {fd and [s for s in fd['steps'] if s['outcome'] != 'ok']}", errors)
    expect(fd and fd["facts"].get("hw_info", {}).get("type") == 1, "IOMMU_GET_HW_INFO says VT-d", errors)
    expect(finding(doc, "iommu.irq-remapping") and finding(doc, "iommu.irq-remapping")[0]["status"] == "pass", "IR pass", errors)
    expect(not doc["verdict"]["disagreements"], f"disagreements {doc['verdict']['disagreements']}", errors)


def cdi_runs(console):
    """vp.cdi runs: per backend, the exit status, the spec's device count and each node's
    (path, is a char device, opens read-only)."""
    out = {}
    for m in re.finditer(r"VP-CDI-(\w+)-EXIT (\d+)", console):
        b = m.group(1)
        d = re.search(rf"VP-CDI-{b}-DEVICES (\d+)", console)
        nodes = [(n, c == "1", o == "1") for n, c, o in re.findall(rf"VP-CDI-{b}-NODE (\S+) char=(\d) open=(\d)", console)]
        out[b] = (int(m.group(2)), int(d.group(1)) if d else 0, nodes)
    return out


def check_cdi(console, backends, errors):
    """Each backend's spec describes the ready e1000e's group with its own nodes only, every one
    of which exists and opens in the guest."""
    runs = cdi_runs(console)
    want = {"legacy": {"/dev/vfio/vfio"}, "cdev": {"/dev/iommu"}}
    for b in backends:
        r = runs.get(b)
        expect(r is not None and r[0] == 0, f"cdi --backend {b} exits {r and r[0]}", errors)
        if not r:
            continue
        expect(r[1] >= 1, f"cdi --backend {b}: {r[1]} devices", errors)
        paths = {n for n, _, _ in r[2]}
        expect(want[b] <= paths, f"cdi --backend {b} nodes {sorted(paths)}", errors)
        other = "/dev/iommu" if b == "legacy" else "/dev/vfio/vfio"
        expect(other not in paths and (b == "cdev") == all(p.startswith("/dev/vfio/devices/") or p == "/dev/iommu" for p in paths),
               f"cdi --backend {b} mixes backends: {sorted(paths)}", errors)
        for n, c, o in r[2]:
            expect(c and o, f"cdi --backend {b}: {n} char={c} open={o}", errors)


def s_intel_bindable(doc, errors, extras=()):
    # On its kernel driver the NIC is not ready: the gate must not let the service start.
    expect(extras and extras[0][0] == 4, f"--require vfio on a bindable NIC exits {extras and extras[0][0]}, not 4", errors)
    d = device(doc)
    expect(doc["verdict"]["mode"] == "vfio", f"mode {doc['verdict']['mode']}", errors)
    expect(d and d["readiness"] == "bindable", f"readiness {d and d['readiness']}", errors)
    bdf = d["bdf"] if d else "?"
    want = [f"echo vfio-pci > /sys/bus/pci/devices/{bdf}/driver_override",
            f"echo {bdf} > /sys/bus/pci/devices/{bdf}/driver/unbind",
            f"echo {bdf} > /sys/bus/pci/drivers_probe"]
    expect(d and d["actions"] == want, f"actions {d and d['actions']}", errors)
    expect(d and d["driver"] == "e1000e", f"driver {d and d['driver']}", errors)


def s_amd(doc, errors, extras=()):
    d = device(doc)
    expect(doc["verdict"]["mode"] == "vfio", f"mode {doc['verdict']['mode']}", errors)
    expect(d and d["readiness"] == "ready", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    t1 = walk(d or {}, "type1")
    expect(t1 and t1["succeeded"], f"type1 walk: {t1 and t1['failed_step']}", errors)
    expect("IVRS" in (doc["host"]["firmware_tables"] or []), "IVRS present", errors)
    expect(any(u["kind"] == "amd" for u in doc["host"]["iommu"]["units"]), "AMD-Vi unit", errors)


def s_noiommu_on(doc, errors, extras=()):
    d = device(doc)
    expect(doc["verdict"]["mode"] == "noiommu", f"mode {doc['verdict']['mode']}", errors)
    expect(d and d["readiness"] == "ready", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    n = walk(d or {}, "noiommu")
    expect(n and n["succeeded"], f"noiommu walk: {n and n['failed_step']}", errors)
    expect(doc["host"]["noiommu"] == {"compiled_in": True, "enabled": True}, f"noiommu {doc['host']['noiommu']}", errors)


def s_noiommu_off(doc, errors, extras=()):
    v = doc["verdict"]
    expect(v["mode"] == "noiommu", f"mode {v['mode']}", errors)
    expect("echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode" in v["actions"], f"actions {v['actions']}", errors)
    f = finding(doc, "noiommu.available")
    expect(f and f[0]["status"] == "warn" and "taints the kernel" in (f[0]["remedy"] or ""), "the enabling action warns", errors)
    expect(doc["host"]["noiommu"] == {"compiled_in": True, "enabled": False}, f"noiommu {doc['host']['noiommu']}", errors)


def s_debian(doc, errors, extras=()):
    v = doc["verdict"]
    expect(v["mode"] == "none", f"mode {v['mode']}", errors)
    expect("the kernel is built without CONFIG_VFIO_NOIOMMU" in v["reasons"], f"reasons {v['reasons']}", errors)
    expect(doc["host"]["noiommu"]["compiled_in"] is False, f"noiommu {doc['host']['noiommu']}", errors)


def s_intel_off(doc, errors, extras=()):
    v = doc["verdict"]
    expect(v["mode"] != "vfio", f"mode {v['mode']}", errors)
    ups = (v["upgrade"] or {}).get("actions", [])
    expect(any("intel_iommu=off" in a for a in ups), f"upgrade {ups}", errors)
    expect(finding(doc, "kernel.cmdline") and finding(doc, "kernel.cmdline")[0]["status"] == "fail", "cmdline fail", errors)


def s_unprivileged(doc, errors, extras=()):
    d = device(doc)
    expect(doc["host"]["process"]["uid"] == 1000, f"uid {doc['host']['process']['uid']}", errors)
    expect(d and d["readiness"] != "ready", f"no false pass: readiness {d and d['readiness']}", errors)
    expect(finding(doc, "process.privileges") and finding(doc, "process.privileges")[0]["status"] == "warn", "privileges warn", errors)
    t1 = walk(d or {}, "type1")
    expect(t1 and t1["failed_step"] and t1["failed_step"].startswith("open /dev/vfio/"), f"type1 walk stops at the group: {t1 and t1['failed_step']}", errors)


def s_mdev(doc, errors, extras=()):
    f = finding(doc, "vfio.mdev")
    expect(f and "mtty-2" in (f[0]["detail"] or "") and "group" in (f[0]["detail"] or ""), f"mdev finding {f}", errors)
    walks = (doc["live"].get("mdevs") or {}).get("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001") or []
    expect(walks and walks[0]["succeeded"], f"the mdev's type1 walk: {walks and walks[0]['failed_step']}", errors)
    expect(doc["verdict"]["mode"] == "vfio", f"mode {doc['verdict']['mode']}", errors)
    # The kernel names the mdev's group vfio-noiommu; it is VFIO's emulated-IOMMU group, not a no-IOMMU one.
    g = finding(doc, "iommu.groups")
    expect(g and "1 mdev group (emulated IOMMU)" in g[0]["summary"] and "no-IOMMU" not in g[0]["summary"], f"iommu.groups {g}", errors)


def s_debian_no_ir(doc, errors, extras=()):
    """Debian's 6.1 under VT-d with intremap=off, e1000e on vfio-pci: type1 refuses SET_IOMMU
    (vfio_iommu_type1_attach_group: "No interrupt remapping support", EPERM). Safe VFIO is not
    available; the unsafe answer names the parameter and its risk; the gate fails."""
    v = doc["verdict"]
    d = device(doc)
    expect(v["mode"] == "unsafe-interrupts", f"mode {v['mode']}", errors)
    expect(v["exit_code"] == 5, f"exit code {v['exit_code']}", errors)
    param = "echo 1 > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
    expect(d and d["readiness"] == "bindable" and d["actions"] == [param], f"device {d and (d['readiness'], d['actions'])}", errors)
    expect("forge MSIs" in v["summary"], f"summary names the risk: {v['summary']}", errors)
    expect(param not in ((v["upgrade"] or {}).get("actions") or []), f"the parameter is no step towards safe VFIO: {v['upgrade']}", errors)
    t1 = walk(d or {}, "type1")
    expect(t1 and t1["failed_step"] == "VFIO_SET_IOMMU(TYPE1v2)" and
           any(s["errno"] == "EPERM" for s in t1["steps"]), f"type1 walk: {t1 and t1['failed_step']}", errors)
    ir = finding(doc, "iommu.irq-remapping")
    expect(ir and ir[0]["status"] == "fail", f"iommu.irq-remapping {ir and ir[0]['status']}", errors)
    expect(extras and extras[0][0] == 5, f"--require vfio exits {extras and extras[0][0]}, not 5", errors)
    expect(len(extras) > 1 and extras[1][0] == 4, f"--require unsafe-interrupts exits {len(extras) > 1 and extras[1][0]}, not 4", errors)


def s_bridge_group(doc, errors, extras=()):
    """Two conventional e1000 behind a PCIe-to-PCI bridge share one group; the first is on
    vfio-pci, the second unbound. The group opens for both, but only the first has a device fd
    (GET_DEVICE_FD answers ENODEV for the other): it is bindable, with or without the device open."""
    devs = sorted((x for x in doc["devices"] if x["vendor_id"] == "8086" and x["device_id"] == "100e"), key=lambda x: x["bdf"])
    expect(len(devs) == 2 and devs[0]["iommu_group"] == devs[1]["iommu_group"], f"one group: {[(x['bdf'], x['iommu_group']) for x in devs]}", errors)
    if len(devs) != 2:
        return
    bound, unbound = devs
    expect(bound["driver"] == "vfio-pci" and bound["readiness"] == "ready", f"bound {bound['driver']} {bound['readiness']} {bound['reasons']}", errors)
    expect(unbound["driver"] is None and unbound["readiness"] == "bindable", f"unbound {unbound['driver']} {unbound['readiness']}", errors)
    t1 = walk(unbound, "type1")
    expect(t1 and t1["failed_step"] == "VFIO_GROUP_GET_DEVICE_FD" and any(s["errno"] == "ENODEV" for s in t1["steps"]),
           f"unbound walk: {t1 and t1['failed_step']}", errors)
    bind = f"echo vfio-pci > /sys/bus/pci/devices/{unbound['bdf']}/driver_override"
    expect(bind in unbound["actions"], f"unbound actions {unbound['actions']}", errors)
    expect(doc["verdict"]["exit_code"] == 0, f"the platform offers vfio: {doc['verdict']['exit_code']}", errors)
    # --no-device-open: the group-level walk goes through for both, and proves neither device.
    nd = extras[0][1] if extras else None
    nd_unbound = nd and next((x for x in nd["devices"] if x["bdf"] == unbound["bdf"]), None)
    expect(nd_unbound and nd_unbound["readiness"] == "bindable", f"--no-device-open: unbound {nd_unbound and nd_unbound['readiness']}", errors)
    expect(nd and not nd["live"]["device_open"], "--no-device-open ran without the device open", errors)
    expect(len(extras) > 1 and extras[1][0] == 4, f"--require vfio exits {len(extras) > 1 and extras[1][0]}, not 4", errors)
    expect(len(extras) > 2 and extras[2][0] == 4, f"--no-device-open --require vfio exits {len(extras) > 2 and extras[2][0]}, not 4", errors)


def s_compat_intel(doc, errors, extras=()):
    """iommufd provides /dev/vfio/vfio (CONFIG_IOMMUFD_VFIO_CONTAINER): no type1 module, the legacy
    API through the emulation works end to end. The report names iommufd as the provider, and the
    walk proves the device only because it opened it (the checks happen at GET_DEVICE_FD)."""
    d = device(doc)
    expect(doc["host"].get("vfio_container") == "iommufd", f"vfio_container {doc['host'].get('vfio_container')}", errors)
    expect(doc["verdict"]["mode"] == "vfio", f"mode {doc['verdict']['mode']}: {doc['verdict']['reasons']}", errors)
    expect(d and d["readiness"] == "ready", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    t1 = walk(d or {}, "type1")
    expect(t1 and t1["succeeded"] and t1["facts"].get("device_flags") is not None, f"type1 walk through the emulation: {t1 and t1['failed_step']}", errors)
    c = finding(doc, "live.container")
    expect(c and c[0]["status"] == "pass" and "iommufd" in c[0]["summary"], f"live.container {c and (c[0]['status'], c[0]['summary'])}", errors)
    ext = ((doc["live"].get("container") or {}).get("facts") or {}).get("extensions") or {}
    expect(ext.get("TYPE1_NESTING") is False and ext.get("TYPE1v2") is True, f"extensions {ext}", errors)
    m = finding(doc, "vfio.modules")
    expect(any("iommufd provides /dev/vfio/vfio" in x["summary"] for x in m), f"vfio.modules {[x['summary'] for x in m]}", errors)
    expect(extras and extras[0][0] == 0, f"--require vfio exits {extras and extras[0][0]}", errors)


def s_compat_virtio(doc, errors, extras=()):
    """The emulated container under virtio-iommu: MSIs are not isolated, iommufd_device_bind
    refuses at GET_DEVICE_FD (EPERM); the parameter to name is iommufd's, not type1's."""
    v = doc["verdict"]
    d = device(doc)
    param = "echo 1 > /sys/module/iommufd/parameters/allow_unsafe_interrupts"
    expect(v["mode"] == "unsafe-interrupts", f"mode {v['mode']}", errors)
    expect(d and d["readiness"] == "bindable" and param in d["actions"], f"device {d and (d['readiness'], d['actions'])}", errors)
    expect(not any("vfio_iommu_type1" in a for a in (d or {}).get("actions", []) + v["actions"]), f"no type1 parameter: {v['actions']}", errors)
    t1 = walk(d or {}, "type1")
    expect(t1 and not t1["succeeded"], f"type1 walk through the emulation stops: {t1 and t1['failed_step']}", errors)
    expect(extras and extras[0][0] == 5, f"--require vfio exits {extras and extras[0][0]}, not 5", errors)


def s_sriov(doc, errors, extras=()):
    """An NVMe PF with two VFs enabled, the first VF on vfio-pci: the VF is ready; the PF's binding
    starts by destroying its VFs, said so (vfio_pci_core_register_device refuses a PF with VFs)."""
    nvme = sorted((x for x in doc["devices"] if x["vendor_id"] == "1b36" and x["device_id"] == "0010"), key=lambda x: x["bdf"])
    expect(len(nvme) == 3, f"a PF and two VFs: {[x['bdf'] for x in nvme]}", errors)
    if len(nvme) != 3:
        return
    pf = next((x for x in nvme if x["driver"] == "nvme" and not x["bdf"].endswith((".1", ".2"))), nvme[0])
    vf = next((x for x in nvme if x["driver"] == "vfio-pci"), None)
    expect(pf["readiness"] == "bindable" and pf["actions"] and pf["actions"][0].startswith(f"echo 0 > /sys/bus/pci/devices/{pf['bdf']}/sriov_numvfs  # DESTRUCTIVE"),
           f"PF {pf['bdf']} {pf['readiness']} {pf['actions'][:1]}", errors)
    expect(vf and vf["readiness"] == "ready", f"VF {vf and (vf['bdf'], vf['readiness'], vf['reasons'])}", errors)
    t1 = walk(vf or {}, "type1")
    expect(t1 and t1["succeeded"], f"VF type1 walk: {t1 and t1['failed_step']}", errors)


def s_isolation(doc, errors, extras=()):
    """Four e1000e: behind a root port with ACS (alone), behind a root port with disable-acs=on
    (pci_acs_path_enabled fails at the port: it shares the port's group), and behind the two
    downstream ports of an x3130 switch (no ACS in QEMU 7.2: each shares its port's group). Every group with more than one member must be explained
    by the probe's rule (group_merged_by names a member of it), and the root port without ACS is
    named as the merging port."""
    devs = doc["devices"]
    by_group = {}
    for x in devs:
        by_group.setdefault(x["iommu_group"], []).append(x)
    print("  kernel groups: " + "; ".join(f"{g}: " + ",".join(f"{x['bdf']}({x['vendor_id']}:{x['device_id']})" for x in m)
                                        for g, m in sorted(by_group.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)) if g is not None))
    nics = [x for x in devs if x["vendor_id"] == "8086" and x["device_id"] == "10d3"]
    expect(len(nics) == 4, f"four e1000e: {[x['bdf'] for x in nics]}", errors)
    for g, members in by_group.items():
        if g is None or len(members) < 2:
            continue
        merged = members[0]["group_merged_by"] or []
        bdfs = {x["bdf"] for x in members}
        expect(merged and all(m["bdf"] in bdfs for m in merged),
               f"group {g} ({sorted(bdfs)}) is explained by the rule: {merged}", errors)
    alone = [x for x in nics if len(by_group[x["iommu_group"]]) == 1]
    expect(alone, "an e1000e behind an ACS port is alone in its group", errors)
    for x in alone:
        f = finding(doc, "device.group-isolation", x["bdf"])
        expect(f and f[0]["status"] == "pass", f"{x['bdf']} alone: {f and f[0]['status']}", errors)
    with_rp = [x for x in nics if any(m["vendor_id"] == "1b36" and m["device_id"] == "000c" for m in by_group[x["iommu_group"]])]
    expect(len(with_rp) == 1, f"one e1000e shares its root port's group (disable-acs=on): {[x['bdf'] for x in with_rp]}", errors)
    for x in with_rp:
        rp = next(m for m in by_group[x["iommu_group"]] if m["device_id"] == "000c")
        f = finding(doc, "device.group-isolation", x["bdf"])
        expect(f and f[0]["status"] == "warn" and f"because {rp['bdf']}" in f[0]["summary"] and "has no ACS" in f[0]["summary"],
               f"{x['bdf']} names {rp['bdf']} as the merging port: {f and f[0]['summary']}", errors)
        expect(any(m["bdf"] == rp["bdf"] and m["kind"] == "port" for m in x["group_merged_by"] or []),
               f"JSON group_merged_by {x['group_merged_by']}", errors)
    # QEMU 7.2's xio3130-downstream has no ACS: 6.12 groups each downstream port with the device
    # below it (pci_acs_path_enabled fails at the port, passes at the upstream port above), one
    # group per port, not one for the switch.
    behind_dn = [x for x in nics if any(m["vendor_id"] == "104c" and m["device_id"] == "8233" for m in by_group[x["iommu_group"]])]
    expect(len(behind_dn) == 2 and behind_dn[0]["iommu_group"] != behind_dn[1]["iommu_group"],
           f"one group per downstream port: {[(x['bdf'], x['iommu_group']) for x in behind_dn]}", errors)
    for x in behind_dn:
        dn = next(m for m in by_group[x["iommu_group"]] if m["device_id"] == "8233")
        f = finding(doc, "device.group-isolation", x["bdf"])
        expect(f and f[0]["status"] == "warn" and f"because {dn['bdf']}" in f[0]["summary"],
               f"{x['bdf']} names {dn['bdf']}: {f and f[0]['summary']}", errors)
        # ... and that the kernel's separate groups hide the peer-to-peer path to the other NIC.
        other = next((y for y in behind_dn if y is not x), None)
        expect(other and f and "in the switch below" in f[0]["summary"] and other["bdf"] in f[0]["summary"],
               f"{x['bdf']} names the switch peer {other and other['bdf']}: {f and f[0]['summary']}", errors)
    o = finding(doc, "kernel.acs-override")
    expect(o and o[0]["status"] == "pass", f"no override: {o and o[0]['status']}", errors)


def s_boot_ids(doc, errors, extras=()):
    # vfio-pci.ids= with vfio-pci and e1000e both built in (CONFIG_MODULES=n): vfio_pci_fill_ids adds
    # the dynid at vfio-pci's initcall, and built-in drivers register in link order. Whichever
    # driver has the NIC, device.boot-binding must say the same of the next boot.
    d = device(doc)
    f = finding(doc, "device.boot-binding", d and d["bdf"])
    drv = d and d["driver"]
    if drv == "vfio-pci":
        expect(f and f[0]["status"] == "pass" and "vfio-pci built in" in f[0]["summary"], f"boot-binding {f}", errors)
        expect(d["readiness"] == "ready", f"readiness {d['readiness']}: {d['reasons']}", errors)
    elif drv == "e1000e":
        expect(f and f[0]["status"] == "warn" and "e1000e is built in and binds first" in f[0]["summary"], f"boot-binding {f}", errors)
        expect(d["readiness"] == "bindable", f"readiness {d['readiness']}: {d['reasons']}", errors)
    else:
        errors.append(f"the NIC is on {drv}")


def s_budget(doc, errors, extras=()):
    # vfio_iommu_type1.dma_entry_limit=16 on the command line and --memory 1M in 4 KiB pages: 256
    # mappings. vfio_iommu_type1_open copies the limit into dma_avail, VFIO_IOMMU_GET_INFO's
    # DMA_AVAIL says 16, vfio_dma_do_map answers the 17th map with ENOSPC; iommufd counts none.
    d = device(doc)
    t1, fd = walk(d or {}, "type1"), walk(d or {}, "iommufd")
    trial = ((t1 or {}).get("facts") or {}).get("map_trial") or {}
    print(f"         type1 trial: {trial}; iommufd trial: {((fd or {}).get('facts') or {}).get('map_trial')}", flush=True)
    expect(t1 and t1["succeeded"], f"type1 walk: {t1 and t1['failed_step']}", errors)
    expect(t1 and t1["facts"].get("dma_available") == 16, f"DMA_AVAIL {t1 and t1['facts'].get('dma_available')}", errors)
    expect(trial.get("asked") == 256 and trial.get("mapped") == 16 and trial.get("errno") == "ENOSPC"
           and trial.get("unmapped") == 16 * 4096, f"type1 trial {trial}", errors)
    ft = ((fd or {}).get("facts") or {}).get("map_trial") or {}
    expect(ft.get("mapped") == 256 and ft.get("errno") is None, f"iommufd trial {ft}", errors)
    # The report predicted it from sysfs, before any ioctl.
    f = finding(doc, "vfio.dma-entry-limit")
    expect(f and f[0]["status"] == "warn" and "256 mappings" in f[0]["summary"], f"dma-entry-limit {f}", errors)
    b = finding(doc, "vfio.dma-budget")
    expect(b and b[0]["status"] == "warn" and "ENOSPC" in json.dumps(b[0]), f"dma-budget {b}", errors)
    expect(d and d["readiness"] != "ready", f"no false ready: readiness {d and d['readiness']}", errors)
    expect(d and any("dma_entry_limit" in a for a in d["actions"]), f"actions {d and d['actions']}", errors)
    expect(doc["host"]["dma_budget"]["memory"] == 1 << 20, f"dma_budget {doc['host']['dma_budget']}", errors)


def s_narrow_viommu(doc, errors, extras=()):
    # intel-iommu,aw-bits=39: MGAW 39 (cap bits 21:16 = 38). User addresses reach 47 bits, so
    # --iova-mode=pa; --memory 1T exceeds the 512 GiB IOVA space and blocks the IOMMU modes.
    u = doc["host"]["iommu"]["units"]
    expect(u and u[0]["address_width"] == 39, f"units {u}", errors)
    m = doc["host"]["iova_mode"]
    expect(m["recommended"] == "pa" and m["iommu_width"] == 39, f"iova_mode {m}", errors)
    f = finding(doc, "iommu.address-width")
    expect(f and f[0]["status"] == "warn" and "--iova-mode=pa" in f[0]["summary"], f"address-width {f}", errors)
    b = finding(doc, "vfio.dma-budget")
    expect(b and b[0]["status"] == "fail" and "IOVA" in b[0]["summary"], f"dma-budget {b}", errors)
    d = device(doc)
    expect(d and d["readiness"] == "blocked", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    expect(doc["verdict"]["mode"] not in ("vfio", "unsafe-interrupts"), f"mode {doc['verdict']['mode']}", errors)


VIRTIO_IOMMU = "-machine q35,accel=tcg -device virtio-iommu-pci -device e1000e,romfile="
ISOLATION = ("-machine q35,accel=tcg -device intel-iommu,intremap=on "
             "-device pcie-root-port,id=rp1,chassis=1,slot=1 -device e1000e,bus=rp1,romfile= "
             "-device pcie-root-port,id=rp2,chassis=2,slot=2,disable-acs=on -device e1000e,bus=rp2,romfile= "
             "-device pcie-root-port,id=rp3,chassis=3,slot=3 -device x3130-upstream,id=up,bus=rp3 "
             "-device xio3130-downstream,id=dn1,bus=up,addr=0,port=0,chassis=4,slot=1 -device e1000e,bus=dn1,romfile= "
             "-device xio3130-downstream,id=dn2,bus=up,addr=1,port=1,chassis=5,slot=2 -device e1000e,bus=dn2,romfile=")
SRIOV = ("-machine q35,accel=tcg -device intel-iommu,intremap=on -device pcie-root-port,id=rp1,chassis=1 "
         "-device nvme-subsys,id=subsys0 -device nvme,serial=vp1,bus=rp1,subsys=subsys0,sriov_max_vfs=2,"
         "sriov_vq_flexible=8,sriov_vi_flexible=4,msix_qsize=9")
BRIDGE = ("-machine q35,accel=tcg -device intel-iommu,intremap=on -device pcie-pci-bridge,id=br "
          "-device e1000,bus=br,addr=1,romfile= -device e1000,bus=br,addr=2,romfile=")
INTEL_NO_IR = "-machine q35,accel=tcg -device intel-iommu,intremap=off -device e1000e,romfile="
GATE = "vp.extra=--require,vfio,--quiet,--numeric"
# The host runs on these: / on an NVMe disk, swap on a virtio-blk disk, the default route on a
# virtio-net (no backend: -net none), beside an e1000e for the workload. The disks are sparse
# files made before each boot.
DISKS = {"nvme-root.img": 64 << 20, "vd-swap.img": 16 << 20}
HOST_IN_USE = (INTEL + f" -drive file={WORK}/nvme-root.img,if=none,id=nv0,format=raw -device nvme,serial=vproot,drive=nv0"
               f" -drive file={WORK}/vd-swap.img,if=none,id=vd0,format=raw -device virtio-blk-pci,drive=vd0 -device virtio-net-pci")

def s_host_in_use(doc, errors, extras=()):
    """The guest runs on its NVMe (/, through a chroot), its virtio-blk (swap) and its
    virtio-net (the default route): each is blocked with its reason and no unbind is offered;
    the console's VGA (boot_vga) and the ICH9 chipset functions too; the e1000e is ready.
    Named with --device, the NVMe shows the consequence and is bindable."""
    expect(doc["verdict"]["mode"] == "vfio", f"mode {doc['verdict']['mode']}", errors)
    by = {d["vendor_id"] + ":" + d["device_id"]: d for d in doc["devices"]}
    for vd, role, words in (("1b36:0010", "mounts", "holds / ("), ("1af4:1001", "swap", "holds active swap (vda)"),
                            ("1af4:1000", "default-route", "carries the default route (eth0)")):
        d = by.get(vd)
        if d is None:
            errors.append(f"no {vd} in the guest")
            continue
        expect(d["readiness"] == "blocked", f"{vd}: {d['readiness']}", errors)
        expect(any(u["role"] == role for u in d["host_use"]), f"{vd}: host_use {d['host_use']}", errors)
        expect(any(words in r for r in d["reasons"]), f"{vd}: reasons {d['reasons']}", errors)
        expect(not any("unbind" in a or "driver_override" in a for a in d["actions"]), f"{vd}: offers {d['actions']}", errors)
    expect(by["1b36:0010"]["block_devices"] == ["nvme0n1"], f"nvme names {by['1b36:0010']['block_devices']}", errors)
    expect(by["1af4:1000"]["interfaces"] == ["eth0"], f"net names {by['1af4:1000']['interfaces']}", errors)
    vga = by.get("1234:1111")
    expect(vga is not None and vga["readiness"] == "blocked" and any(u["role"] == "boot-vga" for u in vga["host_use"]),
           f"boot VGA {vga and vga['host_use']}", errors)
    for vd in ("8086:29c0", "8086:2918", "8086:2930"):  # host bridge, LPC, SMBus
        d = by.get(vd)
        expect(d is not None and d["readiness"] == "blocked" and finding(doc, "device.chipset", d["bdf"])[0]["status"] == "fail",
               f"chipset {vd}: {d and d['readiness']}", errors)
    e = device(doc)
    expect(e is not None and e["readiness"] == "ready", f"e1000e {e and e['readiness']}", errors)
    named = [x for _, x in extras if x]
    nv = next((x for x in named[0]["devices"] if x["vendor_id"] == "1b36"), None) if named else None
    expect(nv is not None and nv["vendor_id"] == "1b36" and nv["readiness"] == "bindable"
           and any("takes that away from the host" in r for r in nv["reasons"]), f"--device NVMe: {nv}", errors)


# The e1000e alone behind a PCIe root port (a bus and a slot of its own), an NVMe on the root bus.
NVME = "1b36:0010"
RESET = ("-machine q35,accel=tcg -device intel-iommu,intremap=on -device pcie-root-port,id=rp1,chassis=1 "
         "-device e1000e,bus=rp1,romfile= -device nvme,serial=vp0")

def s_reset(doc, errors, extras=()):
    """reset_method as 6.12 reports it for an e1000e and an NVMe, and the live walk's
    VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: the e1000e alone behind its root port is the whole
    reset domain, in its own group (vfio_pci_fill_devs); the NVMe on the root bus has no bus reset."""
    d, n = device(doc), device(doc, NVME)
    for name, x in (("e1000e", d), ("nvme", n)):
        r = (x or {}).get("reset") or {}
        print(f"         {name} {x and x['bdf']}: reset {r}", flush=True)
        expect(r.get("source") in ("reset_method", "none listed") and isinstance(r.get("methods"), list),
               f"{name}: reset {r}", errors)
    expect(d and d["readiness"] == "ready", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    expect(n and "bus" not in (n.get("reset") or {}).get("methods", []) and n["reset"]["bus_reset_domain"] is None,
           f"nvme on the root bus has no bus reset: {n and n.get('reset')}", errors)
    expect(d and d["reset"]["bus_reset_domain"] == [d["bdf"]], f"e1000e bus-reset domain {d and d['reset']}", errors)
    for path in ("type1", "iommufd"):
        w = walk(d or {}, path)
        step = next((s for s in (w or {}).get("steps", []) if s["step"] == "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"), None)
        print(f"         {path} VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: {step}", flush=True)
        expect(w and w["succeeded"], f"{path} walk: {w and w['failed_step']}", errors)
        hot = (w or {}).get("facts", {}).get("hot_reset") or {}
        expect([x["bdf"] for x in hot.get("devices", [])] == [d and d["bdf"]], f"{path}: hot reset domain {hot}", errors)
        if path == "type1":
            expect(not hot.get("dev_ids") and [x["id"] for x in hot.get("devices", [])] == [d and d["iommu_group"]],
                   f"type1: group ids {hot}", errors)
        else:
            expect(hot.get("dev_ids") and hot.get("flags") == 3, f"iommufd: DEV_ID|DEV_ID_OWNED {hot}", errors)
        # The NVMe on the root bus (bound too): vfio_pci_ioctl_get_pci_hot_reset_info finds no
        # slot and no resettable bus (pci_probe_reset_bus: no bridge above it) and answers ENODEV;
        # the walk still succeeds.
        nw = walk(n or {}, path)
        nstep = next((s for s in (nw or {}).get("steps", []) if s["step"] == "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"), None)
        print(f"         nvme {path} VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: {nstep}", flush=True)
        expect(nw and nw["succeeded"], f"nvme {path} walk: {nw and nw['failed_step']}", errors)
        expect(((nw or {}).get("facts", {}).get("hot_reset") or {}).get("errno") == "ENODEV",
               f"nvme {path}: hot reset {(nw or {}).get('facts', {}).get('hot_reset')}", errors)


def s_kernel_log(doc, errors, extras=()):
    """VT-d without interrupt remapping on the 6.12 kernel: the main run's live walk makes type1
    log "No interrupt remapping support" (vfio_iommu_type1_attach_group); the next run (--no-live)
    finds that line in /dev/kmsg and reports it under kernel.log, and the snapshot keeps it (its
    dev/kmsg holds only the matched lines), so --root SNAPSHOT shows the same kernel_log."""
    ex = extras[0][1] if extras and extras[0][1] else {}
    lines = (ex.get("host") or {}).get("kernel_log") or []
    expect(any(e["kind"] == "type1-no-ir" and "No interrupt remapping support" in e["message"] for e in lines),
           f"the type1 line in the second run's kernel_log: {[e['kind'] for e in lines]}", errors)
    k = [f for f in ex.get("checks", []) if f["id"] == "kernel.log" and f["status"] == "warn"]
    expect(any("no interrupt remapping" in f["summary"] for f in k), f"kernel.log warns: {[f['summary'] for f in k]}", errors)
    expect(doc["verdict"]["mode"] == ex.get("verdict", {}).get("mode"), "the log changes no verdict", errors)
    groups = [e for e in (device(doc) or {}).get("kernel_log") or [] if e["kind"] == "iommu-group"]
    expect(groups, f"the device's own 'Adding to iommu group' line: {(device(doc) or {}).get('kernel_log')}", errors)
SCALABLE = "-machine q35,accel=tcg -device intel-iommu,intremap=on,x-scalable-mode=on,x-pasid-mode=on -device e1000e,romfile="


def s_scalable_mode(doc, errors, extras=()):
    # QEMU's VT-d in scalable mode (ecap.SMTS) with intel_iommu=sm_on: sm_supported holds, and
    # ordinary assignment is unchanged (the e1000e has no PASID capability).
    units = doc["host"]["iommu"]["units"]
    u = units[0] if units else {}
    expect(u.get("scalable_mode") == {"capable": True, "enabled": True}, f"unit {u}", errors)
    f = finding(doc, "iommu.scalable-mode")
    # x-pasid-mode=on sets ecap.PASID; the width is ecap_pss + 1 of the ecap the unit shows.
    ecap = int(f[0]["evidence"][0]["value"], 16) if f and f[0]["evidence"] else 0
    expect(ecap >> 43 & 1 and ecap >> 40 & 1, f"ecap {ecap:#x}: SMTS and PASID", errors)
    expect(u.get("pasid") is True and u.get("pasid_bits") == ((ecap >> 35) & 0x1F) + 1, f"unit {u} against ecap {ecap:#x}", errors)
    expect(f and f[0]["status"] == "info" and "scalable mode" in f[0]["summary"], f"iommu.scalable-mode {f}", errors)
    d = device(doc)
    expect(d and d["readiness"] == "ready", f"readiness {d and d['readiness']}: {d and d['reasons']}", errors)
    expect(d and d["pasid"] is None, f"pasid {d and d['pasid']}", errors)
    fd = walk(d, "iommufd") if d else None
    expect(fd and fd["succeeded"], f"iommufd walk: {fd and fd['failed_step']}", errors)
    expect(fd and fd["facts"].get("hw_info", {}).get("max_pasid_log2") == 0, f"hw_info {fd and fd['facts'].get('hw_info')}", errors)
    t1 = walk(d, "type1") if d else None
    expect(t1 and t1["succeeded"], f"type1 walk: {t1 and t1['failed_step']}", errors)


SCENARIOS = [
    # name, kernel, qemu args, kernel command line, assertion
    ("intel-vfio", "custom", INTEL, f"intel_iommu=on {BIND} {GATE} vp.cdi=legacy;cdev", s_intel_vfio),
    ("intel-bindable", "custom", INTEL, f"intel_iommu=on vp.device={E1000E} {GATE}", s_intel_bindable),
    ("amd-vfio", "custom", AMD, BIND, s_amd),
    ("noiommu-on", "custom", PLAIN, f"vfio.enable_unsafe_noiommu_mode=1 {BIND}", s_noiommu_on),
    ("noiommu-off", "custom", PLAIN, f"vp.device={E1000E}", s_noiommu_off),
    ("debian-kernel", "debian", PLAIN, f"vp.device={E1000E}", s_debian),
    ("intel-iommu-off", "custom", INTEL, f"intel_iommu=off vp.device={E1000E}", s_intel_off),
    ("unprivileged", "custom", INTEL, f"intel_iommu=on {BIND} vp.user=1000", s_unprivileged),
    ("mdev", "custom", INTEL, "intel_iommu=on vp.mdev=mtty-2", s_mdev),
    ("debian-no-ir", "debian", INTEL_NO_IR, f"intel_iommu=on {BIND} vp.extra=--require,vfio,--quiet;--require,unsafe-interrupts,--quiet",
     s_debian_no_ir),
    ("bridge-group", "custom", BRIDGE,
     "intel_iommu=on vp.unbind=8086:100e vp.bind=8086:100e vp.alldevices=8086:100e "
     "vp.extra=--no-device-open;--require,vfio,--quiet;--no-device-open,--require,vfio,--quiet", s_bridge_group),
    ("compat-intel", "compat", INTEL, f"intel_iommu=on {BIND} vp.extra=--require,vfio,--quiet", s_compat_intel),
    ("compat-virtio", "compat", VIRTIO_IOMMU, f"{BIND} vp.extra=--require,vfio,--quiet", s_compat_virtio),
    ("sriov", "compat", SRIOV, "intel_iommu=on vp.sriov=1b36:0010:2", s_sriov),
    ("host-in-use", "custom", HOST_IN_USE, f"intel_iommu=on vp.hostuse=1 vp.bind={E1000E} vp.extra=--device,0000:00:03.0", s_host_in_use),
    ("reset", "custom", RESET, f"intel_iommu=on vp.bind={E1000E},{NVME} vp.device={E1000E} vp.alldevices={NVME}", s_reset),
    ("isolation", "custom", ISOLATION, "intel_iommu=on", s_isolation),
    ("boot-ids", "custom", INTEL, f"intel_iommu=on vfio-pci.ids={E1000E} vp.device={E1000E}", s_boot_ids),
    ("budget", "custom", INTEL, f"intel_iommu=on vfio_iommu_type1.dma_entry_limit=16 {BIND} vp.args=--memory,1M,--hugepage-size,4K",
     s_budget),
    ("narrow-viommu", "custom", INTEL.replace("intremap=on", "intremap=on,aw-bits=39"),
     f"intel_iommu=on {BIND} vp.args=--memory,1T", s_narrow_viommu),
    ("kernel-log", "custom", INTEL_NO_IR, f"intel_iommu=on {BIND} vp.extra=--no-live", s_kernel_log),
    ("scalable-mode", "custom", SCALABLE, f"intel_iommu=on,sm_on {BIND}", s_scalable_mode),
]


# ---- building -------------------------------------------------------------------------------

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build_probe():
    run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "vfio-probe"], cwd=REPO,
        stdout=subprocess.DEVNULL)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True)
    return os.path.join(out.stdout.strip(), "vfio-probe")


def debian_kernel():
    """Debian's current bookworm kernel and its VFIO modules, downloaded once into .build-vm."""
    d = os.path.join(WORK, "debian")
    marker = os.path.join(d, "ok")
    if not os.path.exists(marker):
        os.makedirs(d, exist_ok=True)
        deps = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True, text=True).stdout
        pkg = next((m.group(1) for m in re.finditer(r"Depends: (linux-image-[0-9][^\s]*)", deps)), None)
        if not pkg:
            return None
        for f in glob.glob(os.path.join(d, "*.deb")):
            os.remove(f)
        subprocess.run(["apt-get", "download", pkg], cwd=d, check=True, stdout=subprocess.DEVNULL)
        deb = glob.glob(os.path.join(d, "*.deb"))[0]
        run(["dpkg-deb", "-x", deb, os.path.join(d, "root")])
        # The package leaves modules.dep to depmod at install time.
        version = os.path.basename(sorted(glob.glob(os.path.join(d, "root", "lib", "modules", "*")))[-1])
        run(["depmod", "-b", os.path.join(d, "root"), version])
        open(marker, "w").write(pkg)
    root = os.path.join(d, "root")
    vmlinuz = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*")))[-1]
    moddir = sorted(glob.glob(os.path.join(root, "lib", "modules", "*")))[-1]
    return vmlinuz, moddir


def module_order(moddir, wanted):
    deps = {}
    for line in open(os.path.join(moddir, "modules.dep")):
        path, _, rest = line.partition(":")
        deps[os.path.basename(path).split(".ko")[0].replace("-", "_")] = (path, rest.split())
    order, seen = [], set()

    def visit(name):
        if name in seen or name not in deps:
            return
        seen.add(name)
        for dep in deps[name][1]:
            visit(os.path.basename(dep).split(".ko")[0].replace("-", "_"))
        order.append(deps[name][0])
    for w in wanted:
        visit(w)
    return order


def initramfs(probe, kernel_kind):
    root = os.path.join(WORK, f"initramfs-{kernel_kind}")
    if os.path.exists(root):
        shutil.rmtree(root)
    for sub in ("bin", "lib64", "lib/x86_64-linux-gnu", "usr/share/misc", "proc", "sys", "dev", "tmp", "modules"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    shutil.copy(probe, os.path.join(root, "bin", "vfio-probe"))
    shutil.copy(os.path.join(REPO, "Tests", "VM", "init.sh"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    if os.path.exists("/usr/share/misc/pci.ids"):
        shutil.copy("/usr/share/misc/pci.ids", os.path.join(root, "usr/share/misc/pci.ids"))
    libs = subprocess.run(["ldd", probe], capture_output=True, text=True, check=True).stdout
    for m in re.finditer(r"(/\S+\.so[^\s]*)", libs):
        lib = m.group(1)
        dest = os.path.join(root, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(os.path.realpath(lib), dest)
    if kernel_kind == "debian":
        _, moddir = debian_kernel()
        order = module_order(moddir, ["vfio_pci", "vfio_iommu_type1"])
        names = []
        for rel in order:
            src = os.path.join(moddir, rel)
            name = os.path.basename(rel)
            if name.endswith(".xz"):
                data = subprocess.run(["xz", "-dc", src], capture_output=True, check=True).stdout
                name = name[:-3]
                open(os.path.join(root, "modules", name), "wb").write(data)
            else:
                shutil.copy(src, os.path.join(root, "modules", name))
            names.append(name)
        open(os.path.join(root, "modules", "order"), "w").write("\n".join(names) + "\n")
    image = os.path.join(WORK, f"initrd-{kernel_kind}.gz")
    files = subprocess.run("find . | sort", shell=True, cwd=root, capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files, capture_output=True, check=True).stdout
    open(image, "wb").write(gzip.compress(cpio, 6))
    return image


# ---- running --------------------------------------------------------------------------------

def boot(name, kernel, initrd, qemu_args, cmdline):
    log = os.path.join(WORK, f"{name}.log")
    cmd = (["qemu-system-x86_64"] + qemu_args.split() +
           ["-m", "512", "-smp", "1", "-no-reboot", "-net", "none", "-display", "none", "-monitor", "none",
            "-serial", f"file:{log}", "-kernel", kernel, "-initrd", initrd,
            "-append", f"console=ttyS0 quiet loglevel=1 panic=-1 no_timer_check vp.name={name} {cmdline}"])
    t0 = time.time()
    try:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=240, check=False)
    except subprocess.TimeoutExpired:
        pass
    return open(log, errors="replace").read(), time.time() - t0


def section(console, name):
    m = re.search(rf"==={name}-BEGIN===\s*(.*?)==={name}-END===", console, re.S)
    if not m:
        return None
    b64 = "".join(l.strip() for l in m.group(1).splitlines() if re.fullmatch(r"[A-Za-z0-9+/=]+", l.strip()))
    try:
        return base64.b64decode(b64)
    except ValueError:
        return None


def digest(doc):
    """What a snapshot must reproduce (the same as VMExpectation.digest in the Swift tests)."""
    v = doc["verdict"]
    out = [f"mode {v['mode']}"] + [f"action {a}" for a in v["actions"]]
    for d in doc["devices"]:
        out.append(f"device {d['bdf']} {d['mode']} {d['readiness']} {swift_list(d['actions'])}")
    for c in doc["checks"]:
        if not c["id"].startswith("live."):
            out.append(f"check {c['id']} {c.get('device', 'host')} {c['status']}")
    return out


def swift_list(xs):
    return "[" + ", ".join('"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"' for x in xs) + "]"


def check_snapshot(name, console, probe, update):
    """Unpacks the VM's snapshot, reads it on the host, compares with the VM's static report."""
    static, tarball = section(console, "VP-STATIC"), section(console, "VP-SNAP")
    if not static or not tarball:
        return ["no snapshot or static report on the console"]
    try:
        static_doc = json.loads(static)
    except ValueError:
        return ["the static report is not JSON"]
    dest = os.path.join(WORK, "snapshots", name)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(os.path.join(dest, "tree"))
    subprocess.run(["tar", "xzf", "-", "-C", os.path.join(dest, "tree")], input=tarball, check=True)
    scope = static_doc["scope"]
    devices = [] if scope == "all" else scope
    args = [probe, "--root", os.path.join(dest, "tree"), "--no-live", "--format", "json"] + sum((["--device", d] for d in devices), [])
    host_doc = json.loads(subprocess.run(args, capture_output=True, text=True).stdout)
    want, got = digest(static_doc), digest(host_doc)
    errors = []
    if want != got:
        errors.append("--root SNAPSHOT --no-live differs from the VM's static report: " +
                      "; ".join([f"-{x}" for x in want if x not in got] + [f"+{x}" for x in got if x not in want]))
    # The kernel log's matched lines: the snapshot's dev/kmsg keeps exactly those.
    klog = lambda d: ((d.get("host") or {}).get("kernel_log"), [x.get("kernel_log") for x in d.get("devices", [])])
    if klog(static_doc) != klog(host_doc):
        errors.append(f"--root SNAPSHOT shows other kernel_log lines: {klog(static_doc)} vs {klog(host_doc)}")
    if update and not errors:
        fixture = os.path.join(REPO, "Tests", "Fixtures", "snapshots", name)
        if os.path.exists(fixture):
            shutil.rmtree(fixture)
        shutil.copytree(os.path.join(dest, "tree"), os.path.join(fixture, "tree"), symlinks=True)
        with open(os.path.join(fixture, "expected.json"), "w") as f:
            json.dump({"scenario": name, "devices_arg": devices, "digest": want}, f, indent=1)
            f.write("\n")
    return errors


def parse(console):
    raw = section(console, "VP-JSON")
    if raw is None:
        return None, None, None
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    ex = re.search(r"VP-EXIT (\d+)", console)
    nochange = re.search(r"VP-NOCHANGE (\w+)", console)
    return doc, int(ex.group(1)) if ex else None, nochange.group(1) if nochange else None


def extras(console):
    """The further runs' exit statuses and JSON reports (None for a --quiet run), in order."""
    out = []
    for m in re.finditer(r"VP-EXTRA-(\d+)-EXIT (\d+)", console):
        raw = section(console, f"VP-EXTRA-{m.group(1)}")
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        out.append((int(m.group(2)), doc))
    return out


def main():
    update = "--update-snapshots" in sys.argv
    wanted = set(a for a in sys.argv[1:] if not a.startswith("--"))
    scenarios = [s for s in SCENARIOS if not wanted or s[0] in wanted]
    os.makedirs(WORK, exist_ok=True)
    for disk, size in DISKS.items():
        with open(os.path.join(WORK, disk), "wb") as f:
            f.truncate(size)
    probe = build_probe()
    kernels = {}
    if os.path.exists(COMPAT_KERNEL) and any(s[1] == "compat" for s in scenarios):
        kernels["compat"] = (COMPAT_KERNEL, initramfs(probe, "compat"))
    elif any(s[1] == "compat" for s in scenarios):
        print(f"SKIPPED: no compat kernel at {COMPAT_KERNEL} (../shared/vm/bzImage-compat): the compat scenarios do not run", flush=True)
    if os.path.exists(SHARED_KERNEL):
        kernels["custom"] = (SHARED_KERNEL, initramfs(probe, "custom"))
    else:
        print(f"SKIPPED: no test kernel at {SHARED_KERNEL} (../shared/vm/bzImage): the custom-kernel scenarios do not run", flush=True)
    if any(s[1] == "debian" for s in scenarios):
        try:
            dk = debian_kernel()
            if dk:
                kernels["debian"] = (dk[0], initramfs(probe, "debian"))
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"SKIPPED: Debian's kernel could not be fetched ({e})", flush=True)
    passed = failed = skipped = 0

    def one(s):
        name, kind, qemu_args, cmdline, check = s
        if kind not in kernels:
            return name, None, [f"no {kind} kernel"], 0
        console, secs = boot(name, kernels[kind][0], kernels[kind][1], qemu_args, cmdline)
        doc, status, nochange = parse(console)
        errors = []
        if doc is None:
            stderr = " | ".join(re.findall(r"VP-STDERR (.*)", console)[:3])
            return name, False, [f"no report on the console ({stderr}); see .build-vm/{name}.log"], secs
        check(doc, errors, extras(console))
        cdi = re.search(r"vp\.cdi=(\S+)", cmdline)
        if cdi:
            check_cdi(console, cdi.group(1).split(";"), errors)
        expect(status == doc["verdict"]["exit_code"], f"exit status {status} vs verdict {doc['verdict']['exit_code']}", errors)
        expect(nochange == "ok", "the probe changed the host: " + " | ".join(re.findall(r"VP-DIFF (.*)", console)), errors)
        errors += check_snapshot(name, console, probe, update)
        return name, not errors, errors, secs

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for name, ok, errors, secs in pool.map(one, scenarios):
            if ok is None:
                skipped += 1
                print(f"SKIPPED  {name}: {errors[0]}", flush=True)
            elif ok:
                passed += 1
                print(f"PASS     {name} ({secs:.0f}s)", flush=True)
            else:
                failed += 1
                print(f"FAIL     {name} ({secs:.0f}s)", flush=True)
                for e in errors:
                    print(f"         - {e}", flush=True)
    print(f"vm-matrix: {passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
