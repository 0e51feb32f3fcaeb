import ArgumentParser
import Glibc
import VFIOProbe

/// `vfio-probe diff OLD NEW`: what changed between two runs that matters to VFIO.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two reports (JSON files) or trees (snapshots): groups split or merged, drivers, readiness, the kernel.",
        discussion: """
            OLD and NEW are each a JSON report (vfio-probe --format json) or a tree laid out like / (a \
            snapshot's tree, read without the live proof). Exit status: 0 when nothing relevant changed, 1 when \
            something did (as diff(1)), 2 when a side could not be read.
            """)

    @Argument(help: ArgumentHelp("The earlier report or tree.", valueName: "old"))
    var old: String

    @Argument(help: ArgumentHelp("The later report or tree.", valueName: "new"))
    var new: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let a: DriftView
        let b: DriftView
        do {
            a = try Self.view(old)
            b = try Self.view(new)
        } catch {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        let changes = b.changes(since: a)
        try Terminal.emit { out in
            switch format {
            case .json:
                out.write(DriftChange.json(changes) + "\n")
            case .text:
                if changes.isEmpty { out.write("no relevant change\n") }
                for c in changes { out.write("\(Escaping.oneLine(c.description))\n") }
            }
        }
        throw ExitCode(changes.isEmpty ? 0 : 1)
    }

    struct Failure: Error {
        var message: String
    }

    /// A JSON report file, or a tree probed with --no-live.
    static func view(_ path: String) throws(Failure) -> DriftView {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Failure(message: "\(path): \(String(cString: strerror(errno)))") }
        if st.st_mode & S_IFMT == S_IFDIR {
            do { return try DriftView(tree: path) } catch { throw Failure(message: "\(path): \(error.description)") }
        }
        guard let bytes = Terminal.readFile(path, limit: 256 << 20) else {
            throw Failure(message: "\(path): \(String(cString: strerror(errno)))")
        }
        do { return try DriftView(reportJSON: String(decoding: bytes, as: UTF8.self)) } catch {
            throw Failure(message: "\(path): \(error.description)")
        }
    }
}
