#!/usr/bin/env python3
"""Writes a large synthetic host for the benchmark: PFS physical functions behind their own root
ports, each with VFS SR-IOV virtual functions, every function in its own IOMMU group, with drivers,
config spaces (4 KiB, with capabilities) and an Intel IOMMU; VFIO loaded.

    Tests/Bench/make-tree.py OUTDIR PFS VFS     # PFS * (VFS + 1) functions, plus root ports
"""
import importlib.util
import os
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fixtures", os.path.join(here, "..", "Fixtures", "make-fixtures.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)


def build(out, pfs, vfs):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    t = fx.Tree(out)
    h = fx.Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on", config=fx.CONFIG_CUSTOM, tables=[("DMAR", fx.dmar())])
    group = 0
    members = []
    for p in range(pfs):
        domain = p // 200
        bus = 1 + (p % 200)
        port = f"{domain:04x}:00:{(p % 32):02x}.{(p // 32) % 8}"
        h.pci(port, 0x8086, 0x347A, 0x060400, driver="pcieport", group=group, header=1, express=4, secondary=bus, acs=True)
        h.group(group, [port])
        group += 1
        pf = f"{domain:04x}:{bus:02x}:00.0"
        vf_addrs = [f"{domain:04x}:{bus:02x}:{(1 + i // 8):02x}.{i % 8}" for i in range(vfs)]
        h.pci_parent.update({vf: port for vf in vf_addrs})
        # An E810 and its VFs, as the hardware is: FLR on every function (SR-IOV requires it of VFs).
        h.pci(pf, 0x8086, 0x159B, 0x020000, driver="ice", group=group, parent=port, sriov=(vfs, 256, vf_addrs) if vfs else None,
              flr=True, reset_method="flr")
        h.group(group, [pf])
        members.append(pf)
        group += 1
        for i, vf in enumerate(vf_addrs):
            drv = "vfio-pci" if i % 2 == 0 else "iavf"
            h.pci(vf, 0x8086, 0x1889, 0x020000, driver=drv, group=group, parent=port, physfn=pf, vfio_dev=f"vfio{group}" if drv == "vfio-pci" else None,
                  flr=True, reset_method="flr")
            h.group(group, [vf])
            members.append(vf)
            if drv == "vfio-pci":
                t.node(f"/dev/vfio/{group}", 243, group, 0o600)
            group += 1
    h.intel_unit("dmar0", fx.vt_d_cap(48), fx.VT_D_ECAP_IR)
    fx.vfio_loaded(h)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.finish()
    return members


if __name__ == "__main__":
    out, pfs, vfs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    m = build(out, pfs, vfs)
    print(f"{out}: {len(m)} functions (+{pfs} root ports); first VF {m[1] if len(m) > 1 else m[0]}")
