/// What the firmware says about interrupt remapping and x2APIC.
public struct FirmwareInterruptRemappingCheck: Check {
    public static let descriptor = CheckDescriptor(
        id: "firmware.interrupt-remapping",
        title: "Firmware declares interrupt remapping",
        category: .firmware,
        rationale:
            "DMAR flag INTR_REMAP says the platform supports interrupt remapping; without it VT-d cannot isolate MSIs, and type1 refuses to attach without allow_unsafe_interrupts. X2APIC_OPT_OUT asks the OS to stay in xAPIC mode, which on many kernels also leaves interrupt remapping off or limited.",
        remedy:
            "Enable interrupt remapping / x2APIC in the firmware setup, or update the firmware; as a last resort for a known-good platform: intremap=no_x2apic_optout.",
        looksAt: ["DMAR flags (bits 0, 1)"],
        examples: [.pass("intel-vfio-ready"), .warn("intel-no-ir"), .warn("rmrr-direct")], decides: false)

    public static func evaluate(_ context: CheckContext) -> [Finding] {
        guard let d = context.host.firmware.dmar else { return [] }
        let ev = [Evidence("/sys/firmware/acpi/tables/DMAR", "flags 0x\(hex(d.flags, 2))")]
        if !d.interruptRemapping {
            return [finding(.warn, "DMAR does not set INTR_REMAP: the firmware declares no interrupt remapping", evidence: ev)]
        }
        if d.x2APICOptOut {
            return [finding(.warn, "DMAR sets X2APIC_OPT_OUT: the firmware asks the OS to stay in xAPIC mode", evidence: ev)]
        }
        return [finding(.pass, "DMAR declares interrupt remapping (INTR_REMAP) without x2APIC opt-out", evidence: ev)]
    }
}
