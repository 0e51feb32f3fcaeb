import CZlib

enum Gzip {
    /// Inflates a gzip stream (/proc/config.gz). Returns nil on a corrupt stream or past `limit` bytes.
    static func decompress(_ input: [UInt8], limit: Int = 16 << 20) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let ret: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                if ret == Z_STREAM_END { return Z_OK }
                if ret != Z_OK || output.count > limit { return Z_DATA_ERROR }
                if produced == 0 && stream.avail_in == 0 { return Z_DATA_ERROR }
            }
        }
        return status == Z_OK ? output : nil
    }
}
