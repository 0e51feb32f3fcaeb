import Synchronization

/// One unit of the reader's work; jobs are independent of one another, so a whole host's run on
/// all cores.
enum ReadJob: Sendable {
    /// Everything that is not a PCI function or a group: kernel, modules, /dev, firmware, …
    case hostWide
    /// One function; `listVFs` for a PF the user named (a readlink per VF).
    case function(PCIAddress, listVFs: Bool)
    /// One group's attributes, apart from its members.
    case group(Int)
}

/// What a job found: values only.
enum ReadResult: Sendable {
    case hostWide(HostWide)
    case function(FunctionReading)
    case group(Int, GroupAttributes)
}

/// One function as read, or why it could not be.
struct FunctionReading: Sendable {
    var device: PCIDevice?
    var problems: [String] = []
}

/// What one reading thread owns: a libpci handle for config space (libpci is not thread-safe)
/// and the folders it reads functions and groups beneath, opened on first use.
struct ReadWorker {
    let fs: HostFS
    let pci: PCIConfigReader
    private var devicesFolder: Reading<HostDirectory>?
    private var groupsFolder: Reading<HostDirectory>?
    /// The folder of the bridge the last function was under: the next ones (a PF's VFs, a
    /// device's functions) are usually under it too.
    private var bridge: (path: Substring, folder: HostDirectory)?

    init(fs: HostFS) {
        self.fs = fs
        pci = PCIConfigReader(root: fs.root)
    }

    /// /sys/bus/pci/devices, opened once for this worker.
    mutating func devices() -> Reading<HostDirectory> {
        if let f = devicesFolder { return f }
        let f = fs.directory(HostReader.pciDevices)
        devicesFolder = f
        return f
    }

    /// /sys/kernel/iommu_groups, opened once for this worker.
    mutating func groups() -> Reading<HostDirectory> {
        if let f = groupsFolder { return f }
        let f = fs.directory(HostReader.iommuGroups)
        groupsFolder = f
        return f
    }

    /// A function's folder, opened beneath its bridge's folder as the kernel's link says
    /// ("../../../devices/pci0000:00/0000:00:01.0/BDF"), and known by the link's path; a link of
    /// any other shape is followed from the root.
    mutating func functionFolder(_ path: String, name: String, target: String?) -> Reading<HostDirectory> {
        let prefix = "../../../devices/"
        guard let target, target.hasPrefix(prefix),
            target.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).allSatisfy({
                !$0.isEmpty && $0 != "." && $0 != ".."
            }),
            let slash = target.lastIndex(of: "/")
        else { return fs.directory(path) }
        let parent = target[target.index(target.startIndex, offsetBy: prefix.count - "devices/".count)..<slash]  // "devices/…"
        if bridge?.path != parent {
            guard let folder = fs.directory("/sys/" + parent).value else { return fs.directory(path) }
            bridge = (parent, folder)
        }
        // A function folder that is itself a link (not what sysfs has) is followed the careful way.
        let folder = bridge!.folder.directory(name, as: path)
        return folder.value == nil ? fs.directory(path) : folder
    }

    mutating func run(_ job: ReadJob) -> ReadResult {
        switch job {
        case .hostWide: return .hostWide(HostReader(fs: fs).readHostWide(scope: .all))
        case .function(let a, let listVFs): return .function(readFunction(a, listVFs: listVFs))
        case .group(let id): return .group(id, readGroupAttributes(id))
        }
    }
}

/// pci.ids names, looked up once every function is read and the host's identities are known
/// (libpci is given only their lines), each identity once (a large SR-IOV host repeats a few
/// thousands of times). One libpci handle, behind a lock, so that the reader may share it.
final class PCINames: Sendable {
    private let state: Mutex<(reader: PCIConfigReader, known: [PCIConfigReader.Identity: PCIConfigReader.Names])>

    init(root: String) { state = Mutex((PCIConfigReader(root: root), [:])) }

    /// Loads the names of the identities on the host (see `PCIIDsSubset`).
    func load(_ identities: Set<PCIConfigReader.Identity>) { state.withLock { _ = $0.reader.loadNames(identities) } }

    func name(_ d: inout PCIDevice) {
        let id = PCIConfigReader.Identity(d)
        let n = state.withLock { s in
            if let n = s.known[id] { return n }
            let n = s.reader.names(of: id)
            s.known[id] = n
            return n
        }
        d.update { ($0.vendorName, $0.deviceName, $0.className) = (n.vendor, n.device, n.cls) }
    }
}
