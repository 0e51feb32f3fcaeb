extension CheckRegistry {
    /// Each registered check's category, by id (a site plugin's id is not among them).
    static let categoryByID: [String: Category] = Dictionary(
        all.map { ($0.descriptor.id, $0.descriptor.category) }, uniquingKeysWith: { a, _ in a })
}

extension Finding {
    /// A live check's finding (its descriptor's category is `.live`): what the kernel answered, not sysfs.
    var isLiveProof: Bool { CheckRegistry.categoryByID[self.checkID] == .live }
}
