import Foundation
import Testing

/// The layering the package promises, read from the sources.
@Suite("Architecture")
struct ArchitectureTests {
    private func sources(_ folder: String) throws -> [(name: String, text: String)] {
        let dir = "\(Repo.root)/Sources/\(folder)"
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".swift") }.sorted().map {
            ($0, try String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8))
        }
    }

    @Test("the CLI uses only the VFIOProbe library, never ProbeCore or Live behind it")
    func cliImportsOnlyTheLibrary() throws {
        let allowed: Set<String> = ["ArgumentParser", "VFIOProbe", "SystemPackage", "Glibc"]
        let files = try sources("vfio-probe")
        #expect(files.count >= 4)
        for (name, text) in files {
            let imports = text.split(separator: "\n").filter { $0.hasPrefix("import ") || $0.hasPrefix("@testable import ") }
                .map { String($0.split(separator: " ").last!) }
            #expect(imports.contains("VFIOProbe") || !text.contains("Probe("), "\(name)")
            for i in imports { #expect(allowed.contains(i), "\(name) imports \(i)") }
        }
    }

    @Test("every public declaration of the library carries a doc comment")
    func publicAPIIsDocumented() throws {
        var seen = 0
        for (name, text) in try sources("VFIOProbe") {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            for (i, line) in lines.enumerated() where line.hasPrefix("public ") {
                seen += 1
                // Protocol witnesses (description, init?(argument:)) are documented by their protocol.
                if line.hasPrefix("public var description") { continue }
                var j = i - 1
                while j >= 0, lines[j].hasPrefix("//") && !lines[j].hasPrefix("///") || lines[j].hasPrefix("@") { j -= 1 }
                #expect(j >= 0 && lines[j].hasPrefix("///"), "\(name):\(i + 1): \(line)")
            }
        }
        #expect(seen > 30)
    }
}
