// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vfio-probe",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vfio-probe", targets: ["vfio-probe"]),
        // The probe as a library: a Swift VMM or dataplane embeds it without a subprocess.
        .library(name: "VFIOProbe", targets: ["VFIOProbe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),  // FileDescriptor.pipe(options:)
    ],
    targets: [
        // libpci from Debian's libpci-dev, found through pkg-config.
        .systemLibrary(
            name: "CPCI",
            pkgConfig: "libpci",
            providers: [.apt(["libpci-dev"])]
        ),
        // zlib, for /proc/config.gz.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The only C code: what Swift cannot call (variadic syscall, prctl and
        // pci_lookup_name) and a setjmp guard around libpci's non-returning error callback.
        .target(
            name: "CShim",
            dependencies: ["CPCI"]
        ),
        // ACPI table decoders: bytes in, values out. No I/O; the fuzz targets build from these files.
        .target(name: "ACPI"),
        .target(
            name: "ProbeCore",
            dependencies: [
                "ACPI", "CShim", "CPCI", "CZlib",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The live half: every ioctl behind the VFIOKernel protocol, the uapi object types, the walks.
        .target(
            name: "Live",
            dependencies: [
                "ProbeCore", "CShim",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The public API: Probe (read, check, prove, fold), the values it returns, the formats.
        // Everything else stays behind it.
        .target(
            name: "VFIOProbe",
            dependencies: ["ProbeCore", "Live"]
        ),
        // The CLI: argument parsing and the terminal, over VFIOProbe alone.
        .executableTarget(
            name: "vfio-probe",
            dependencies: [
                "VFIOProbe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "ProbeCoreTests",
            dependencies: ["ACPI", "ProbeCore", "Live", "vfio-probe"],
            resources: []
        ),
        // Uses only what `import VFIOProbe` offers (no @testable): the library's API as a client sees it.
        .testTarget(
            name: "VFIOProbeAPITests",
            dependencies: ["VFIOProbe"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
