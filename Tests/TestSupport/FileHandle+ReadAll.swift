import Foundation

extension FileHandle {
    /// Every byte up to end of file, retrying a read that a signal interrupted.
    ///
    /// Why not `readDataToEndOfFile()`: swift-corelibs-foundation traps on `EINTR` (a fatal error, not a
    /// thrown one), and a test process that runs child processes and servers gets signals, so a whole test
    /// run died in the middle of reading a child's output.
    public func readAllRetryingInterrupts() -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                data.append(contentsOf: buffer[..<count])
            } else if count == 0 {
                return data
            } else if errno != EINTR {
                preconditionFailure("reading a child's output failed: errno \(errno)")
            }
        }
    }
}
