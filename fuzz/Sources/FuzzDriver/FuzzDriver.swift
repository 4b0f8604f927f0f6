/// libFuzzer's own driver, called from each harness's `main.swift`.
///
/// Why not libFuzzer's `main`: SwiftPM links an executable target with `main` defined as the
/// target's entry point (`--defsym main=<target>_main`), so libFuzzer's `main` is never used and a
/// harness without top-level code does not link. Each harness therefore has top-level code that
/// hands its callback to `LLVMFuzzerRunDriver`, which parses the usual libFuzzer flags.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer with this process's arguments and `callback`; returns its exit code.
public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
