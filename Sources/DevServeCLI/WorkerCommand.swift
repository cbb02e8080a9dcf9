import ArgumentParser
import DevServer

/// `devserve worker …`: the process the supervisor spawns for each plugin generation. Hidden:
/// users never run it themselves.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Serve one plugin generation for a supervisor (internal).", shouldDisplay: false)

    @Argument var plugin: String
    @Option var generation = 1
    @Option var instance = 1
    @Option var threads = 32
    @Option var eventLoops = 1
    @Option var serverName = "127.0.0.1"
    @Option var serverPort = 8000
    @Option var copyDir: String?
    @Option var parent: Int32 = 0
    @OptionGroup var limitOptions: LimitOptions
    @Option var maxBody = 1 << 20
    @Flag var noCapture = false

    func run() throws {
        var configuration = Worker.Configuration(pluginPath: plugin, generation: generation)
        configuration.instance = instance
        configuration.threads = threads
        configuration.eventLoops = eventLoops
        configuration.serverName = serverName
        configuration.serverPort = serverPort
        configuration.copyDirectory = copyDir
        configuration.parentPID = parent
        configuration.limits = limitOptions.limits
        configuration.maxBody = maxBody
        configuration.capture = !noCapture
        Worker.run(configuration)
    }
}
