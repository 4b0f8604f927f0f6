import Foundation
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `credits serve` as a child process on port 0, with its whole stderr collected on a background thread
/// (so a chatty server never blocks on a full pipe) and the bound port read from its listening line.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var collected = Data()
    private var finished = false
    private(set) var port = 0

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: CreditsBinary.path)
        process.arguments = ["serve", "--port", "0"] + arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "CREDITS_NOW")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        let handle = stderr.fileHandleForReading
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                lock.withLock { if chunk.isEmpty { finished = true } else { collected += chunk } }
                if chunk.isEmpty { return }
            }
        }.start()
        for _ in 0..<600 {
            if let port = Self.listeningPort(in: stderrText) {
                self.port = port
                return
            }
            if lock.withLock({ finished }) { break }
            usleep(50_000)
        }
        process.terminate()
        throw ServeProcessError.didNotListen(stderrText)
    }

    var stderrText: String { lock.withLock { String(decoding: collected, as: UTF8.self) } }

    /// Sends SIGTERM, waits for the exit and for stderr to reach EOF; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        for _ in 0..<200 where !lock.withLock({ finished }) { usleep(10_000) }
        return process.terminationStatus
    }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    /// One request; the status, the headers and the body as text.
    func request(
        _ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil
    ) async throws -> (status: Int, headers: [AnyHashable: Any], body: String) {
        var request = URLRequest(url: url(path))
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, http.allHeaderFields, String(decoding: data, as: UTF8.self))
    }

    /// The port in the `listening on HOST:PORT` line, whether the line is text or JSON.
    static func listeningPort(in text: String) -> Int? {
        guard let range = text.range(of: #"listening on [^\s"]*:([0-9]+)"#, options: .regularExpression) else {
            return nil
        }
        return Int(text[range].split(separator: ":").last!)
    }
}

enum ServeProcessError: Error {
    case didNotListen(String)
}
