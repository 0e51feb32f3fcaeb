#!/usr/bin/env python3
"""Writes the fixture host trees under Tests/Fixtures/hosts/.

Each tree is laid out like / as vfio-probe reads it (sys, proc, boot, lib, and the
vfio-probe-snapshot/ manifest for /dev nodes and unreadable paths); see README.md beside this file.
Run it after changing a scenario; CI regenerates the trees into a temporary folder and fails if
they differ from the committed ones.

    python3 Tests/Fixtures/make-fixtures.py [OUTDIR]
"""
import os
import shutil
import struct
import sys

FULL_CAPS = 0x000001FFFFFFFFFF
DOCKER_CAPS = 0x00000000A80425FB


class Tree:
    def __init__(self, root):
        self.root = root
        self.nodes = []
        self.unreadable = []

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def file(self, p, content):
        full = self.path(p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        mode = "wb" if isinstance(content, (bytes, bytearray)) else "w"
        with open(full, mode) as f:
            f.write(content)

    def link(self, p, target):
        """A relative symbolic link at p pointing at the absolute (in-tree) path target."""
        full = self.path(p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        rel = os.path.relpath(target, os.path.dirname(p))
        if os.path.lexists(full):
            os.remove(full)
        os.symlink(rel, full)

    def node(self, p, major, minor, mode, uid=0, gid=0, access="rw"):
        self.nodes.append(f"{p} c {major}:{minor} {mode:o} {uid} {gid} {access}")

    def finish(self):
        if self.nodes:
            self.file("/vfio-probe-snapshot/dev-nodes",
                      "# PATH c MAJOR:MINOR MODE UID GID ACCESS(rw|r|w|-)\n" + "\n".join(sorted(self.nodes)) + "\n")
        if self.unreadable:
            self.file("/vfio-probe-snapshot/unreadable", "\n".join(self.unreadable) + "\n")


# ---- ACPI ------------------------------------------------------------------------------------

def acpi_table(sig, body, revision=1):
    length = 36 + len(body)
    hdr = struct.pack("<4sIBB6s8sI4sI", sig.encode(), length, revision, 0, b"VPROBE", b"FIXTURE ", 1, b"VPRB", 1)
    data = bytearray(hdr + body)
    data[9] = (-sum(data)) & 0xFF
    return bytes(data)


def scope(type_, bus, path):
    """A DMAR device scope: type, start bus, and (device, function) hops."""
    hops = b"".join(struct.pack("<BB", d, f) for d, f in path)
    return struct.pack("<BBBBBB", type_, 6 + len(hops), 0, 0, 0, bus) + hops


def dmar(haw=46, flags=0x1, rmrrs=()):
    """One INCLUDE_PCI_ALL unit for segment 0, and RMRRs given as (base, limit, [scope bytes])."""
    body = struct.pack("<BB10x", haw - 1, flags)
    body += struct.pack("<HHBBHQ", 0, 16, 0x01, 0, 0, 0xFED90000)
    for base, limit, scopes in rmrrs:
        sc = b"".join(scopes)
        body += struct.pack("<HHHHQQ", 1, 24 + len(sc), 0, 0, base, limit) + sc
    return acpi_table("DMAR", body)


def ivrs(ivmds=()):
    """One IVHD covering requester ids 0000-ffff, and IVMDs (type, device id, aux, start, length)."""
    entries = struct.pack("<BHB", 3, 0x0000, 0) + struct.pack("<BHB", 4, 0xFFFF, 0)
    ivhd = struct.pack("<BBHHHQHHI", 0x10, 0xB0, 24 + len(entries), 0x0002, 0x40, 0xFEB80000, 0, 0, 0) + entries
    body = struct.pack("<I8x", 0x00203041) + ivhd
    for type_, dev, aux, start, length in ivmds:
        body += struct.pack("<BBHHH8xQQ", type_, 0x08, 32, dev, aux, start, length)
    return acpi_table("IVRS", body, revision=2)


def viot():
    return acpi_table("VIOT", struct.pack("<HH4x", 0, 48) + bytes(32))


def generic_table(sig):
    return acpi_table(sig, bytes(8))


# ---- PCI config space ------------------------------------------------------------------------

def config_space(vendor, device, cls, header=0, express=None, msix=True, sriov=None, acs=False,
                 secondary=None, length=4096, flr=False, pm=None, af=None, multifunction=False, ats=None,
                 pasid=None, pri=None, ee_prefix=False):
    """pm: None (no PM capability), "soft-reset" (NoSoftRst-) or "no-soft-reset" (NoSoftRst+);
    af: None or the Advanced Features capability byte (TP 0x01, FLR 0x02); flr: DevCap bit 28.
    acs: False (none), True (a capability with empty capability and control words: every
    control hard-wired on), or (cap, ctrl) words. ats: None (none), or whether its Enable bit
    (control bit 15) is set. multifunction: bit 7 of the header type. pasid: None, or (width,
    exec, priv, enabled) for a PASID capability (PCI_PASID_CAP, PCI_PASID_CTRL); pri: None, or
    whether a PRI capability's Enable bit is set; ee_prefix: Device Capabilities 2 End-End TLP
    Prefix Supported (PCI_EXP_DEVCAP2_EE_PREFIX)."""
    b = bytearray(4096)
    struct.pack_into("<HHHH", b, 0, vendor, device, 0x0406, 0x0010)
    b[8] = 1
    b[9] = cls & 0xFF
    b[10] = (cls >> 8) & 0xFF
    b[11] = (cls >> 16) & 0xFF
    b[0x0E] = header | (0x80 if multifunction else 0)
    if header == 1:
        b[0x18], b[0x19], b[0x1A] = 0, secondary or 1, secondary or 1
    caps = []
    if express is not None:
        caps.append((0x10, 0x3C))
    if msix:
        caps.append((0x11, 0x0C))
    if pm is not None:
        caps.append((0x01, 0x08))
    if af is not None:
        caps.append((0x13, 0x06))
    off = 0x40
    b[0x34] = off
    for i, (cid, size) in enumerate(caps):
        nxt = off + ((size + 15) // 16) * 16 if i + 1 < len(caps) else 0
        b[off], b[off + 1] = cid, nxt
        if cid == 0x10:
            struct.pack_into("<H", b, off + 2, 0x2 | ((express & 0xF) << 4))
            if flr:
                struct.pack_into("<I", b, off + 4, 1 << 28)  # PCI_EXP_DEVCAP_FLR
            if ee_prefix:
                struct.pack_into("<I", b, off + 0x24, 0x00200000)  # PCI_EXP_DEVCAP2_EE_PREFIX
        if cid == 0x01:
            struct.pack_into("<H", b, off + 2, 0x0003)  # PMC: version 3
            struct.pack_into("<H", b, off + 4, 0x0008 if pm == "no-soft-reset" else 0x0000)  # PMCSR, D0
        if cid == 0x13:
            b[off + 2], b[off + 3] = 0x06, af  # length, AF capabilities
        off = nxt
    ext = []
    if sriov is not None:
        ext.append((0x10, 0x40))
    if acs:
        ext.append((0x0D, 0x08))
    if ats is not None:
        ext.append((0x0F, 0x08))
    if pri is not None:
        ext.append((0x13, 0x10))
    if pasid is not None:
        ext.append((0x1B, 0x08))
    off = 0x100
    for i, (cid, size) in enumerate(ext):
        nxt = off + size if i + 1 < len(ext) else 0
        struct.pack_into("<I", b, off, cid | (1 << 16) | (nxt << 20))
        if cid == 0x10:
            total = sriov
            struct.pack_into("<HH", b, off + 0x0E, total, total)  # InitialVFs, TotalVFs
        if cid == 0x0D and acs is not True:
            struct.pack_into("<HH", b, off + 4, acs[0], acs[1])  # PCI_ACS_CAP, PCI_ACS_CTRL
        if cid == 0x0F:
            struct.pack_into("<HH", b, off + 4, 0x0020, 0x8000 if ats else 0)  # PCI_ATS_CAP, PCI_ATS_CTRL
        if cid == 0x13:
            # PCI_PRI_CTRL (Enable), PCI_PRI_STATUS (PRG Response PASID Required), max requests.
            struct.pack_into("<HHI", b, off + 4, 0x0001 if pri else 0, 0x8100 if not pri else 0x8000, 512)
        if cid == 0x1B:
            width, exe, priv, enabled = pasid
            cap = (width << 8) | (0x2 if exe else 0) | (0x4 if priv else 0)  # PCI_PASID_CAP_WIDTH, _EXEC, _PRIV
            ctrl = (0x1 | (0x2 if exe else 0) | (0x4 if priv else 0)) if enabled else 0  # PCI_PASID_CTRL_*
            struct.pack_into("<HH", b, off + 4, cap, ctrl)
        off = nxt
    return bytes(b[:length])


# ---- host building blocks --------------------------------------------------------------------

class Host:
    def __init__(self, tree, release, cpu="intel", cmdline="", dmi=("Dell Inc.", "PowerEdge R750"),
                 hypervisor_flag=False, taint=0, uid=0, caps=FULL_CAPS, memlock="8388608",
                 config=None, config_readable=True, builtin=(), tables=(), interrupts_ir=True):
        self.t = tree
        self.release = release
        self.pci_parent = {}
        t = tree
        t.file("/proc/sys/kernel/osrelease", release + "\n")
        t.file("/proc/cmdline", f"BOOT_IMAGE=/boot/vmlinuz-{release} root=/dev/mapper/vg-root ro {cmdline}".strip() + "\n")
        t.file("/proc/sys/kernel/tainted", f"{taint}\n")
        t.file("/proc/self/status", f"Name:\tvfio-probe\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
                                    f"CapInh:\t0000000000000000\nCapPrm:\t{caps:016x}\nCapEff:\t{caps:016x}\n")
        soft = memlock
        t.file("/proc/self/limits", "Limit                     Soft Limit           Hard Limit           Units     \n"
                                    f"Max open files            1024                 524288               files     \n"
                                    f"Max locked memory         {soft:<20} {soft:<20} bytes     \n")
        if cpu == "arm":
            t.file("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\n"
                                    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n\n")
        else:
            vendor = {"intel": "GenuineIntel", "amd": "AuthenticAMD"}[cpu]
            flags = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge x2apic" + (" hypervisor" if hypervisor_flag else "")
            t.file("/proc/cpuinfo", f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: 6\nflags\t\t: {flags}\n\n")
        chip = "IR-PCI-MSIX-0000:01:00.0" if interrupts_ir is True else "PCI-MSIX-0000:01:00.0" if not interrupts_ir else interrupts_ir
        ioapic = "IR-IO-APIC" if interrupts_ir is True else "IO-APIC" if not interrupts_ir else "GICv3"
        t.file("/proc/interrupts", "           CPU0       CPU1       \n"
                                   f"  0:         36          0   {ioapic}    2-edge      timer\n"
                                   f" 24:          0          0   {chip}   0-edge      eth0-TxRx-0\n"
                                   "NMI:          0          0   Non-maskable interrupts\n")
        if dmi:
            t.file("/sys/class/dmi/id/sys_vendor", dmi[0] + "\n")
            t.file("/sys/class/dmi/id/product_name", dmi[1] + "\n")
        if config is not None:
            text = "".join(f"# {k} is not set\n" if v == "n" else f"{k}={v}\n" for k, v in config.items())
            t.file(f"/boot/config-{release}", text)
            if not config_readable:
                t.unreadable.append(f"/boot/config-{release}")
        if builtin:
            t.file(f"/lib/modules/{release}/modules.builtin", "".join(f"kernel/{m}\n" for m in builtin))
        for sig, data in tables:
            t.file(f"/sys/firmware/acpi/tables/{sig}", data)

    def module(self, name, params=None, loadable=True):
        d = f"/sys/module/{name}"
        if loadable:
            self.t.file(f"{d}/initstate", "live\n")
        else:
            self.t.file(f"{d}/uevent", "")
        for k, v in (params or {}).items():
            self.t.file(f"{d}/parameters/{k}", f"{v}\n")

    def device_dir(self, bdf):
        chain = [bdf]
        while chain[-1] in self.pci_parent:
            chain.append(self.pci_parent[chain[-1]])
        domain_bus = chain[-1][:7]
        return "/sys/devices/pci" + domain_bus + "/" + "/".join(reversed(chain))

    def pci(self, bdf, vendor, device, cls, driver=None, group=None, parent=None, header=0, express=0,
            sriov=None, physfn=None, override=None, numa=0, config_len=4096, secondary=None, vfio_dev=None,
            subsystem=(0, 0), acs=False, msix=None, flr=False, pm=None, af=None, reset_method=None, d3cold=None,
            multifunction=False, ats=None, pasid=None, pri=None, ee_prefix=False):
        if parent:
            self.pci_parent[bdf] = parent
        d = self.device_dir(bdf)
        t = self.t
        t.link(f"/sys/bus/pci/devices/{bdf}", d)
        t.file(f"{d}/vendor", f"0x{vendor:04x}\n")
        t.file(f"{d}/device", f"0x{device:04x}\n")
        t.file(f"{d}/class", f"0x{cls:06x}\n")
        t.file(f"{d}/subsystem_vendor", f"0x{subsystem[0]:04x}\n")
        t.file(f"{d}/subsystem_device", f"0x{subsystem[1]:04x}\n")
        t.file(f"{d}/numa_node", f"{numa}\n")
        t.file(f"{d}/driver_override", f"{override or '(null)'}\n")
        # The kernel's view of the function: a VF's own config space reads ffff for its IDs.
        ue = f"DRIVER={driver}\n" if driver else ""
        ue += (f"PCI_CLASS={cls:X}\nPCI_ID={vendor:04X}:{device:04X}\nPCI_SUBSYS_ID={subsystem[0]:04X}:{subsystem[1]:04X}\n"
               f"PCI_SLOT_NAME={bdf}\nMODALIAS=pci:v{vendor:08X}d{device:08X}sv{subsystem[0]:08X}sd{subsystem[1]:08X}"
               f"bc{cls >> 16:02X}sc{(cls >> 8) & 0xFF:02X}i{cls & 0xFF:02X}\n")
        t.file(f"{d}/uevent", ue)
        cfg_vendor, cfg_device = (0xFFFF, 0xFFFF) if physfn else (vendor, device)
        t.file(f"{d}/config", config_space(cfg_vendor, cfg_device, cls, header=header, express=express,
                                            msix=(header == 0) if msix is None else msix,
                                            sriov=sriov[1] if sriov else None, acs=acs, secondary=secondary, length=config_len,
                                            flr=flr, pm=pm, af=af, multifunction=multifunction, ats=ats,
                                            pasid=pasid, pri=pri, ee_prefix=ee_prefix))
        # reset_method (5.15+): hidden by the kernel when there is no method; "" when all disabled.
        if reset_method is not None:
            t.file(f"{d}/reset_method", reset_method + "\n" if reset_method else "")
        if d3cold is not None:
            t.file(f"{d}/d3cold_allowed", f"{d3cold}\n")
        if driver:
            t.file(f"/sys/bus/pci/drivers/{driver}/uevent", "")
            t.link(f"{d}/driver", f"/sys/bus/pci/drivers/{driver}")
        if group is not None:
            t.link(f"{d}/iommu_group", f"/sys/kernel/iommu_groups/{group}")
        if sriov:
            numvfs, total, vfs = sriov
            t.file(f"{d}/sriov_numvfs", f"{numvfs}\n")
            t.file(f"{d}/sriov_totalvfs", f"{total}\n")
            for i, vf in enumerate(vfs):
                t.link(f"{d}/virtfn{i}", self.device_dir(vf) if vf in self.pci_parent else f"/sys/devices/pci{vf[:7]}/{vf}")
        if physfn:
            t.link(f"{d}/physfn", self.device_dir(physfn))
        if vfio_dev:
            t.file(f"{d}/vfio-dev/{vfio_dev}/uevent", "")
        return d

    def virtio(self, bdf, name, device_id, access_platform, driver):
        d = self.device_dir(bdf) + "/" + name
        bits = ["0"] * 64
        for b in (0, 5, 16, 32):  # a few ordinary features, VIRTIO_F_VERSION_1 = 32
            bits[b] = "1"
        if access_platform:
            bits[33] = "1"
        self.t.file(f"{d}/features", "".join(bits) + "\n")
        self.t.file(f"{d}/device", f"0x{device_id:04x}\n")
        self.t.file(f"/sys/bus/virtio/drivers/{driver}/uevent", "")
        self.t.link(f"{d}/driver", f"/sys/bus/virtio/drivers/{driver}")
        self.t.link(f"/sys/bus/virtio/devices/{name}", d)

    def group(self, gid, members, type_="DMA-FQ", reserved=("0x00000000fee00000 0x00000000feefffff msi",), name=None):
        g = f"/sys/kernel/iommu_groups/{gid}"
        for m in members:
            self.t.link(f"{g}/devices/{m}", self.device_dir(m))
        if type_:
            self.t.file(f"{g}/type", type_ + "\n")
        self.t.file(f"{g}/reserved_regions", "".join(r + "\n" for r in reserved))
        if name:
            self.t.file(f"{g}/name", name + "\n")

    def intel_unit(self, name, cap, ecap, devices=()):
        d = f"/sys/devices/virtual/iommu/{name}"
        self.t.file(f"{d}/intel-iommu/cap", f"{cap:x}\n")
        self.t.file(f"{d}/intel-iommu/ecap", f"{ecap:x}\n")
        self.t.file(f"{d}/intel-iommu/version", "1:0\n")
        for m in devices:
            self.t.link(f"{d}/devices/{m}", self.device_dir(m))
        self.t.link(f"/sys/class/iommu/{name}", d)

    def amd_unit(self, name, features, devices=()):
        d = f"/sys/devices/pci0000:00/0000:00:00.2/iommu/{name}"
        self.t.file(f"{d}/amd-iommu/cap", "0x190b0f\n")
        self.t.file(f"{d}/amd-iommu/features", f"{features:x}:0\n")
        for m in devices:
            self.t.link(f"{d}/devices/{m}", self.device_dir(m))
        self.t.link(f"/sys/class/iommu/{name}", d)

    def virtio_unit(self, name, at, devices=()):
        d = self.device_dir(at) + f"/virtio2/iommu/{name}"
        self.t.file(f"{d}/uevent", "")
        for m in devices:
            self.t.link(f"{d}/devices/{m}", self.device_dir(m))
        self.t.link(f"/sys/class/iommu/{name}", d)


def vt_d_cap(mgaw=48, caching=False):
    # SAGAW 4-level, MGAW, ND=2; caching mode is bit 7.
    return (0xD2008C40660462 & ~(0x3F << 16) & ~(1 << 7)) | ((mgaw - 1) << 16) | ((1 << 7) if caching else 0)


VT_D_ECAP_IR = 0xF0205EF  # bit 3 (IR) set
VT_D_ECAP_NO_IR = VT_D_ECAP_IR & ~(1 << 3)
# Scalable mode (drivers/iommu/intel/iommu.h): SMPWC 48, FLTS 47, SLTS 46, SMTS 43, PDS 42,
# PASID 40, PSS 39:35 (19: 20-bit PASIDs), PRS 29, NEST 26.
VT_D_ECAP_SM = (VT_D_ECAP_IR | (1 << 48) | (1 << 47) | (1 << 46) | (1 << 43) | (1 << 42) | (1 << 40) | (19 << 35)
                | (1 << 29) | (1 << 26))

CONFIG_CUSTOM = {  # ../shared/vm/config, the symbols the probe reads
    "CONFIG_VFIO": "y", "CONFIG_VFIO_PCI": "y", "CONFIG_VFIO_PCI_CORE": "y", "CONFIG_VFIO_IOMMU_TYPE1": "y",
    "CONFIG_VFIO_NOIOMMU": "y", "CONFIG_IOMMUFD": "y", "CONFIG_VFIO_DEVICE_CDEV": "y", "CONFIG_INTEL_IOMMU": "y",
    "CONFIG_AMD_IOMMU": "y", "CONFIG_IRQ_REMAP": "y", "CONFIG_VFIO_MDEV": "y", "CONFIG_UIO": "y", "CONFIG_UIO_PCI_GENERIC": "y",
}
CONFIG_DISTRO = {  # Debian's kernels: VFIO as modules, no no-IOMMU, no iommufd
    "CONFIG_VFIO": "m", "CONFIG_VFIO_PCI": "m", "CONFIG_VFIO_PCI_CORE": "m", "CONFIG_VFIO_IOMMU_TYPE1": "m",
    "CONFIG_VFIO_NOIOMMU": "n", "CONFIG_IOMMUFD": "n", "CONFIG_INTEL_IOMMU": "y", "CONFIG_INTEL_IOMMU_DEFAULT_ON": "y",
    "CONFIG_AMD_IOMMU": "y", "CONFIG_IRQ_REMAP": "y", "CONFIG_VFIO_MDEV": "m", "CONFIG_UIO": "m", "CONFIG_UIO_PCI_GENERIC": "m",
}
CONFIG_DISTRO_NOT_DEFAULT_ON = dict(CONFIG_DISTRO, CONFIG_INTEL_IOMMU_DEFAULT_ON="n")


def vfio_loaded(h, builtin=False, noiommu="N", dma_entry_limit=65535, unsafe="N", iommufd=True, noiommu_param=True):
    h.module("vfio", {"enable_unsafe_noiommu_mode": noiommu} if noiommu_param else {}, loadable=not builtin)
    h.module("vfio_pci", {"ids": "", "disable_denylist": "N", "disable_idle_d3": "N", "nointxmask": "N"}, loadable=not builtin)
    h.module("vfio_pci_core", loadable=not builtin)
    h.module("vfio_iommu_type1", {"allow_unsafe_interrupts": unsafe, "dma_entry_limit": dma_entry_limit,
                                  "disable_hugepages": "N"}, loadable=not builtin)
    if iommufd:
        h.module("iommufd", {"allow_unsafe_interrupts": "N"}, loadable=not builtin)


def intel_server(t, target_driver="vfio-pci", second_driver="i40e", shared=False, reserved=None, dma_entry_limit=65535,
                 dmi=("Dell Inc.", "PowerEdge R750"), uid=0, caps=FULL_CAPS, memlock="8388608", nic=(0x8086, 0x1572),
                 override=None, cmdline="intel_iommu=on", dmar_table=None, ats=None, ats2=None):
    """An Intel server: a root port with a dual-port NIC behind it, VT-d with IR, VFIO loaded.
    A uid other than 0 sees what an unprivileged user sees: 64 bytes of config space, no table
    contents."""
    h = Host(t, "6.12.95-vfiotest", cmdline=cmdline, dmi=dmi, uid=uid, caps=caps, memlock=memlock,
             config=CONFIG_CUSTOM, tables=[("DMAR", dmar_table or dmar()), ("APIC", generic_table("APIC")), ("FACP", generic_table("FACP"))])
    cfg = 4096 if uid == 0 else 64
    if uid != 0:
        t.unreadable += ["/sys/firmware/acpi/tables/DMAR", "/sys/firmware/acpi/tables/APIC", "/sys/firmware/acpi/tables/FACP"]
    h.pci("0000:00:00.0", 0x8086, 0x09A2, 0x060000, group=0, express=9, msix=False, config_len=cfg)
    h.pci("0000:00:01.0", 0x8086, 0x347A, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=1, acs=True, config_len=cfg)
    g_a, g_b = (10, 10) if shared else (10, 11)
    vfio = "vfio0" if target_driver == "vfio-pci" else None
    # Both ports FLR-capable (PCIe DevCap), sharing bus 1: 6.12 lists "flr" (no bus: a sibling).
    h.pci("0000:01:00.0", nic[0], nic[1], 0x020000, driver=target_driver, group=g_a, parent="0000:00:01.0",
          vfio_dev=vfio, override=override or ("vfio-pci" if target_driver == "vfio-pci" else None), subsystem=(0x8086, 0x0000), config_len=cfg,
          flr=True, reset_method="flr", ats=ats)
    h.pci("0000:01:00.1", nic[0], nic[1], 0x020000, driver=second_driver, group=g_b, parent="0000:00:01.0", subsystem=(0x8086, 0x0000), config_len=cfg,
          flr=True, reset_method="flr", ats=ats2)
    # LPC and SATA: functions of one multifunction device without ACS, so one group.
    h.pci("0000:00:1f.0", 0x8086, 0xA1C1, 0x060100, driver="lpc_ich", group=12, msix=False, config_len=cfg, multifunction=True)
    h.pci("0000:00:1f.2", 0x8086, 0xA182, 0x010601, driver="ahci", group=12, config_len=cfg, multifunction=True)
    h.group(0, ["0000:00:00.0"])
    h.group(1, ["0000:00:01.0"])
    h.group(g_a, ["0000:01:00.0", "0000:01:00.1"] if shared else ["0000:01:00.0"],
            reserved=reserved or ("0x00000000fee00000 0x00000000feefffff msi",))
    if not shared:
        h.group(g_b, ["0000:01:00.1"])
    h.group(12, ["0000:00:1f.0", "0000:00:1f.2"])
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:01.0", "0000:01:00.0", "0000:01:00.1"])
    h.intel_unit("dmar1", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:00.0", "0000:00:1f.0", "0000:00:1f.2"])
    vfio_loaded(h, dma_entry_limit=dma_entry_limit)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/iommu", 10, 123, 0o666)
    if target_driver == "vfio-pci":
        t.node(f"/dev/vfio/{g_a}", 243, 0, 0o600, access="rw" if uid == 0 else "-")
        t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600, access="rw" if uid == 0 else "-")
    return h


# ---- scenarios -------------------------------------------------------------------------------

def debian_boot(t, grub):
    """A Debian host's os-release and GRUB defaults."""
    t.file("/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
    t.file("/etc/default/grub", "# If you change this file, run 'update-grub' afterwards\nGRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n"
                                "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
                                f'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX="{grub}"\n')


def intel_vfio_ready(t):
    intel_server(t)
    debian_boot(t, "intel_iommu=on")
    # A DPDK process holding group 10 open, for the live EBUSY diagnosis.
    t.file("/proc/4242/comm", "dpdk-testpmd\n")
    t.link("/proc/4242/fd/0", "/dev/null")
    os.symlink("/dev/vfio/10", t.path("/proc/4242/fd/17"))


def shared_group(t):
    intel_server(t, second_driver="ixgbe", shared=True, dma_entry_limit=4096, nic=(0x8086, 0x10FB))


def rmrr_direct(t):
    """HP ProLiant: an RMRR whose two-hop scope (bus 0, 01.0 then 00.0) names the NIC behind the
    root port, as HP firmware does for shared-NIC ports; x2APIC opt-out; and an NVMe on PCI
    segment 1, which no DRHD covers."""
    table = dmar(haw=46, flags=0x3, rmrrs=[(0xBDF6E000, 0xBDF6EFFF, [scope(1, 0, [(0x01, 0), (0x00, 0)])])])
    h = intel_server(t, target_driver="tg3", second_driver="tg3", nic=(0x14E4, 0x1657), dmi=("HP", "ProLiant DL360 Gen9"),
                     reserved=("0x00000000bdf6e000 0x00000000bdf6efff direct", "0x00000000fee00000 0x00000000feefffff msi"),
                     dmar_table=table)
    h.pci("0001:01:00.0", 0x144D, 0xA808, 0x010802, driver="nvme")


def qat_denylisted(t):
    """The Intel server with a QAT C62x (8086:37c8) on its qat driver: vfio-pci's denylist."""
    h = intel_server(t)
    h.pci("0000:3d:00.0", 0x8086, 0x37C8, 0x0B4000, driver="c6xx", group=40)
    h.group(40, ["0000:3d:00.0"])


def uio_bound(t):
    intel_server(t, target_driver="uio_pci_generic", second_driver="igb", nic=(0x8086, 0x1521), override="uio_pci_generic")
    t.file("/sys/module/uio_pci_generic/initstate", "live\n")
    t.node("/dev/uio0", 240, 0, 0o600)


def intel_nonroot(t):
    """intel-vfio-ready as the DPDK service user sees it: uid 1000, no capabilities."""
    intel_server(t, uid=1000, caps=0)


def container(t):
    """The Intel server seen from a container: /sys/firmware masked, no /dev/vfio passed in, Docker's caps."""
    intel_server(t, caps=DOCKER_CAPS, memlock="65536")
    shutil.rmtree(t.path("/sys/firmware"))
    t.nodes = []


def intel_iommu_off(t):
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=off", dmi=("Supermicro", "SYS-1029P-WTR"), config=CONFIG_CUSTOM,
             tables=[("DMAR", dmar()), ("APIC", generic_table("APIC"))], interrupts_ir=False)
    h.pci("0000:00:00.0", 0x8086, 0x2020, 0x060000, msix=False)
    h.pci("0000:00:02.0", 0x8086, 0x10D3, 0x020000, driver="e1000e")
    vfio_loaded(h, builtin=True)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/iommu", 10, 123, 0o666)


def amd_host(t, release="6.1.0-27-amd64", config=CONFIG_DISTRO):
    h = Host(t, release, cpu="amd", cmdline="iommu=pt", dmi=("ASRockRack", "ROMED8-2T"), config=config,
             tables=[("IVRS", ivrs(ivmds=[(0x21, 0x0403, 0, 0x9A000000, 0x1000)])), ("APIC", generic_table("APIC"))])
    h.pci("0000:00:00.0", 0x1022, 0x1480, 0x060000, group=0, msix=False)
    h.pci("0000:00:00.2", 0x1022, 0x1481, 0x080600, group=1, msix=False)
    h.pci("0000:00:03.1", 0x1022, 0x1483, 0x060400, driver="pcieport", group=2, header=1, express=4, secondary=3, acs=True,
          ee_prefix=True)
    # PASID capable (AMD-Vi enables it only for an SVA domain: pdev_enable_caps).
    h.pci("0000:03:00.0", 0x15B3, 0x1017, 0x020000, driver="mlx5_core", group=20, parent="0000:00:03.1", numa=1,
          ee_prefix=True, pasid=(20, True, True, False))
    h.group(0, ["0000:00:00.0"], type_="identity")
    h.group(1, ["0000:00:00.2"], type_="identity")
    h.group(2, ["0000:00:03.1"], type_="identity")
    h.group(20, ["0000:03:00.0"], type_="identity")
    # A USB controller the firmware gives a unity mapping (IVMD 21h): blocked for VFIO.
    h.pci("0000:04:00.3", 0x1022, 0x149C, 0x0C0330, driver="xhci_hcd", group=21)
    h.group(21, ["0000:04:00.3"], type_="identity", reserved=("0x000000009a000000 0x000000009a000fff direct", "0x00000000fee00000 0x00000000feefffff msi"))
    h.amd_unit("ivhd0", 0x58F77EF22294ADE, ["0000:00:00.0", "0000:00:03.1", "0000:03:00.0"])


def amd_host_612(t):
    """amd-host on a 6.12 kernel: since 6.6 the IVMD's direct region blocks the USB controller
    (require_direct), where Debian's 6.1 attached it."""
    amd_host(t, release="6.12.95-vfiotest", config=CONFIG_CUSTOM)


def intel_no_ir(t, unsafe="N"):
    """QEMU q35 with -device intel-iommu (no intremap): VT-d without IR, caching mode, 39-bit MGAW."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on iommufd.allow_unsafe_interrupts=1", dmi=("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
             hypervisor_flag=True, config=CONFIG_CUSTOM, tables=[("DMAR", dmar(haw=39, flags=0)), ("APIC", generic_table("APIC"))],
             interrupts_ir=False)
    h.pci("0000:00:00.0", 0x8086, 0x29C0, 0x060000, group=0, msix=False)
    h.pci("0000:00:02.0", 0x8086, 0x10D3, 0x020000, driver="vfio-pci", group=1, vfio_dev="vfio0")
    h.group(0, ["0000:00:00.0"], type_="DMA")
    h.group(1, ["0000:00:02.0"], type_="DMA")
    h.intel_unit("dmar0", vt_d_cap(39, caching=True), VT_D_ECAP_NO_IR, ["0000:00:00.0", "0000:00:02.0"])
    vfio_loaded(h, builtin=True, unsafe=unsafe)
    mtty(t, group=2, minor=1)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/1", 243, 0, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)
    t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600)


def intel_no_ir_allowed(t):
    """intel-no-ir where the operator set vfio_iommu_type1.allow_unsafe_interrupts=Y."""
    intel_no_ir(t, unsafe="Y")


def mtty(t, group, minor):
    """The mtty sample mdev parent with one mtty-2 instance, bound to mtty, in the group VFIO
    makes for it (named vfio-noiommu, node /dev/vfio/N), as the VM matrix's kernel shows it."""
    uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
    parent = "/sys/devices/virtual/mtty/mtty"
    for typ, name, avail, inst in [("mtty-1", "Single port serial", 23, []), ("mtty-2", "Dual port serial", 11, [uuid])]:
        td = f"{parent}/mdev_supported_types/{typ}"
        t.file(f"{td}/name", name + "\n")
        t.file(f"{td}/device_api", "vfio-pci\n")
        t.file(f"{td}/available_instances", f"{avail}\n")
        for u in inst:
            t.link(f"{td}/devices/{u}", f"{parent}/{u}")
    t.link("/sys/class/mdev_bus/mtty", parent)
    t.file("/sys/bus/mdev/drivers/mtty/uevent", "")
    t.link(f"{parent}/{uuid}/mdev_type", f"{parent}/mdev_supported_types/mtty-2")
    t.link(f"{parent}/{uuid}/iommu_group", f"/sys/kernel/iommu_groups/{group}")
    t.link(f"{parent}/{uuid}/driver", "/sys/bus/mdev/drivers/mtty")
    t.link(f"/sys/bus/mdev/devices/{uuid}", f"{parent}/{uuid}")
    t.link(f"/sys/kernel/iommu_groups/{group}/devices/{uuid}", f"{parent}/{uuid}")
    t.file(f"/sys/kernel/iommu_groups/{group}/name", "vfio-noiommu\n")
    t.file(f"/sys/kernel/iommu_groups/{group}/type", "unknown\n")
    t.file(f"/sys/kernel/iommu_groups/{group}/reserved_regions", "")
    t.node(f"/dev/vfio/{group}", 243, minor, 0o600)


def mdev_no_iommu(t):
    """No IOMMU (intel_iommu=off), an mdev instance in the group VFIO emulates for it: mdev is
    usable, PCI passthrough is not, and the group is no no-IOMMU stand-in."""
    intel_iommu_off(t)
    mtty(t, group=0, minor=0)


def kvm_guest(t, release, config, cmdline="", uid=0, caps=FULL_CAPS, taint=0, memlock="8388608", config_readable=True):
    return Host(t, release, cmdline=cmdline, dmi=("QEMU", "Standard PC (Q35 + ICH9, 2009)"), hypervisor_flag=True,
                taint=taint, uid=uid, caps=caps, memlock=memlock, config=config, config_readable=config_readable,
                tables=[("APIC", generic_table("APIC")), ("FACP", generic_table("FACP"))], interrupts_ir=False)


def noiommu_enabled(t, uid=0, caps=FULL_CAPS, memlock="8388608", config_readable=True):
    h = kvm_guest(t, "6.12.95-vfiotest", CONFIG_CUSTOM, cmdline="vfio.enable_unsafe_noiommu_mode=1", taint=64,
                  uid=uid, caps=caps, memlock=memlock, config_readable=config_readable)
    h.pci("0000:00:00.0", 0x8086, 0x29C0, 0x060000, msix=False, config_len=4096 if uid == 0 else 64)
    h.pci("0000:00:03.0", 0x8086, 0x10D3, 0x020000, driver="vfio-pci", group=0, vfio_dev="vfio0", config_len=4096 if uid == 0 else 64)
    h.group(0, ["0000:00:03.0"], type_=None, reserved=(), name="vfio-noiommu")
    vfio_loaded(h, builtin=True, noiommu="Y")
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/noiommu-0", 243, 0, 0o600, access="rw" if uid == 0 else "-")
    t.node("/dev/iommu", 10, 123, 0o666)
    return h


def nonroot(t):
    noiommu_enabled(t, uid=1000, caps=0, config_readable=False)
    t.unreadable += ["/sys/firmware/acpi/tables/APIC", "/sys/firmware/acpi/tables/FACP"]


def noiommu_not_compiled(t):
    h = kvm_guest(t, "6.1.0-27-amd64", CONFIG_DISTRO)
    h.pci("0000:00:00.0", 0x8086, 0x29C0, 0x060000, msix=False)
    h.pci("0000:00:03.0", 0x8086, 0x10D3, 0x020000, driver="e1000e")
    vfio_loaded(h, noiommu_param=False, iommufd=False)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)


def hyperv_guest(t):
    h = Host(t, "6.8.0-1015-azure", cmdline="console=ttyS0", dmi=("Microsoft Corporation", "Virtual Machine"), hypervisor_flag=True,
             config=CONFIG_DISTRO, tables=[("APIC", generic_table("APIC")), ("WAET", generic_table("WAET"))], interrupts_ir=False)
    h.pci("7870:00:02.0", 0x15B3, 0x1016, 0x020000, driver="mlx5_core", msix=True)
    for uuid, cls, drv in [("000d3a6f-1b2a-4c3d-8e9f-0a1b2c3d4e5f", "{f8615163-df3e-46c5-913f-f2d2f965ed0e}", "hv_netvsc"),
                           ("000d3a6f-1b2a-4c3d-8e9f-0a1b2c3d4e60", "{f8615163-df3e-46c5-913f-f2d2f965ed0e}", "uio_hv_generic"),
                           ("f8b3781b-1e82-4818-a1c3-63d806ec15bb", "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}", "hv_storvsc")]:
        d = f"/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/{uuid}"
        t.file(f"{d}/class_id", cls + "\n")
        t.file(f"/sys/bus/vmbus/drivers/{drv}/uevent", "")
        t.link(f"{d}/driver", f"/sys/bus/vmbus/drivers/{drv}")
        t.link(f"/sys/bus/vmbus/devices/{uuid}", d)


def microvm_guest(t):
    """A KVM guest with no DMI and Cloud Hypervisor's PCI host bridge (8086:0d57), as Cloud
    Hypervisor and Firecracker show it: virtio devices, no vIOMMU, a Debian kernel."""
    h = Host(t, "6.1.0-27-amd64", cmdline="console=ttyS0 reboot=k panic=1", dmi=None, hypervisor_flag=True,
             config=CONFIG_DISTRO, tables=[("APIC", generic_table("APIC"))], interrupts_ir=False)
    h.pci("0000:00:00.0", 0x8086, 0x0D57, 0x060000, msix=False)
    h.pci("0000:00:02.0", 0x1AF4, 0x1042, 0x010000, driver="virtio-pci")
    h.pci("0000:00:03.0", 0x1AF4, 0x1041, 0x020000, driver="virtio-pci")
    vfio_loaded(h, noiommu_param=False, iommufd=False)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)


def arm_server(t, msi_chip):
    """An Arm server (Neoverse N1) with an SMMUv3, a NIC on vfio-pci in group 8, and MSIs through
    `msi_chip`: a GICv3 ITS isolates them (IRQ_DOMAIN_FLAG_ISOLATED_MSI), a GICv2m does not."""
    h = Host(t, "6.12.95-vfiotest", cpu="arm", cmdline="", dmi=("Ampere", "Mt.Jade"), config=CONFIG_CUSTOM,
             tables=[("IORT", acpi_table("IORT", struct.pack("<III", 0, 48, 0))), ("APIC", generic_table("APIC"))], interrupts_ir=msi_chip)
    h.pci("0000:00:00.0", 0x1DEF, 0xE100, 0x060000, group=0, msix=False)
    h.pci("0000:00:01.0", 0x1DEF, 0xE101, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=1, acs=True)
    h.pci("0000:01:00.0", 0x15B3, 0x101D, 0x020000, driver="vfio-pci", group=8, parent="0000:00:01.0", vfio_dev="vfio0")
    h.group(0, ["0000:00:00.0"])
    h.group(1, ["0000:00:01.0"])
    h.group(8, ["0000:01:00.0"], reserved=("0x0000000008080000 0x00000000080fffff msi",))
    d = "/sys/devices/platform/arm-smmu-v3.0.auto/iommu/smmu3.0x0000000009050000"
    t.file(f"{d}/uevent", "")
    for m in ["0000:00:00.0", "0000:00:01.0", "0000:01:00.0"]:
        t.link(f"{d}/devices/{m}", h.device_dir(m))
    t.link("/sys/class/iommu/smmu3.0x0000000009050000", d)
    vfio_loaded(h, builtin=True)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/8", 243, 0, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)
    t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600)


def arm_its(t):
    arm_server(t, "ITS-PCI-MSIX-0000:01:00.0")


def arm_gicv2m(t):
    arm_server(t, "GICv2m-PCI-MSIX-0000:01:00.0")


def sriov_pf(t):
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on", config=CONFIG_CUSTOM, tables=[("DMAR", dmar())])
    h.pci("0000:00:01.0", 0x8086, 0x347A, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=1, acs=True)
    vfs = ["0000:01:02.0", "0000:01:02.1"]
    h.pci_parent.update({vf: "0000:00:01.0" for vf in vfs})
    h.pci("0000:01:00.0", 0x8086, 0x159B, 0x020000, driver="vfio-pci", group=30, parent="0000:00:01.0", sriov=(2, 64, vfs), vfio_dev="vfio0")
    h.pci("0000:01:02.0", 0x8086, 0x1889, 0x020000, driver="vfio-pci", group=31, parent="0000:00:01.0", physfn="0000:01:00.0", vfio_dev="vfio1")
    h.pci("0000:01:02.1", 0x8086, 0x1889, 0x020000, group=32, parent="0000:00:01.0", physfn="0000:01:00.0")
    h.group(1, ["0000:00:01.0"])
    h.group(30, ["0000:01:00.0"])
    h.group(31, ["0000:01:02.0"])
    h.group(32, ["0000:01:02.1"])
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:01.0", "0000:01:00.0"] + vfs)
    vfio_loaded(h)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    for g in (30, 31):
        t.node(f"/dev/vfio/{g}", 243, g - 30, 0o600)


def virtio_no_access_platform(t):
    """QEMU with virtio-iommu: virtio-net without iommu_platform, virtio-blk with it, and a
    pci-testdev outside every group."""
    h = Host(t, "6.12.95-vfiotest", cmdline="vfio_iommu_type1.allow_unsafe_interrupts=1", dmi=("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
             hypervisor_flag=True, config=CONFIG_CUSTOM, tables=[("VIOT", viot()), ("APIC", generic_table("APIC"))], interrupts_ir=False)
    h.pci("0000:00:00.0", 0x8086, 0x29C0, 0x060000, msix=False)
    h.pci("0000:00:02.0", 0x1AF4, 0x1057, 0x00FF00, driver="virtio-pci")
    h.virtio("0000:00:02.0", "virtio2", 23, True, "virtio_iommu")
    h.pci("0000:00:03.0", 0x1AF4, 0x1041, 0x020000, driver="virtio-pci", group=1)
    h.virtio("0000:00:03.0", "virtio0", 1, False, "virtio_net")
    h.pci("0000:00:04.0", 0x1AF4, 0x1042, 0x010000, driver="virtio-pci", group=2)
    h.virtio("0000:00:04.0", "virtio1", 2, True, "virtio_blk")
    # A virtio-net already on vfio-pci: its negotiated features are gone with its virtio driver.
    h.pci("0000:00:05.0", 0x1AF4, 0x1041, 0x020000, driver="vfio-pci", group=3, vfio_dev="vfio0")
    # A pci-testdev with no driver: virtio-iommu gives groups only to devices with one.
    h.pci("0000:00:06.0", 0x1B36, 0x0005, 0x00FF00)
    h.group(1, ["0000:00:03.0"], type_="DMA")
    h.group(2, ["0000:00:04.0"], type_="DMA")
    h.group(3, ["0000:00:05.0"], type_="DMA")
    h.virtio_unit("virtio2", "0000:00:02.0", ["0000:00:03.0", "0000:00:04.0", "0000:00:05.0"])
    vfio_loaded(h, builtin=True, unsafe="Y")
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/3", 243, 0, 0o600)


def unreadable_iommu(t):
    """noiommu-enabled as a user who may not search sys/firmware, sys/kernel/iommu_groups and
    sys/class/iommu (mode 700 folders): whether an IOMMU is active is unknown, so is every mode."""
    noiommu_enabled(t)
    t.unreadable += ["/sys/firmware", "/sys/kernel/iommu_groups", "/sys/class/iommu"]


def unreadable_sys(t):
    """intel-vfio-ready with all of sys/ unreadable: no function can be listed."""
    intel_server(t)
    t.unreadable += ["/sys"]


def bridge_group(t):
    """VT-d with interrupt remapping and a PCIe-to-PCI bridge with two conventional e1000 NICs
    behind it: bridge and NICs share group 3 (no ACS below a PCI bridge); 01:01.0 is on
    vfio-pci, 01:02.0 has no driver."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on", dmi=("QEMU", "Standard PC (Q35 + ICH9, 2009)"), hypervisor_flag=True,
             config=CONFIG_CUSTOM, tables=[("DMAR", dmar(haw=39, flags=0x1)), ("APIC", generic_table("APIC"))])
    h.pci("0000:00:00.0", 0x8086, 0x29C0, 0x060000, group=0, msix=False)
    h.pci("0000:00:01.0", 0x1B36, 0x000E, 0x060400, group=3, header=1, express=8, secondary=1, msix=False)
    h.pci("0000:01:01.0", 0x8086, 0x100E, 0x020000, driver="vfio-pci", group=3, parent="0000:00:01.0", msix=False, vfio_dev="vfio0",
          override="vfio-pci")
    h.pci("0000:01:02.0", 0x8086, 0x100E, 0x020000, group=3, parent="0000:00:01.0", msix=False)
    h.group(0, ["0000:00:00.0"], type_="DMA")
    h.group(3, ["0000:00:01.0", "0000:01:01.0", "0000:01:02.0"], type_="DMA")
    h.intel_unit("dmar0", vt_d_cap(39, caching=True), VT_D_ECAP_IR, ["0000:00:00.0", "0000:00:01.0", "0000:01:01.0", "0000:01:02.0"])
    vfio_loaded(h, builtin=True)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/3", 243, 0, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)
    t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600)


def block_device(t, name, parent_dir, majmin, partitions=()):
    """A disk in /sys/class/block below parent_dir (its controller's folder), with its
    /sys/dev/block number, and its partitions (name, majmin) inside its folder. Returns the
    folder of each, by name."""
    disk = f"{parent_dir}/{name}"
    folders = {name: disk}
    for n, d, mm in [(name, disk, majmin)] + [(p, f"{disk}/{p}", pmm) for p, pmm in partitions]:
        t.file(f"{d}/dev", f"{mm}\n")
        t.link(f"/sys/class/block/{n}", d)
        t.link(f"/sys/dev/block/{mm}", d)
        folders[n] = d
    return folders


def virtual_block(t, name, majmin, slaves):
    """A dm or md device: /sys/devices/virtual/block/NAME with its members (name: folder) in slaves/."""
    d = f"/sys/devices/virtual/block/{name}"
    t.file(f"{d}/dev", f"{majmin}\n")
    t.link(f"/sys/class/block/{name}", d)
    t.link(f"/sys/dev/block/{majmin}", d)
    for m, folder in slaves.items():
        t.link(f"{d}/slaves/{m}", folder)
    return {name: d}


def host_in_use(t):
    """A server the host runs on: / and /boot on the NVMe at 01:00.0, the default route on eno1
    (02:00.0), the console on the boot VGA at 00:02.0 with efifb in its BAR, /srv/data on an LVM
    volume over md0 over sda1 and sdb1 of the AHCI at 03:00.0 (whose group holds the xHCI at
    03:00.1 too), swap on the second NVMe (06:00.0), a global IPv6 address on eno2 (07:00.0);
    05:00.0 is a free NIC on vfio-pci; the LPC bridge and the SMBus share group 12."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on", config=CONFIG_CUSTOM,
             tables=[("DMAR", dmar()), ("APIC", generic_table("APIC")), ("FACP", generic_table("FACP"))])
    h.pci("0000:00:00.0", 0x8086, 0x09A2, 0x060000, group=0, express=9, msix=False)
    vga = h.pci("0000:00:02.0", 0x8086, 0x9A49, 0x030000, driver="i915", group=22)
    h.pci("0000:00:1f.0", 0x8086, 0xA1C1, 0x060100, driver="lpc_ich", group=12, msix=False)
    h.pci("0000:00:1f.4", 0x8086, 0xA1A3, 0x0C0500, driver="i801_smbus", group=12, msix=False)
    nvme = h.pci("0000:01:00.0", 0x144D, 0xA808, 0x010802, driver="nvme", group=20)
    nic = h.pci("0000:02:00.0", 0x8086, 0x1533, 0x020000, driver="igb", group=21)
    ahci = h.pci("0000:03:00.0", 0x1B21, 0x1164, 0x010601, driver="ahci", group=23)
    h.pci("0000:03:00.1", 0x1B21, 0x1242, 0x0C0330, driver="xhci_hcd", group=23)
    h.pci("0000:05:00.0", 0x8086, 0x1533, 0x020000, driver="vfio-pci", group=25, override="vfio-pci", vfio_dev="vfio0")
    swapdisk = h.pci("0000:06:00.0", 0x144D, 0xA808, 0x010802, driver="nvme", group=26)
    nic2 = h.pci("0000:07:00.0", 0x8086, 0x1533, 0x020000, driver="igb", group=27)
    members = {0: ["0000:00:00.0"], 12: ["0000:00:1f.0", "0000:00:1f.4"], 20: ["0000:01:00.0"], 21: ["0000:02:00.0"],
               22: ["0000:00:02.0"], 23: ["0000:03:00.0", "0000:03:00.1"], 25: ["0000:05:00.0"], 26: ["0000:06:00.0"],
               27: ["0000:07:00.0"]}
    for g, m in members.items():
        h.group(g, m)
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, [a for m in members.values() for a in m])
    vfio_loaded(h)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/iommu", 10, 123, 0o666)
    t.node("/dev/vfio/25", 243, 0, 0o600)
    t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600)
    t.file(f"{vga}/boot_vga", "1\n")
    block_device(t, "nvme0n1", f"{nvme}/nvme/nvme0", "259:0", [("nvme0n1p1", "259:1"), ("nvme0n1p2", "259:2")])
    block_device(t, "nvme1n1", f"{swapdisk}/nvme/nvme1", "259:3", [("nvme1n1p1", "259:4")])
    sda = block_device(t, "sda", f"{ahci}/ata1/host0/target0:0:0/0:0:0:0/block", "8:0", [("sda1", "8:1")])
    sdb = block_device(t, "sdb", f"{ahci}/ata2/host1/target1:0:0/1:0:0:0/block", "8:16", [("sdb1", "8:17")])
    md0 = virtual_block(t, "md0", "9:0", {"sda1": sda["sda1"], "sdb1": sdb["sdb1"]})
    virtual_block(t, "dm-0", "253:0", md0)
    for name, d in (("eno1", nic), ("eno2", nic2)):
        t.file(f"{d}/net/{name}/ifindex", "2\n")
        t.link(f"/sys/class/net/{name}", f"{d}/net/{name}")
    t.file("/sys/devices/virtual/net/lo/ifindex", "1\n")
    t.link("/sys/class/net/lo", "/sys/devices/virtual/net/lo")
    t.file("/proc/self/mountinfo",
           "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
           "23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
           "26 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
           "27 26 259:1 / /boot rw,relatime shared:28 - ext4 /dev/nvme0n1p1 rw\n"
           "28 26 253:0 / /srv/data\\040set rw,relatime shared:30 - xfs /dev/mapper/vg-srv rw\n"
           "29 26 0:35 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755\n")
    t.file("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                          "/dev/nvme1n1p1                          partition\t8388604\t\t0\t\t-2\n")
    t.file("/proc/net/route",
           "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
           "eno1\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
           "eno1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n")
    t.file("/proc/net/ipv6_route",
           "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
           "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eno2\n")
    t.file("/proc/net/if_inet6",
           "00000000000000000000000000000001 01 80 10 80       lo\n"
           "20010db8000000000000000000000007 03 40 00 00     eno2\n"
           "fe800000000000000000000000000007 03 40 20 80     eno2\n")
    t.file("/proc/iomem",
           "00000000-00000fff : Reserved\n"
           "4000000000-7fffffffff : PCI Bus 0000:00\n"
           "  4000000000-400fffffff : 0000:00:02.0\n"
           "    4000000000-40007e8fff : efifb\n"
           "  6000000000-60000fffff : 0000:00:1f.2\n")


def reset_host(t, release="6.12.95-vfiotest", reset_method=True):
    """The reset cases (drivers/pci/pci.c, pci_init_reset_methods): an FLR-capable 82599 alone
    behind a root port ("flr bus"); an AMD Polaris 10 GPU with its HDMI audio on one bus (no
    FLR, quirk_no_pm_reset, a sibling: no method; vendor-reset's); two conventional e1000s behind
    a PCIe-to-PCI bridge (NoSoftRst+, a sibling: no method), one on vfio-pci; a Samsung NVMe
    that quirks.c resets (device_specific). With reset_method=False, a kernel before 5.15: no
    reset_method attribute, the probe derives the methods."""
    h = Host(t, release, cmdline="intel_iommu=on", dmi=("Supermicro", "SYS-5019C-M"), config=CONFIG_CUSTOM,
             tables=[("DMAR", dmar()), ("APIC", generic_table("APIC"))])
    rm = (lambda v: v) if reset_method else (lambda v: None)
    h.pci("0000:00:00.0", 0x8086, 0x3E1F, 0x060000, group=0, msix=False)
    h.pci("0000:00:01.0", 0x8086, 0x1901, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=1, acs=True,
          pm="no-soft-reset", d3cold=1)
    h.pci("0000:01:00.0", 0x8086, 0x10FB, 0x020000, driver="vfio-pci", group=10, parent="0000:00:01.0", vfio_dev="vfio0",
          override="vfio-pci", flr=True, pm="no-soft-reset", reset_method=rm("flr bus"), d3cold=1)
    h.pci("0000:00:1c.0", 0x8086, 0xA33C, 0x060400, driver="pcieport", group=2, header=1, express=4, secondary=2, acs=True,
          pm="no-soft-reset", d3cold=1)
    h.pci("0000:02:00.0", 0x1002, 0x67DF, 0x030000, driver="vfio-pci", group=20, parent="0000:00:1c.0", vfio_dev="vfio1",
          override="vfio-pci", pm="soft-reset", d3cold=1)
    h.pci("0000:02:00.1", 0x1002, 0xAAF0, 0x040300, driver="vfio-pci", group=20, parent="0000:00:1c.0", vfio_dev="vfio2",
          override="vfio-pci", pm="no-soft-reset", d3cold=1)
    h.pci("0000:00:1e.0", 0x8086, 0x244E, 0x060401, group=3, header=1, secondary=3, msix=False)
    h.pci("0000:03:01.0", 0x8086, 0x100E, 0x020000, driver="vfio-pci", group=3, parent="0000:00:1e.0", vfio_dev="vfio3",
          override="vfio-pci", msix=False, pm="no-soft-reset", d3cold=1)
    h.pci("0000:03:02.0", 0x8086, 0x100E, 0x020000, group=3, parent="0000:00:1e.0", msix=False, pm="no-soft-reset", d3cold=1)
    h.pci("0000:00:1d.0", 0x8086, 0xA330, 0x060400, driver="pcieport", group=4, header=1, express=4, secondary=4, acs=True,
          pm="no-soft-reset", d3cold=1)
    h.pci("0000:04:00.0", 0x144D, 0xA804, 0x010802, driver="nvme", group=40, parent="0000:00:1d.0", flr=True, pm="no-soft-reset",
          reset_method=rm("device_specific flr bus"), d3cold=1)
    for g, members in [(0, ["0000:00:00.0"]), (1, ["0000:00:01.0"]), (10, ["0000:01:00.0"]), (2, ["0000:00:1c.0"]),
                       (20, ["0000:02:00.0", "0000:02:00.1"]), (3, ["0000:00:1e.0", "0000:03:01.0", "0000:03:02.0"]),
                       (4, ["0000:00:1d.0"]), (40, ["0000:04:00.0"])]:
        h.group(g, members)
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:00.0", "0000:00:01.0", "0000:01:00.0", "0000:00:1c.0", "0000:02:00.0",
                                                       "0000:02:00.1", "0000:00:1e.0", "0000:03:01.0", "0000:03:02.0", "0000:00:1d.0",
                                                       "0000:04:00.0"])
    vfio_loaded(h)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/iommu", 10, 123, 0o666)
    for g in (3, 10, 20):
        t.node(f"/dev/vfio/{g}", 243, g, 0o600)
    for i in range(4):
        t.node(f"/dev/vfio/devices/vfio{i}", 242, i, 0o600)


def reset_5_10(t):
    """reset-host on a 5.10 kernel: no reset_method attribute; the methods are derived."""
    reset_host(t, release="5.10.0-32-amd64", reset_method=False)


ACS_REQUIRED = 0x1F  # SV TB RR CR UF in the capability word
ACS_ON = 0x1D  # SV RR CR UF on in the control word (pci_std_enable_acs; TB only for external ports)


def pasid_sm(t):
    """VT-d in scalable mode (intel_iommu=sm_on): a DSA (RCiEP, idxd) with PASID, PRI and ATS on,
    offering mdev types as its out-of-tree vdcm driver does; an E810 with PASID below a root port
    without ACS, which pci_enable_pasid refuses; a legacy-mode unit beside them."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on,sm_on", dmi=("Intel Corporation", "ArcherCity"), config=CONFIG_CUSTOM,
             tables=[("DMAR", dmar()), ("APIC", generic_table("APIC"))])
    h.pci("0000:00:00.0", 0x8086, 0x09A2, 0x060000, group=0, express=9, msix=False)
    h.pci("0000:6a:01.0", 0x8086, 0x0B25, 0x088000, driver="idxd", group=1, express=9, ee_prefix=True,
          ats=True, pri=False, pasid=(20, False, True, True))
    h.pci("0000:00:02.0", 0x8086, 0x347B, 0x060400, driver="pcieport", group=2, header=1, express=4, secondary=0x6b, ee_prefix=True)
    h.pci("0000:6b:00.0", 0x8086, 0x1593, 0x020000, driver="ice", group=2, parent="0000:00:02.0", express=0, ee_prefix=True,
          ats=False, pasid=(20, False, False, False), flr=True, reset_method="flr")
    h.group(0, ["0000:00:00.0"])
    h.group(1, ["0000:6a:01.0"])
    h.group(2, ["0000:00:02.0", "0000:6b:00.0"])
    h.intel_unit("dmar0", vt_d_cap(48) | (1 << 56), VT_D_ECAP_SM, ["0000:6a:01.0", "0000:00:02.0", "0000:6b:00.0"])  # FL1GP
    h.intel_unit("dmar1", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:00.0"])
    vfio_loaded(h)
    # The DSA as an mdev parent (Intel's out-of-tree idxd vdcm): one dedicated-WQ type, one instance.
    parent = h.device_dir("0000:6a:01.0")
    uuid = "5f3c9a1e-2b7d-4c8e-9f01-6a0b1c2d3e4f"
    td = f"{parent}/mdev_supported_types/idxd-dsa-1dwq-v1"
    t.file(f"{td}/name", "1dwq-v1\n")
    t.file(f"{td}/device_api", "vfio-pci\n")
    t.file(f"{td}/available_instances", "7\n")
    t.link(f"{td}/devices/{uuid}", f"{parent}/{uuid}")
    t.link("/sys/class/mdev_bus/0000:6a:01.0", parent)
    t.file("/sys/bus/mdev/drivers/vfio_mdev/uevent", "")
    t.link(f"{parent}/{uuid}/mdev_type", td)
    t.link(f"{parent}/{uuid}/iommu_group", "/sys/kernel/iommu_groups/3")
    t.link(f"{parent}/{uuid}/driver", "/sys/bus/mdev/drivers/vfio_mdev")
    t.link(f"/sys/bus/mdev/devices/{uuid}", f"{parent}/{uuid}")
    t.link(f"/sys/kernel/iommu_groups/3/devices/{uuid}", f"{parent}/{uuid}")
    t.file("/sys/kernel/iommu_groups/3/name", "vfio-noiommu\n")
    t.file("/sys/kernel/iommu_groups/3/type", "unknown\n")
    t.file("/sys/kernel/iommu_groups/3/reserved_regions", "")
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/3", 243, 0, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)


def ats_enabled(t):
    """The Intel server, its NIC's ATS turned on by the IOMMU driver on one port and off on the other."""
    intel_server(t, ats=True, ats2=False)


def switch_no_acs(t):
    """A root port with ACS on, a switch below it: downstream port 02:00.0 has no ACS, so the two
    functions of the NIC below it (each with ACS of its own) share group 14 with the port
    (pci_acs_path_enabled fails at 02:00.0); downstream port 02:01.0 has ACS, and the NVMe
    drive below it is alone in group 16."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on", config=CONFIG_CUSTOM,
             tables=[("DMAR", dmar()), ("APIC", generic_table("APIC"))])
    h.pci("0000:00:00.0", 0x8086, 0x09A2, 0x060000, group=0, express=9, msix=False)
    h.pci("0000:00:01.0", 0x8086, 0x347A, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=1,
          acs=(ACS_REQUIRED, ACS_ON))
    h.pci("0000:01:00.0", 0x10B5, 0x8747, 0x060400, driver="pcieport", group=2, parent="0000:00:01.0", header=1, express=5,
          secondary=2, msix=False)
    h.pci("0000:02:00.0", 0x10B5, 0x8747, 0x060400, driver="pcieport", group=14, parent="0000:01:00.0", header=1, express=6,
          secondary=3, msix=False)
    h.pci("0000:02:01.0", 0x10B5, 0x8747, 0x060400, driver="pcieport", group=15, parent="0000:01:00.0", header=1, express=6,
          secondary=4, msix=False, acs=(ACS_REQUIRED, ACS_ON))
    h.pci("0000:03:00.0", 0x8086, 0x1572, 0x020000, driver="vfio-pci", group=14, parent="0000:02:00.0", vfio_dev="vfio0",
          override="vfio-pci", multifunction=True, acs=(0x5D, 0x1D))
    h.pci("0000:03:00.1", 0x8086, 0x1572, 0x020000, driver="i40e", group=14, parent="0000:02:00.0", multifunction=True,
          acs=(0x5D, 0x1D))
    h.pci("0000:04:00.0", 0x144D, 0xA808, 0x010802, driver="nvme", group=16, parent="0000:02:01.0")
    for gid, members in [(0, ["0000:00:00.0"]), (1, ["0000:00:01.0"]), (2, ["0000:01:00.0"]),
                         (14, ["0000:02:00.0", "0000:03:00.0", "0000:03:00.1"]), (15, ["0000:02:01.0"]), (16, ["0000:04:00.0"])]:
        h.group(gid, members)
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:00.0", "0000:00:01.0", "0000:01:00.0", "0000:02:00.0",
                                                       "0000:02:01.0", "0000:03:00.0", "0000:03:00.1", "0000:04:00.0"])
    vfio_loaded(h)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/14", 243, 0, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)
    t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600)


def acs_override(t):
    """pcie_acs_override=downstream,multifunction on a kernel with the patch: chipset root port
    00:1c.0 has no ACS and the dual-port NIC below it (a multifunction device without ACS) is
    split into groups 14 and 15 the hardware does not give (it would be one group with the
    port). 05:00.0, behind CPU root port 00:01.0 with ACS, is isolated anyway."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on pcie_acs_override=downstream,multifunction", config=CONFIG_CUSTOM,
             tables=[("DMAR", dmar()), ("APIC", generic_table("APIC"))])
    h.pci("0000:00:00.0", 0x8086, 0x3E30, 0x060000, group=0, express=9, msix=False)
    h.pci("0000:00:01.0", 0x8086, 0x1901, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=5,
          acs=(ACS_REQUIRED, ACS_ON))
    h.pci("0000:00:1c.0", 0x8086, 0xA338, 0x060400, driver="pcieport", group=13, header=1, express=4, secondary=3)
    h.pci("0000:03:00.0", 0x14E4, 0x165F, 0x020000, driver="vfio-pci", group=14, parent="0000:00:1c.0", vfio_dev="vfio0",
          override="vfio-pci", multifunction=True)
    h.pci("0000:03:00.1", 0x14E4, 0x165F, 0x020000, driver="tg3", group=15, parent="0000:00:1c.0", multifunction=True)
    h.pci("0000:05:00.0", 0x10DE, 0x1EB8, 0x030200, driver="vfio-pci", group=16, parent="0000:00:01.0", vfio_dev="vfio1",
          override="vfio-pci")
    for gid, members in [(0, ["0000:00:00.0"]), (1, ["0000:00:01.0"]), (13, ["0000:00:1c.0"]), (14, ["0000:03:00.0"]),
                         (15, ["0000:03:00.1"]), (16, ["0000:05:00.0"])]:
        h.group(gid, members)
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:00.0", "0000:00:01.0", "0000:00:1c.0", "0000:03:00.0",
                                                       "0000:03:00.1", "0000:05:00.0"])
    vfio_loaded(h)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/14", 243, 0, 0o600)
    t.node("/dev/vfio/16", 243, 1, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)


MODULES_ALIAS = (  # a few lines of a distribution's modules.alias: the probe keeps the vfio_pci: ones
    "# Aliases extracted from modules themselves.\n"
    "alias pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_core\n"
    "alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core\n"
    "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
    "alias vfio_pci:v000019E5d0000A251sv*sd*bc*sc*i* hisi_acc_vfio_pci\n"
    "alias vfio_pci:v00001DD8d00001003sv*sd*bc*sc*i* pds_vfio_pci\n"
    "alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* virtio_vfio_pci\n"
    "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
    "alias pci:v00008086d00001572sv*sd*bc*sc*i* i40e\n"
)


def connectx_vf(t):
    """A ConnectX-6 Dx PF (15b3:101d) on mlx5_core with three VFs (15b3:101e): one on mlx5_core,
    one on plain vfio-pci, one on mlx5_vfio_pci (kept there across reboots by driverctl); the
    kernel's modules.alias has mlx5_vfio_pci's vfio_pci: alias for the VF's id."""
    h = Host(t, "6.12.95-vfiotest", cmdline="intel_iommu=on", config=dict(CONFIG_DISTRO, CONFIG_MLX5_VFIO_PCI="m"), tables=[("DMAR", dmar())])
    h.pci("0000:00:01.0", 0x8086, 0x347A, 0x060400, driver="pcieport", group=1, header=1, express=4, secondary=2, acs=True)
    vfs = ["0000:02:00.2", "0000:02:00.3", "0000:02:00.4"]
    h.pci_parent.update({vf: "0000:00:01.0" for vf in vfs})
    sub = (0x15B3, 0x0016)
    h.pci("0000:02:00.0", 0x15B3, 0x101D, 0x020000, driver="mlx5_core", group=20, parent="0000:00:01.0", sriov=(3, 8, vfs), subsystem=sub)
    h.pci("0000:02:00.2", 0x15B3, 0x101E, 0x020000, driver="mlx5_core", group=21, parent="0000:00:01.0", physfn="0000:02:00.0", subsystem=sub)
    h.pci("0000:02:00.3", 0x15B3, 0x101E, 0x020000, driver="vfio-pci", group=22, parent="0000:00:01.0", physfn="0000:02:00.0",
          subsystem=sub, override="vfio-pci", vfio_dev="vfio0")
    h.pci("0000:02:00.4", 0x15B3, 0x101E, 0x020000, driver="mlx5_vfio_pci", group=23, parent="0000:00:01.0", physfn="0000:02:00.0",
          subsystem=sub, override="mlx5_vfio_pci", vfio_dev="vfio1")
    for g, m in [(1, "0000:00:01.0"), (20, "0000:02:00.0"), (21, vfs[0]), (22, vfs[1]), (23, vfs[2])]:
        h.group(g, [m])
    h.intel_unit("dmar0", vt_d_cap(48), VT_D_ECAP_IR, ["0000:00:01.0", "0000:02:00.0"] + vfs)
    vfio_loaded(h, iommufd=False)
    h.module("mlx5_vfio_pci")
    t.file("/lib/modules/6.12.95-vfiotest/modules.alias", MODULES_ALIAS)
    t.file("/etc/driverctl.d/pci-0000:02:00.4", "mlx5_vfio_pci\n")
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/22", 243, 0, 0o600)
    t.node("/dev/vfio/23", 243, 1, 0o600)
    t.node("/dev/vfio/devices/vfio0", 242, 0, 0o600)
    t.node("/dev/vfio/devices/vfio1", 242, 1, 0o600)


def boot_binding(t):
    """The Intel server after a few tries at passthrough: its NIC port on vfio-pci by
    driver_override only (modprobe.d's vfio-pci ids= name 8086:1573, not the NIC's 8086:1572), a
    T4 (10de:1eb8) on pci-stub by pci-stub.ids= with built-in pci-stub although modprobe.d gives it
    to vfio-pci, and an A10 (10de:2236) still on nouveau: vfio-pci is a module nothing loads first."""
    h = intel_server(t, cmdline="intel_iommu=on pci-stub.ids=10de:1eb8")
    t.file("/lib/modules/6.12.95-vfiotest/modules.builtin", "kernel/drivers/pci/pci-stub.ko\n")
    h.pci("0000:65:00.0", 0x10DE, 0x1EB8, 0x030200, driver="pci-stub", group=65, subsystem=(0x10DE, 0x12A2))
    h.pci("0000:66:00.0", 0x10DE, 0x2236, 0x030200, driver="nouveau", group=66, subsystem=(0x10DE, 0x1482))
    h.group(65, ["0000:65:00.0"])
    h.group(66, ["0000:66:00.0"])
    h.intel_unit("dmar2", vt_d_cap(48), VT_D_ECAP_IR, ["0000:65:00.0", "0000:66:00.0"])
    t.file("/etc/modprobe.d/vfio.conf", "# GPUs for the guests\noptions vfio-pci ids=10de:1eb8,10de:2236,8086:1573\n")
    t.file("/lib/modprobe.d/systemd.conf", "options bonding max_bonds=0\noptions dummy numdummies=0\n")
    # initramfs-tools, told to include nothing VFIO.
    t.file("/etc/initramfs-tools/initramfs.conf", "MODULES=most\nCOMPRESS=zstd\n")
    t.file("/etc/initramfs-tools/modules", "# List of modules that you want to include in your initramfs.\n# raid1\nbonding\n")


def next_boot_debian(t):
    """The Intel server on Debian: iommu=pt added to /etc/default/grub (through grub.d too) but
    update-grub not run and the host not rebooted."""
    intel_server(t)
    debian_boot(t, "intel_iommu=on")
    t.file("/etc/default/grub.d/90-passthrough.cfg", 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX iommu=pt"\n')


def next_boot_fedora(t):
    """The Intel server on Fedora: iommu=pt typed at the boot prompt, in no BLS entry and not in
    /etc/default/grub: the next boot drops it."""
    intel_server(t, cmdline="intel_iommu=on iommu=pt")
    t.file("/etc/os-release", 'NAME="Fedora Linux"\nVERSION="41 (Server Edition)"\nID=fedora\n')
    t.file("/etc/default/grub", 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="rhgb quiet intel_iommu=on"\nGRUB_ENABLE_BLSCFG=true\n')
    t.file("/boot/loader/entries/4c1f0a-6.12.95-vfiotest.conf",
           "title Fedora Linux (6.12.95-vfiotest) 41 (Server Edition)\nversion 6.12.95-vfiotest\n"
           "linux /vmlinuz-6.12.95-vfiotest\ninitrd /initramfs-6.12.95-vfiotest.img\n"
           "options root=/dev/mapper/fedora-root ro rhgb quiet intel_iommu=on\n")
    t.file("/boot/loader/entries/4c1f0a-6.11.4-301.fc41.x86_64.conf",
           "title Fedora Linux (6.11.4-301.fc41.x86_64) 41\nversion 6.11.4-301.fc41.x86_64\n"
           "linux /vmlinuz-6.11.4-301.fc41.x86_64\noptions root=/dev/mapper/fedora-root ro rhgb quiet\n")


def hugepages(t, sizes, default=2048 << 10, nodes=None):
    """Persistent hugepage pools: sizes maps a page size in bytes to (nr, free, resv); nodes maps a
    node id to (cpulist, {size: (nr, free)})."""
    for size, (nr, free, resv) in sizes.items():
        d = f"/sys/kernel/mm/hugepages/hugepages-{size >> 10}kB"
        for name, v in (("nr_hugepages", nr), ("free_hugepages", free), ("resv_hugepages", resv), ("surplus_hugepages", 0)):
            t.file(f"{d}/{name}", f"{v}\n")
    t.file("/proc/meminfo", "MemTotal:       263705416 kB\nMemFree:        198273612 kB\nHugePages_Total:    "
                            f"{sizes.get(default, (0, 0, 0))[0]}\nHugepagesize:       {default >> 10} kB\n")
    for n, (cpus, pools) in (nodes or {}).items():
        d = f"/sys/devices/system/node/node{n}"
        t.file(f"{d}/cpulist", cpus + "\n")
        for size, (nr, free) in pools.items():
            hd = f"{d}/hugepages/hugepages-{size >> 10}kB"
            t.file(f"{hd}/nr_hugepages", f"{nr}\n")
            t.file(f"{hd}/free_hugepages", f"{free}\n")
            t.file(f"{hd}/surplus_hugepages", "0\n")


def budget_hugepages(t):
    """The Intel server with 4096 free 2 MiB hugepages (8 GiB), none of 1 GiB, memlock unlimited."""
    intel_server(t, memlock="unlimited")
    hugepages(t, {2 << 20: (4096, 4096, 0), 1 << 30: (0, 0, 0)})


def budget_memlock(t):
    """The Intel server as a service limited to 1 GiB of locked memory, without CAP_IPC_LOCK."""
    intel_server(t, memlock="1073741824", caps=FULL_CAPS & ~(1 << 14))


def budget_narrow(t):
    """A QEMU guest with a 39-bit emulated VT-d (aw-bits=39), 5-level paging and 18 GiB of RAM: the
    IOVA space is 512 GiB and user addresses outgrow it."""
    h = kvm_guest(t, "6.12.95-vfiotest", CONFIG_CUSTOM, cmdline="intel_iommu=on", memlock="unlimited")
    t.file("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                            "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge x2apic hypervisor la57\n"
                            "address sizes\t: 52 bits physical, 57 bits virtual\n\n")
    t.file("/proc/iomem", "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n00100000-7ffdffff : System RAM\n"
                          "  01000000-01ffffff : Kernel code\nfee00000-fee00fff : Local APIC\n100000000-47fffffff : System RAM\n")
    h.pci("0000:00:00.0", 0x8086, 0x29C0, 0x060000, group=0, msix=False)
    h.pci("0000:00:03.0", 0x8086, 0x10D3, 0x020000, driver="vfio-pci", group=3, vfio_dev="vfio0", override="vfio-pci")
    h.group(0, ["0000:00:00.0"])
    h.group(3, ["0000:00:03.0"])
    h.intel_unit("dmar0", vt_d_cap(39, caching=True), VT_D_ECAP_IR, ["0000:00:00.0", "0000:00:03.0"])
    vfio_loaded(h, builtin=True)
    t.node("/dev/vfio/vfio", 10, 196, 0o666)
    t.node("/dev/vfio/3", 243, 0, 0o600)
    t.node("/dev/iommu", 10, 123, 0o666)


def numa_two_nodes(t):
    """A two-socket Intel server: a NIC on each node, hugepages reserved on node 0 only, and an
    onboard NIC whose firmware gives no _PXM (numa_node -1)."""
    h = intel_server(t, memlock="unlimited")
    h.pci("0000:00:1f.6", 0x8086, 0x15BB, 0x020000, driver="e1000e", group=13, numa=-1)
    h.group(13, ["0000:00:1f.6"])
    h.pci("0000:80:00.0", 0x8086, 0x09A2, 0x060000, group=30, express=9, msix=False, numa=1)
    h.pci("0000:80:01.0", 0x8086, 0x347A, 0x060400, driver="pcieport", group=31, header=1, express=4, secondary=0x86, acs=True, numa=1)
    h.pci("0000:86:00.0", 0x8086, 0x1572, 0x020000, driver="vfio-pci", group=32, parent="0000:80:01.0", vfio_dev="vfio1",
          override="vfio-pci", subsystem=(0x8086, 0x0000), flr=True, reset_method="flr", numa=1)
    for g, m in ((30, "0000:80:00.0"), (31, "0000:80:01.0"), (32, "0000:86:00.0")):
        h.group(g, [m])
    t.node("/dev/vfio/32", 243, 1, 0o600)
    t.node("/dev/vfio/devices/vfio1", 242, 1, 0o600)
    hugepages(t, {2 << 20: (2048, 2048, 0)},
              nodes={0: ("0-23,48-71", {2 << 20: (2048, 2048)}), 1: ("24-47,72-95", {2 << 20: (0, 0)})})
def kmsg(t, records):
    """dev/kmsg as a tree holds it: one "PRI,SEQ,USEC,FLAGS;message" line per record (level only:
    facility 0), continuation lines (" KEY=value") after it."""
    lines = []
    for seq, (level, usec, message, *cont) in enumerate(records):
        lines.append(f"{level},{seq},{usec},-;{message}")
        lines += [" " + c for c in cont]
    t.file("/dev/kmsg", "\n".join(lines) + "\n")


def kernel_log(t):
    """The Intel server's kernel log with each message the probe explains: type1's "No interrupt
    remapping support" from a first try, a DMAR fault repeated three times and a reset the NIC did
    not come back from, vfio-pci's failed probe, the firmware's 1:1 refusal and AMD-Vi's page fault
    (for a function no longer on the bus), the compat container's notice, and lines it ignores."""
    intel_server(t)
    kmsg(t, [
        (6, 0, "Linux version 6.12.95-vfiotest (builder@vm) #1 SMP PREEMPT_DYNAMIC"),
        (6, 210412, "DMAR: IOMMU enabled"),
        (6, 1104233, "DMAR-IR: Enabled IRQ remapping in x2apic mode"),
        (6, 1208877, "iommu: Default domain type: Translated"),
        (6, 1410021, "pci 0000:00:1f.2: Adding to iommu group 12", "SUBSYSTEM=pci", "DEVICE=+pci:0000:00:1f.2"),
        (6, 1410188, "pci 0000:01:00.0: Adding to iommu group 10", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.0"),
        (4, 35120007, "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform"),
        (3, 96500001, "DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0xffd0e000 [fault reason 0x06] PTE Read access is not set"),
        (3, 96500412, "DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0xffd0f000 [fault reason 0x06] PTE Read access is not set"),
        (3, 96512999, "DMAR: [DMA Write NO_PASID] Request device [01:00.0] fault addr 0xffd10000 [fault reason 0x05] PTE Write access is not set"),
        (4, 120004500, "vfio-pci 0000:01:00.0: not ready 65535ms after FLR; giving up", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.0"),
        (3, 120004800, "vfio-pci 0000:01:00.0: probe with driver vfio-pci failed with error -22", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.0"),
        (4, 150000000, "pci 0000:3b:00.0: Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor."),
        (3, 151000000, "vfio-pci 0000:3b:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0012 address=0xfffff000 flags=0x0000]"),
        (6, 160000000, "iommufd: IOMMUFD is providing /dev/vfio/vfio, not VFIO."),
        (3, 151000300, "DMAR: [INTR-REMAP] Request device [3b:00.0] fault index 0x2a [fault reason 0x25] Blocked a compatibility format interrupt request"),
        (4, 152000000, "vfio-pci 0000:3b:00.0: MSI interrupts are not secure, they cannot be isolated by the platform. Check that platform features like interrupt remapping are enabled. Use the \"allow_unsafe_interrupts\" module parameter to override"),
        (6, 180000000, "vfio-pci 0000:01:00.1: Invalid PCI ROM header signature: expecting 0xaa55, got 0xffff", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.1"),
        (7, 180000100, "vfio-pci 0000:01:00.1: vfio_ecap_init: hiding ecap 0x19@0x100", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.1"),
        (3, 181000000, "vfio-pci 0000:01:00.1: timed out waiting for pending transaction; performing function level reset anyway", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.1"),
        (6, 181200000, "vfio-pci 0000:01:00.1: vfio_bar_restore: reset recovery - restoring BARs", "SUBSYSTEM=pci", "DEVICE=+pci:0000:01:00.1"),
        (6, 170000000, "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex"),
    ])


def sev_host(t, cmdline, sev_snp, log):
    """An EPYC host (amd-host's bus, 6.12) whose CPU has SEV, SEV-ES and SEV-SNP, with kvm_amd loaded."""
    amd_host(t, release="6.12.95-vfiotest", config=CONFIG_CUSTOM)
    t.file("/proc/cmdline", f"BOOT_IMAGE=/boot/vmlinuz-6.12.95-vfiotest root=/dev/mapper/vg-root ro {cmdline}".strip() + "\n")
    t.file("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
                            "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge x2apic sme sev sev_es sev_snp\n\n")
    for name, value in (("sev", "Y"), ("sev_es", "Y"), ("sev_snp", sev_snp)):
        t.file(f"/sys/module/kvm_amd/parameters/{name}", value + "\n")
    kmsg(t, log)


def sev_snp_passthrough(t):
    """The SEV-SNP host booted with iommu=pt: the AMD-Vi driver turned host SNP off
    (iommu_snp_enable), so kvm_amd's sev_snp reads N."""
    sev_host(t, "iommu=pt", "N", [
        (6, 1000000, "iommu: Default domain type: Passthrough (set via kernel command line)"),
        (4, 1500000, "AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported."),
        (6, 1600000, "AMD-Vi: Interrupt remapping enabled"),
    ])


def sev_snp_ready(t):
    """The SEV-SNP host with a translating IOMMU: SNP on in the IOMMU and in kvm_amd."""
    sev_host(t, "", "Y", [
        (6, 1000000, "iommu: Default domain type: Translated"),
        (6, 1500000, "AMD-Vi: IOMMU SNP support enabled."),
        (6, 1600000, "AMD-Vi: Interrupt remapping enabled"),
    ])
    for g in (0, 1, 2, 20, 21):
        t.file(f"/sys/kernel/iommu_groups/{g}/type", "DMA\n")


SCENARIOS = {
    "intel-vfio-ready": intel_vfio_ready,
    "intel-iommu-off": intel_iommu_off,
    "mdev-no-iommu": mdev_no_iommu,
    "amd-host": amd_host,
    "amd-host-6.12": amd_host_612,
    "noiommu-enabled": noiommu_enabled,
    "noiommu-not-compiled": noiommu_not_compiled,
    "shared-group": shared_group,
    "rmrr-direct": rmrr_direct,
    "intel-no-ir": intel_no_ir,
    "intel-no-ir-allowed": intel_no_ir_allowed,
    "uio-bound": uio_bound,
    "qat-denylisted": qat_denylisted,
    "hyperv-guest": hyperv_guest,
    "sriov-pf": sriov_pf,
    "microvm-guest": microvm_guest,
    "arm-its": arm_its,
    "arm-gicv2m": arm_gicv2m,
    "virtio-no-access-platform": virtio_no_access_platform,
    "nonroot": nonroot,
    "container": container,
    "intel-nonroot": intel_nonroot,
    "unreadable-iommu": unreadable_iommu,
    "unreadable-sys": unreadable_sys,
    "bridge-group": bridge_group,
    "host-in-use": host_in_use,
    "reset-host": reset_host,
    "reset-5.10": reset_5_10,
    "switch-no-acs": switch_no_acs,
    "acs-override": acs_override,
    "ats-enabled": ats_enabled,
    "pasid-sm": pasid_sm,
    "connectx-vf": connectx_vf,
    "boot-binding": boot_binding,
    "next-boot-debian": next_boot_debian,
    "next-boot-fedora": next_boot_fedora,
    "budget-hugepages": budget_hugepages,
    "budget-memlock": budget_memlock,
    "budget-narrow": budget_narrow,
    "numa-two-nodes": numa_two_nodes,
    "kernel-log": kernel_log,
    "sev-snp-passthrough": sev_snp_passthrough,
    "sev-snp-ready": sev_snp_ready,
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "hosts")
    for name, build in SCENARIOS.items():
        root = os.path.join(out, name)
        if os.path.exists(root):
            shutil.rmtree(root)
        os.makedirs(root)
        t = Tree(root)
        build(t)
        t.finish()
    print(f"wrote {len(SCENARIOS)} fixture hosts to {out}")


if __name__ == "__main__":
    main()
