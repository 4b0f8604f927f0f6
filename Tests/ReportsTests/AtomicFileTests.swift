import Foundation
@testable import Reports
import Testing
import TestSupport

/// Goal (issue 15, kill -9 sweep): a report or invoice stage killed while writing leaves its
/// temporary beside the destination (SIGKILL runs no `deinit`); the next write of that destination
/// removes it, and keeps the temporary of a process still running.
struct AtomicFileTests {
    /// The id of a process that has exited.
    static func deadProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test func theNextWriteRemovesTheTemporaryOfAKilledRun() throws {
        let directory = TemporaryDirectory("atomic-file")
        let destination = URL(fileURLWithPath: directory.file("credits-invoice-2026-11.xlsx"))
        let abandoned = directory.file(".credits-invoice-2026-11.xlsx.\(try Self.deadProcessID())-k1ll3d.tmp")
        let live = directory.file(".credits-invoice-2026-11.xlsx.\(getppid())-l1v3.tmp")
        let other = directory.file(".credits-report-2026-11.xlsx.\(try Self.deadProcessID())-0th3r.tmp")
        for path in [abandoned, live, other] { #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }

        let file = try AtomicFile(destination: destination)
        try file.commit()

        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: live), "a running process's temporary is kept")
        #expect(FileManager.default.fileExists(atPath: other), "another destination's temporary is its own")
        #expect(FileManager.default.fileExists(atPath: destination.path))
    }
}
