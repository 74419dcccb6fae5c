/// Header edits: set replaces, append adds, remove deletes (lower-case names).
public struct HeaderEdits: Sendable, Equatable {
    public var `set`: [(String, String)]
    public var append: [(String, String)]
    public var remove: [String]

    public init(set: [(String, String)] = [], append: [(String, String)] = [], remove: [String] = []) {
        self.set = set
        self.append = append
        self.remove = remove
    }

    public var isEmpty: Bool { self.set.isEmpty && append.isEmpty && remove.isEmpty }

    @inlinable
    public func apply<H: EditableHeaders>(to headers: inout H) {
        for name in remove { headers.remove(name: name) }
        for (k, v) in self.set { headers.replaceOrAdd(name: k, value: v) }
        for (k, v) in append { headers.add(name: k, value: v) }
    }

    public static func == (a: HeaderEdits, b: HeaderEdits) -> Bool {
        a.set.map { $0.0 + "\u{0}" + $0.1 } == b.set.map { $0.0 + "\u{0}" + $0.1 }
            && a.append.map { $0.0 + "\u{0}" + $0.1 } == b.append.map { $0.0 + "\u{0}" + $0.1 } && a.remove == b.remove
    }
}
