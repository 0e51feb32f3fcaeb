/// What the running host itself depends on, found per PCI function: the disks behind its mounts
/// and swap, the interfaces that carry its addresses and routes, the console. A function the
/// host uses is not one to give away: unbinding it takes `/`, the network or the screen with it.
public struct HostUse: Sendable {
    /// One way the host depends on a function.
    public enum Role: Sendable, Equatable, Hashable {
        /// A block device on the function holds mounted file systems (its name, the mount points).
        case mounts(block: String, points: [String])
        /// A block device on the function holds active swap.
        case swap(block: String)
        /// An interface on the function carries a default route.
        case defaultRoute(interface: String)
        /// An interface on the function has addresses (routes or a global IPv6 address):
        /// dpdk-devbind's `*Active*`.
        case active(interface: String)
        /// The firmware's boot VGA device (`boot_vga` reads 1): the console the firmware set up.
        case bootVGA
        /// A console framebuffer (efifb, vesafb, BOOTFB, simpledrm) lies in the function's BARs
        /// (`/proc/iomem` nests it under the function).
        case framebuffer(name: String)

        /// The role in a phrase: "holds / (nvme0n1p2)".
        public var summary: String {
            switch self {
            case .mounts(let block, let points): HostUse.describe([.mounts(block: block, points: points)])
            case .swap(let block): "holds active swap (\(block))"
            case .defaultRoute(let i): "carries the default route (\(i))"
            case .active(let i): "has addresses in use (\(i))"
            case .bootVGA: "is the boot VGA device (the firmware's console)"
            case .framebuffer(let name): "backs the console framebuffer (\(name) in its BAR)"
            }
        }
    }

    /// The roles of each function the host uses.
    public var roles: [PCIAddress: [Role]] = [:]
    /// Network interfaces on each function (`/sys/class/net/*`), for display beside it.
    public var interfaces: [PCIAddress: [String]] = [:]
    /// Whole disks on each function (`/sys/class/block/*` without partitions), for display.
    public var disks: [PCIAddress: [String]] = [:]
    /// What could not be read (mountinfo, routes, iomem): the roles may then be incomplete.
    public var problems: [String] = []

    public init() {}

    /// Roles in one phrase, the mounts gathered ("holds / and /boot (nvme0n1p2, nvme0n1p1);
    /// carries the default route (eno1)"): `/` first, then the other mount points in order.
    public static func describe(_ roles: [Role]) -> String {
        var mounts: [(point: String, block: String)] = []
        var rest: [String] = []
        for r in roles {
            if case .mounts(let block, let points) = r { mounts += points.map { ($0, block) } } else { rest.append(r.summary) }
        }
        mounts.sort { ($0.point == "/" ? 0 : 1, $0.point) < ($1.point == "/" ? 0 : 1, $1.point) }
        let points = unique(mounts.map(\.point))
        let shown = points.count <= 4 ? points : Array(points.prefix(3)) + ["\(points.count - 3) more"]
        let held = mounts.isEmpty ? [] : ["holds \(prose(shown)) (\(unique(mounts.map(\.block)).joined(separator: ", ")))"]
        return prose(held + unique(rest))
    }

    /// "a", "a and b", "a, b and c".
    static func prose(_ xs: [String]) -> String {
        xs.count <= 1 ? xs.joined() : xs.dropLast().joined(separator: ", ") + " and " + xs.last!
    }

    /// The names to show beside a function: interfaces, then disks.
    public func names(of a: PCIAddress) -> [String] { (interfaces[a] ?? []) + (disks[a] ?? []) }
}

extension Host {
    /// What the host keeps on function `a`: the roles read host-wide, and the boot VGA flag read
    /// with the function itself.
    public func hostUse(of a: PCIAddress) -> [HostUse.Role] {
        let r = use.roles[a] ?? []
        return devices[a]?.bootVGA == true && !r.contains(.bootVGA) ? r + [.bootVGA] : r
    }
}

/// One line of `/proc/self/mountinfo` (proc(5)): the device number, the mount point and the
/// source, with the kernel's octal escapes (`\040` for a space) undone.
///
///     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
struct MountInfoLine: Equatable {
    var major: UInt32
    var minor: UInt32
    var mountPoint: String
    var fsType: String
    var source: String

    init?(_ line: Substring) {
        let f = line.split(separator: " ", omittingEmptySubsequences: true)
        // Six fixed fields, optional fields, then "-" (a mount point "-" is field 4, before them).
        guard f.count >= 9, let sep = f[6...].firstIndex(of: "-"), sep + 2 < f.count else { return nil }
        let dev = f[2].split(separator: ":")
        guard dev.count == 2, let ma = UInt32(dev[0]), let mi = UInt32(dev[1]) else { return nil }
        major = ma
        minor = mi
        mountPoint = MountInfoLine.unescape(f[4])
        fsType = String(f[sep + 1])
        source = MountInfoLine.unescape(f[sep + 2])
    }

    /// `\NNN` (three octal digits) as the byte it stands for.
    static func unescape(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
                let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The routing facts of `/proc/net/route`, `/proc/net/ipv6_route` and `/proc/net/if_inet6`.
enum NetRoutes {
    /// Interfaces of `/proc/net/route` lines: each with whether it is a default route
    /// (destination and mask 0). The first line is the header.
    static func ipv4(_ text: String) -> [(interface: String, isDefault: Bool)] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count >= 8 else { return nil }
            // Flags: RTF_UP (0x1); a route that is not up does not carry traffic.
            guard let flags = UInt32(f[3], radix: 16), flags & 0x1 != 0 else { return nil }
            return (String(f[0]), f[1] == "00000000" && f[7] == "00000000")
        }
    }

    /// Interfaces with a default IPv6 route (`::/0`, up, not a reject route such as the
    /// kernel's unreachable entry on lo).
    static func ipv6Defaults(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 10, f[0].allSatisfy({ $0 == "0" }), f[1] == "00", let flags = UInt32(f[8], radix: 16) else { return nil }
            // RTF_UP 0x1; RTF_REJECT 0x200.
            guard flags & 0x1 != 0, flags & 0x200 == 0, f[9] != "lo" else { return nil }
            return String(f[9])
        }
    }

    /// Interfaces with an IPv6 address of global scope (scope 0x00; link-local 0x20 and host
    /// 0x10 are on every interface that is up).
    static func ipv6Global(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, f[3] == "00" else { return nil }
            return String(f[5])
        }
    }
}

/// The framebuffers of `/proc/iomem` and the PCI functions whose resources they are nested in.
/// Each line is `start-end : name`, indented two spaces per level of nesting.
enum IOMem {
    /// Region names the console framebuffers request (efifb.c, vesafb.c, sysfb_simplefb.c's
    /// BOOTFB, simpledrm).
    static let framebufferNames: Set<String> = [
        "efifb", "vesafb", "BOOTFB", "simpledrm", "simple-framebuffer", "efi-framebuffer", "vesa-framebuffer", "vga16fb",
    ]

    static func framebuffers(_ text: String) -> [PCIAddress: [String]] {
        var stack: [(depth: Int, name: Substring)] = []
        var out: [PCIAddress: [String]] = [:]
        for line in text.split(separator: "\n") {
            let depth = line.prefix(while: { $0 == " " }).count / 2
            guard let colon = line.firstRange(of: " : ") else { continue }
            let name = line[colon.upperBound...]
            while let last = stack.last, last.depth >= depth { stack.removeLast() }
            let base = name.split(separator: ".").first.map(String.init) ?? String(name)
            if IOMem.framebufferNames.contains(base) || IOMem.framebufferNames.contains(String(name)),
                let owner = stack.reversed().lazy.compactMap({ PCIAddress(String($0.name)) }).first
            {
                out[owner, default: []].append(String(name))
            }
            stack.append((depth, name))
        }
        return out
    }
}
