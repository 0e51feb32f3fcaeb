import ArgumentParser

import VFIOProbe
#if canImport(Glibc)
import Glibc
#endif

extension CDIReporter.Backend: ExpressibleByArgument {}

struct CDICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdi",
        abstract: "Write a Container Device Interface spec: one device per assignable unit (an IOMMU group's endpoint functions).",
        discussion: """
            Only ready units are in the spec (with --include bindable, also those that are ready once their actions are done, \
            annotated vfio-probe.io/readiness=bindable). With no unit to describe, no spec is written and a file named by \
            --output is removed (a CDI spec needs at least one device). \
            Exit status: 0; 1 when the probe failed or the spec could not be written; with --require-ready, 0 only when a ready \
            unit is in the spec, 4 when none is but one would be after its actions, 3 otherwise.
            """)

    @OptionGroup var rootOption: RootOption

    @Option(help: ArgumentHelp("The CDI kind, vendor/class.", valueName: "kind"))
    var kind: String = CDIReporter.defaultKind

    @Option(
        help: ArgumentHelp(
            "Device nodes: legacy (/dev/vfio/vfio and /dev/vfio/N), cdev (/dev/iommu and /dev/vfio/devices/vfioN), or auto (cdev when every unit has its cdevs and /dev/iommu exists).",
            valueName: "backend"))
    var backend: CDIReporter.Backend = .auto

    enum Include: String, ExpressibleByArgument { case bindable }
    @Option(help: ArgumentHelp("Also describe the units that are bindable (ready once their actions are done).", valueName: "bindable"))
    var include: Include?

    @Option(
        help: ArgumentHelp(
            "The weakest mode a unit may work in to be described: vfio (default), unsafe-interrupts (also units without interrupt isolation) or noiommu (also no-IOMMU units: no DMA isolation).",
            valueName: "mode"))
    var mode: RequiredMode = .vfio

    @Option(
        help: ArgumentHelp(
            "Write the spec to this file (/etc/cdi/vfio-probe.json, /var/run/cdi/...): written beside it as .NAME.tmp and renamed into place when complete.",
            valueName: "file"))
    var output: String?

    @Flag(help: "Exit 0 only when the spec holds a ready unit (4 when one would be after its actions, 3 when none).")
    var requireReady = false

    @Flag(help: "Skip the live proof: read sysfs, procfs and /dev only, make no ioctl.")
    var noLive = false

    func validate() throws {
        if !CDIReporter.isValidKind(kind) {
            throw ValidationError(
                "--kind must be vendor/class: a DNS subdomain, '/', and a name of 1 to 63 letters, digits, '-', '_' or '.', both starting with a letter"
            )
        }
    }

    func run() throws {
        var probe = Probe(root: rootOption.root)
        // As `check` without --device: this host's site checks may block a device (and the spec
        // must not call it ready), and the live walks stop before opening a device fd.
        probe.live = noLive ? .off : .stopBeforeDevices
        probe.lookUpNames = false
        let report: Report
        do { report = try probe.run() } catch {
            Terminal.error(error.description)
            throw ExitCode(1)
        }
        var o = CDIReporter.Options()
        o.kind = kind
        o.backend = backend
        o.includeBindable = include == .bindable
        o.minimumMode = mode.mode
        let spec = report.cdiSpec(o)
        for (u, why) in spec.leftOut {
            Terminal.error("\(u.name) (\(u.functions.map(\.description).joined(separator: ", "))) left out: \(why)")
        }
        if let json = spec.json {
            try Terminal.emit(to: output) { $0.write(json + "\n") }
        } else {
            Terminal.error(
                "no assignable unit to describe (\(spec.readyCount) ready, \(spec.bindableCount) bindable; --mode \(mode.rawValue) leaves out units that work only in a weaker mode): no spec written"
            )
            if let output, unlink(output) != 0, errno != ENOENT {
                Terminal.error("cannot remove \(output): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
        }
        guard requireReady else { throw ExitCode(0) }
        if spec.units.contains(where: { $0.readiness == .ready }) { throw ExitCode(0) }
        throw ExitCode(spec.bindableCount > 0 ? Verdict.afterActions : 3)
    }
}
