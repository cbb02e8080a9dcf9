import ArgumentParser
import TUI

/// `devserve inspector-bench`: the inspector's figures for bench/run.sh (hidden).
struct InspectorBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspector-bench", abstract: "Measure the inspector with a large capture (bench/run.sh).", shouldDisplay: false)

    @Option(help: "Captured entries.") var entries = 100_000
    @Option(help: "Requests per second recorded while keys are pressed.") var rate = 10_000
    @Option(help: "Seconds of key presses.") var seconds = 5.0

    func run() throws {
        var options = InspectorBenchmark.Options()
        options.entries = entries
        options.rate = rate
        options.seconds = seconds
        for line in try InspectorBenchmark.run(options) { print(line) }
    }
}
