import ArgumentParser
import Foundation
import Logging
import SpillwayTools

/// `spillway drill`: replays the incident on this machine, directly and through Spillway, and prints the numbers
/// side by side. Exit 0 when Spillway contained it, 1 when not, 2 when the drill could not be set up.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Replay the leaked-sessions incident against PostgreSQL, directly and through Spillway.",
        discussion: """
            Starts a throwaway PostgreSQL with max_connections 85 (unless --dsn is given), then runs the same \
            workload directly and through an in-process Spillway (defaults, except pool_mode = transaction): a \
            job that opens a session per item and never closes it, and an API sending short queries at a steady \
            rate. Exits 0 only if through Spillway the API kept at least 99.9% success and an admin could log in.
            """)

    @Option(help: "Use this PostgreSQL instead of a throwaway one: a superuser DSN, postgres://user:pass@host:port/db.")
    var dsn: String?

    @Option(help: "Seconds each run lasts.")
    var duration: Int = 60

    @Option(help: "Concurrent workers of the leaky job.")
    var leakers: Int = 40

    @Option(help: "Seconds between the items of one leaky worker (each item leaks a session).")
    var itemInterval: Double = 1

    @Option(help: "The most leaked sessions the drill holds open at once.")
    var maxLeaked: Int = 3000

    @Option(help: "Concurrent API clients.")
    var apiClients: Int = 20

    @Option(help: "Requests per second of each API client.")
    var apiRate: Double = 10

    @Option(help: "Seconds within which an API request must complete to count as a success.")
    var apiTimeout: Double = 2

    @Option(help: "Run only one half: direct or spillway.")
    var only: DrillMode?

    @Option(help: "Variants to run, comma-separated: labelled, unlabelled.")
    var variants: String = "labelled,unlabelled"

    @Option(help: "Also write the results as JSON to this file.")
    var json: String?

    func validate() throws {
        guard duration > 0, leakers >= 0, itemInterval > 0, maxLeaked >= 0, apiClients > 0, apiRate > 0, apiTimeout > 0
        else {
            throw ValidationError(
                "--duration, --item-interval, --api-clients, --api-rate and --api-timeout must be "
                    + "positive; --leakers and --max-leaked must not be negative")
        }
        _ = try parsedVariants()
    }

    func run() async throws {
        raiseOpenFileLimit(
            logger: Logger(label: "spillway-drill") { StreamLogHandler.standardError(label: $0) }, clients: 0)
        var options = DrillOptions()
        options.dsn = dsn
        options.duration = .seconds(duration)
        options.leakers = leakers
        options.itemInterval = .seconds(itemInterval)
        options.maxLeaked = maxLeaked
        options.apiClients = apiClients
        options.apiRate = apiRate
        options.apiTimeout = .seconds(apiTimeout)
        options.modes = only.map { [$0] } ?? [.direct, .spillway]
        options.variants = try parsedVariants()

        let drill = SpillwayTools.Drill(
            options: options, progress: { Self.printError($0) }, interrupts: InterruptCleanup())
        let report: DrillReport
        do {
            report = try await drill.run()
        } catch {
            Self.printError("spillway drill: \(error)")
            throw ExitCode(2)
        }
        print(report.text, terminator: "")
        if let json {
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            } catch {
                Self.printError("spillway drill: cannot write \(json): \(error)")
                throw ExitCode(2)
            }
        }
        if !report.verdict.passed {
            throw ExitCode(1)
        }
    }

    /// `--variants` as a list, in the order given.
    private func parsedVariants() throws -> [DrillVariant] {
        let parsed = try variants.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let variant = DrillVariant(rawValue: trimmed) else {
                throw ValidationError("--variants: unknown variant '\(trimmed)'; expected labelled, unlabelled")
            }
            return variant
        }
        guard !parsed.isEmpty else {
            throw ValidationError("--variants: name at least one of labelled, unlabelled")
        }
        return parsed
    }

    /// One line on stderr.
    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `--only direct|spillway`.
extension DrillMode: ExpressibleByArgument {}
