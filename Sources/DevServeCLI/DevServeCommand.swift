import ArgumentParser
import DevServer

/// `devserve`: the root command. `devserve PLUGIN.so` runs ``Serve``.
@main
struct DevServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devserve",
        abstract: "A development server and live request inspector for WSGI-model web applications compiled as native plugins.",
        discussion: """
            Serves PLUGIN.so (a shared library exporting devserve_plugin_entry, built with the \
            DevServeSDK or against devserve.h) on 127.0.0.1. The application runs in a worker \
            process: if it crashes, devserve reports why and starts a new worker at once.
            """,
        version: DevServeVersion.current,
        subcommands: [Serve.self, WorkerCommand.self],
        defaultSubcommand: Serve.self)
}
