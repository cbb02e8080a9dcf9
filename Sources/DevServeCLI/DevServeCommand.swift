import ArgumentParser
import DevServer

/// `devserve`: the root command. `devserve PLUGIN.so` runs ``Serve``.
struct DevServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devserve",
        abstract: "A development server and live request inspector for WSGI web applications: Python (Flask, Django, any PEP 3333 callable) or native plugins.",
        version: DevServeVersion.current,
        subcommands: [Serve.self, ListCommand.self, ShowCommand.self, CaptureControlCommand.self, ReloadCommand.self, RestartCommand.self, ReplayCommand.self, ExportCommand.self, WorkerCommand.self, InspectorBenchCommand.self],
        defaultSubcommand: Serve.self)
}

/// The entry point. `devserve --help` shows the help of `devserve PLUGIN.so`, what nearly
/// every user wants, instead of a list of subcommands.
@main
enum Main {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] {
            // Also the Python a Python application would run on, as `flask --version` does.
            print(DevServeVersion.current)
            do {
                let interpreter = try PythonInterpreter.probe(PythonInterpreter.defaultCommand)
                try interpreter.checkEmbeddable()
                print(interpreter.summary)
            } catch {
                print("Python: none usable (\(error))")
            }
            return
        }
        if arguments == ["--help"] || arguments == ["-h"] || arguments == ["help"] {
            let help = DevServeCommand.helpMessage(for: Serve.self, columns: nil)
            print(help.replacingOccurrences(of: "devserve serve", with: "devserve"))
            print(subcommandsHelp)
            return
        }
        DevServeCommand.main()
    }
}

/// The commands that talk to a running devserve, one line each, for `devserve --help`.
private var subcommandsHelp: String {
    let commands: [any ParsableCommand.Type] = [ListCommand.self, ShowCommand.self, ReplayCommand.self, ExportCommand.self, CaptureControlCommand.self, ReloadCommand.self, RestartCommand.self]
    let names = commands.map { $0.configuration.commandName ?? "" }
    let width = (names.map(\.count).max() ?? 0) + 2
    var text = "COMMANDS (from another terminal, while devserve runs):\n"
    for (command, name) in zip(commands, names) {
        text += "  " + name + String(repeating: " ", count: width - name.count) + command.configuration.abstract + "\n"
    }
    return text + "  Each has its own --help, e.g. `devserve ls --help`.\n"
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
