/// Numbers as sorted, comma-separated runs: [0, 1, 2, 3, 7] → "0-3,7". A large host's group
/// numbers stay one short line.
func idRanges(_ ids: [Int]) -> String {
    var out: [String] = []
    let sorted = ids.sorted()
    var i = 0
    while i < sorted.count {
        var j = i
        while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
        out.append(j == i ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
        i = j + 1
    }
    return out.joined(separator: ",")
}
