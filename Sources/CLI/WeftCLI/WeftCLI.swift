// WeftCLI: the `weft` command line as testable ArgumentParser types. It parses flags into validated
// values, builds the real clock, event loops and logger, and hands them to the assemblies (WeftControl).
