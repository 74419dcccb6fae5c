// The `weft` executable: parse the command line and run it. Everything else lives in the libraries.
import WeftCLI

@main
struct Weft {
    static func main() async {
        await WeftCommand.main()
    }
}
