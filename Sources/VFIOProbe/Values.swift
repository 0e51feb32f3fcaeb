import ProbeCore

// The values a probe hands back, under the names the engine (ProbeCore) gives them. They are
// immutable snapshots: a Host is what was read, a Report what was concluded from it.

/// A PCI function's address, `DDDD:BB:DD.F` (a bare `BB:DD.F` means domain 0).
public typealias PCIAddress = ProbeCore.PCIAddress
/// The host as read: PCI functions, IOMMU groups, the IOMMU, the kernel, drivers, memory.
public typealias Host = ProbeCore.Host
/// A probe's result: the host, the checks that ran, their findings and the verdict.
public typealias Report = ProbeCore.Report
/// The host's and each device's mode, readiness, reasons and actions.
public typealias Verdict = ProbeCore.Verdict
/// One PCI function's mode and readiness, with the reasons and the actions that would change them.
public typealias DeviceVerdict = ProbeCore.DeviceVerdict
/// How VFIO can be used: safe VFIO, VFIO without interrupt isolation, no-IOMMU only, or none.
public typealias Mode = ProbeCore.Mode
/// Whether a device is usable now (ready), after its actions (bindable), or not (blocked).
public typealias Readiness = ProbeCore.Readiness
/// One check's conclusion about the host or a device: a status, a summary, the evidence read
/// and the remedy.
public typealias Finding = ProbeCore.Finding
/// pass, warn, fail, skip or error.
public typealias Status = ProbeCore.Status
/// A check's id, title, rationale and remedy, and what it reads.
public typealias CheckDescriptor = ProbeCore.CheckDescriptor
/// The DMA a service will map (`--memory`, `--hugepage-size`).
public typealias Workload = ProbeCore.Workload
/// Sizes as the command line writes them: `64G`, `512MiB`, `4096`.
public typealias ByteCount = ProbeCore.ByteCount
/// The facts of a report that drift compares: groups, drivers, readiness, the kernel.
public typealias DriftView = ProbeCore.DriftView
/// One relevant change between two reports.
public typealias DriftChange = ProbeCore.DriftChange
/// `vfio-probe snapshot`: the files the probe reads, copied into a tree ``Probe/root`` reads.
public typealias Snapshot = ProbeCore.Snapshot
/// Decoding of the ACPI IOMMU tables (DMAR, IVRS, IORT, VIOT), from a tree or from files.
public typealias ACPIReporter = ProbeCore.ACPIReporter
/// Container Device Interface specs: one device per assignable unit.
public typealias CDIReporter = ProbeCore.CDIReporter
/// Escaping of text from the host for a terminal, a single line or a Prometheus label.
public typealias Escaping = ProbeCore.Escaping
