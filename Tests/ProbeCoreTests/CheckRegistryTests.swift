import Foundation
import Live
import Testing
@testable import ProbeCore

/// Every check's own examples, run against their fixtures: status, and remedy for warn and fail. A
/// live check's run its walks against the scripted kernel, failing where the example says.
struct CheckExampleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let descriptor: CheckDescriptor
        let example: CheckExample
        var testDescription: String {
            "\(descriptor.id) on \(example.fixture)\(example.device.map { " [\($0)]" } ?? ""): \(example.status.rawValue)"
        }
    }

    static let cases: [Case] = CheckRegistry.all.flatMap { c in c.descriptor.examples.map { Case(descriptor: c.descriptor, example: $0) } }

    @Test(arguments: cases)
    func example(_ c: Case) throws {
        let e = c.example
        let devices = e.device.map { [$0] } ?? []
        let report: Report
        if c.descriptor.category == .live {
            let k = ScriptedKernel()
            if let f = e.liveFailure { k.failures[f.step] = f.errno }
            report = try liveProbe(try #require(HostFixture(rawValue: e.fixture), "no fixture \(e.fixture)"), devices: devices, kernel: k)
            #expect(k.leftNothingBehind)
        } else {
            report = try probe(
                try #require(HostFixture(rawValue: e.fixture), "no fixture \(e.fixture)"), devices: devices, only: [c.descriptor.id],
                workload: e.workload ?? Workload())
        }
        let subject: Subject = e.device.flatMap(PCIAddress.init).map { .device($0) } ?? .host
        let findings = report.findings.filter { $0.checkID == c.descriptor.id && $0.subject == subject }
        let match = findings.first { $0.status == e.status }
        #expect(match != nil, "expected \(e.status) among \(findings.map { "\($0.status): \($0.summary)" })")
        if let f = match {
            #expect(!f.summary.isEmpty)
            switch f.status {
            case .warn, .fail:
                #expect(f.remedy == (e.remedy ?? c.descriptor.remedy))
            case .pass:
                #expect(f.remedy == nil)
            case .skip:
                #expect(f.summary.hasPrefix("cannot tell: "))
            case .info:
                break
            }
        }
    }
}

struct CheckRegistryTests {
    @Test func idsAreUniqueAndWellFormed() throws {
        let checks = try CheckRegistry.validated()
        for c in checks {
            let id = c.descriptor.id
            #expect(id.split(separator: ".").count == 2, "\(id) is not area.name")
            #expect(id == id.lowercased() && !id.contains(" "))
        }
    }

    @Test func duplicateIDsAreRejected() {
        #expect(throws: CheckRegistry.SelectionError.duplicateID("vfio.modules")) {
            try CheckRegistry.validated([ModulesCheck.self, ModulesCheck.self])
        }
    }

    @Test func everyCheckDescribesItselfAndHasExamples() {
        for c in CheckRegistry.all {
            let d = c.descriptor
            #expect(!d.title.isEmpty && !d.rationale.isEmpty && !d.remedy.isEmpty && !d.looksAt.isEmpty, "\(d.id)")
            #expect(!d.examples.isEmpty, "\(d.id) has no examples")
            for e in d.examples {
                #expect(HostFixture(rawValue: e.fixture) != nil, "\(d.id): no fixture \(e.fixture)")
            }
        }
    }

    /// A check file that is not in the registry never runs: find every `struct X: Check` in the
    /// sources and require it to be registered.
    @Test func everyCheckFileIsRegistered() throws {
        let dir = Repo.root + "/Sources/ProbeCore/Checks"
        let files = FileManager.default.enumerator(atPath: dir)!.compactMap { $0 as? String }.filter { $0.hasSuffix("Check.swift") }
        var declared: Set<String> = []
        for f in files {
            let text = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains(": Check {") {
                if let name = line.split(separator: " ").drop(while: { $0 != "struct" }).dropFirst().first {
                    declared.insert(String(name.dropLast()))
                }
            }
            #expect(f.hasSuffix("Check.swift"))
        }
        let registered = Set(CheckRegistry.all.map { String(describing: $0) })
        #expect(!declared.isEmpty)
        #expect(declared == registered, "not registered: \(declared.subtracting(registered)); unknown: \(registered.subtracting(declared))")
    }

    @Test func selection() throws {
        #expect(try CheckRegistry.select(only: ["device"], skip: []).allSatisfy { $0.descriptor.category == .device })
        #expect(
            try CheckRegistry.select(only: ["iommu."], skip: ["iommu.groups"]).map { $0.descriptor.id }
                == ["iommu.units", "iommu.default-domain", "iommu.irq-remapping", "iommu.address-width", "iommu.scalable-mode"])
        #expect(throws: CheckRegistry.SelectionError.unknownID("nope")) { try CheckRegistry.select(only: ["nope"], skip: []) }
    }

    @Test func listingNamesEveryCheck() {
        let text = ChecksListing.render(verbose: true)
        for c in CheckRegistry.all {
            #expect(text.contains(c.descriptor.id))
            #expect(text.contains(c.descriptor.rationale))
        }
    }

    /// The man page documents every check id (GeneratedDocsTests checks the generated list is current).
    @Test func manPageNamesEveryCheck() throws {
        let man = try String(contentsOfFile: Repo.root + "/man/vfio-probe.1", encoding: .utf8)
        for c in CheckRegistry.all {
            #expect(man.contains(c.descriptor.id), "man/vfio-probe.1 does not mention \(c.descriptor.id)")
        }
    }
}
