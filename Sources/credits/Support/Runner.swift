import ArgumentParser
import Foundation
import Ledger

/// Exit codes: Ledger's `StageExit`, the one table.
enum ExitStatus {
    static let done = StageExit.done.rawValue
    static let doneWithExceptions = StageExit.doneWithExceptions.rawValue

    static func code(for failure: FailureClass) -> Int32 { StageExit(failure).rawValue }
}

/// What a stage produced: its JSON summary, the lines a person reads, and whether something
/// needs review (exit 3).
struct StageOutcome<Summary: Encodable> {
    var summary: Summary
    var human: [String]
    var needsReview: Bool = false
    /// A stage that finished but must report bad input data (65), e.g. ingest with a file refused
    /// whole while the other files were staged; the summary is still printed.
    var badData: Bool = false
}

/// The envelope of every `--json` summary: the command, its exit code, its duration, the build
/// (version and commit), then the stage's own fields under `result`.
private struct Envelope<Summary: Encodable>: Encodable {
    let command: String
    let ok: Bool
    let exitCode: Int32
    let durationMs: Int
    let version = BuildInfo.version
    let commit = BuildInfo.commit
    let result: Summary?
    let error: ErrorBody?

    init(command: String, ok: Bool, exitCode: Int32, durationMs: Int, result: Summary?, error: ErrorBody?) {
        self.command = command
        self.ok = ok
        self.exitCode = exitCode
        self.durationMs = durationMs
        self.result = result
        self.error = error
    }
}

/// The `result` of an envelope that has none (a command refused before it ran).
private struct NoSummary: Encodable {}

private struct ErrorBody: Encodable {
    let kind: FailureClass
    let message: String
}

enum Runner {
    /// Runs one stage: takes its lock (if it has one), runs `body`, prints the summary (JSON on
    /// stdout with `--json`, human lines otherwise), and exits with the right code.
    static func run<Summary: Encodable>(
        _ command: String, options: GlobalOptions, lock: Bool = true, humanToStdout: Bool = false,
        _ body: () throws -> StageOutcome<Summary>
    ) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let result: Result<StageOutcome<Summary>, any Error>
        do {
            let held = lock ? try StageLock(
                stage: command, databasePath: options.db, wait: options.wait, now: try options.clock()()) : nil
            result = .success(try body())
            withExtendedLifetime(held) {}
        } catch let error as ValidationError {
            throw error
        } catch {
            result = .failure(error)
        }
        try finish(command, json: options.json, humanToStdout: humanToStdout, started: started, result)
    }

    /// `run` for a stage whose work is asynchronous (the PostgreSQL store), without a stage lock.
    static func runAsync<Summary: Encodable>(
        _ command: String, json: Bool, humanToStdout: Bool = false,
        _ body: () async throws -> StageOutcome<Summary>
    ) async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let result: Result<StageOutcome<Summary>, any Error>
        do {
            result = .success(try await body())
        } catch let error as ValidationError {
            throw error
        } catch {
            result = .failure(error)
        }
        try finish(command, json: json, humanToStdout: humanToStdout, started: started, result)
    }

    /// Prints what a stage produced, or its error, and throws its exit code unless it is 0.
    private static func finish<Summary: Encodable>(
        _ command: String, json: Bool, humanToStdout: Bool, started: UInt64, _ result: Result<StageOutcome<Summary>, any Error>
    ) throws {
        let elapsed = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        let code: Int32
        switch result {
        case .success(let outcome):
            code = outcome.badData ? ExitStatus.code(for: .badData)
                : outcome.needsReview ? ExitStatus.doneWithExceptions : ExitStatus.done
            if json {
                printJSON(Envelope(command: command, ok: true, exitCode: code, durationMs: elapsed,
                                   result: outcome.summary, error: nil))
            }
            let lines = outcome.human.joined(separator: "\n")
            if !lines.isEmpty {
                if humanToStdout && !json { print(lines) } else { printError(lines) }
            }
        case .failure(let error):
            let classified = error as? ClassifiedError
            code = ExitStatus.code(for: classified?.failureClass ?? .internal)
            let message = classified?.description ?? "internal error: \(error)"
            if json {
                printJSON(Envelope<Summary>(
                    command: command, ok: false, exitCode: code, durationMs: elapsed, result: nil,
                    error: ErrorBody(kind: classified?.failureClass ?? .internal, message: message)))
            }
            printError("credits \(command): error: \(message)")
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// The error envelope for a command line refused before any stage ran (exit 64), printed on
    /// stdout with `--json` as well as ArgumentParser's message on stderr.
    static func printUsageError(command: String, code: Int32, message: String) {
        printJSON(Envelope<NoSummary>(
            command: command, ok: false, exitCode: code, durationMs: 0, result: nil,
            error: ErrorBody(kind: .usage, message: message)))
    }

    static func printJSON<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let data = try encoder.encode(value)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } catch {
            printError("credits: error: cannot encode the summary: \(error)")
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether stderr is a terminal, so progress is drawn only for people.
var standardErrorIsTerminal: Bool { isatty(FileHandle.standardError.fileDescriptor) != 0 }
