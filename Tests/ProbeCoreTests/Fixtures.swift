import Foundation

/// The fixture hosts of Tests/Fixtures/hosts (written by make-fixtures.py), by name.
enum HostFixture: String, CaseIterable, Sendable, CustomStringConvertible {
    case acsOverride = "acs-override"
    case amdHost = "amd-host"
    case amdHost6_12 = "amd-host-6.12"
    case armGICv2m = "arm-gicv2m"
    case armITS = "arm-its"
    case atsEnabled = "ats-enabled"
    case bootBinding = "boot-binding"
    case bridgeGroup = "bridge-group"
    case connectXVF = "connectx-vf"
    case container = "container"
    case hostInUse = "host-in-use"
    case hyperVGuest = "hyperv-guest"
    case intelIOMMUOff = "intel-iommu-off"
    case intelNoIR = "intel-no-ir"
    case intelNoIRAllowed = "intel-no-ir-allowed"
    case intelNonroot = "intel-nonroot"
    case intelVFIOReady = "intel-vfio-ready"
    case mdevNoIOMMU = "mdev-no-iommu"
    case microvmGuest = "microvm-guest"
    case noiommuEnabled = "noiommu-enabled"
    case noiommuNotCompiled = "noiommu-not-compiled"
    case nextBootDebian = "next-boot-debian"
    case nextBootFedora = "next-boot-fedora"
    case budgetHugepages = "budget-hugepages"
    case budgetMemlock = "budget-memlock"
    case budgetNarrow = "budget-narrow"
    case numaTwoNodes = "numa-two-nodes"
    case kernelLog = "kernel-log"
    case sevSNPPassthrough = "sev-snp-passthrough"
    case sevSNPReady = "sev-snp-ready"
    case nonroot = "nonroot"
    case pasidSM = "pasid-sm"
    case qatDenylisted = "qat-denylisted"
    case reset5_10 = "reset-5.10"
    case resetHost = "reset-host"
    case rmrrDirect = "rmrr-direct"
    case sharedGroup = "shared-group"
    case sriovPF = "sriov-pf"
    case switchNoACS = "switch-no-acs"
    case uioBound = "uio-bound"
    case unreadableIOMMU = "unreadable-iommu"
    case unreadableSys = "unreadable-sys"
    case virtioNoAccessPlatform = "virtio-no-access-platform"

    var path: String { Repo.fixture(rawValue) }
    var description: String { rawValue }
}

/// The snapshots of Tests/Fixtures/snapshots, taken from the VM matrix's kernels.
enum SnapshotFixture: String, CaseIterable, Sendable, CustomStringConvertible {
    case amdVFIO = "amd-vfio"
    case bootIDs = "boot-ids"
    case bridgeGroup = "bridge-group"
    case compatIntel = "compat-intel"
    case compatVirtio = "compat-virtio"
    case debianKernel = "debian-kernel"
    case debianNoIR = "debian-no-ir"
    case hostInUse = "host-in-use"
    case intelBindable = "intel-bindable"
    case intelIOMMUOff = "intel-iommu-off"
    case intelVFIO = "intel-vfio"
    case isolation = "isolation"
    case mdev = "mdev"
    case noiommuOff = "noiommu-off"
    case noiommuOn = "noiommu-on"
    case reset = "reset"
    case sriov = "sriov"
    case unprivileged = "unprivileged"
    case budget = "budget"
    case narrowVIOMMU = "narrow-viommu"
    case kernelLog = "kernel-log"
    case scalableMode = "scalable-mode"

    var folder: String { "\(Repo.root)/Tests/Fixtures/snapshots/\(rawValue)" }
    var tree: String { folder + "/tree" }
    var description: String { rawValue }
}

/// A tree the probe can be pointed at: a fixture host, a snapshot, or a synthetic host from the
/// benchmark's generator (made for the test and removed after it).
enum Scenario: Sendable, CustomStringConvertible {
    case host(HostFixture)
    case snapshot(SnapshotFixture)
    /// 40 PFs with 7 VFs each: 320 functions, past every threshold at which work goes concurrent.
    case synthetic

    static var all: [Scenario] { HostFixture.allCases.map(host) + SnapshotFixture.allCases.map(snapshot) + [.synthetic] }

    var name: String {
        switch self {
        case .host(let h): "hosts/\(h.rawValue)"
        case .snapshot(let s): "snapshots/\(s.rawValue)"
        case .synthetic: "synthetic-320"
        }
    }
    var description: String { name }

    var isSynthetic: Bool { if case .synthetic = self { true } else { false } }

    func root() throws -> String {
        switch self {
        case .host(let h): h.path
        case .snapshot(let s): s.tree
        case .synthetic: try syntheticHost(pfs: 40, vfs: 7)
        }
    }

    func release(_ root: String) {
        if case .synthetic = self { try? FileManager.default.removeItem(atPath: root) }
    }
}
