// weft-sample ROLE: the demo shop's services, the same as `weft sample ROLE` (see WeftSample).
import Foundation
import WeftSample

exit(await SampleApp.run(role: CommandLine.arguments.dropFirst().first ?? ""))
