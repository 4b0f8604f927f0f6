// Reads back what the report writers produce, independently of libxlsxwriter: unzip with
// ZIPFoundation and parse the parts with Foundation's XMLParser. Only what tests check is read.
import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: name (with its prefix, e.g. `c:f`), attributes, text and children.
public final class XMLElementNode {
    public let name: String
    public let attributes: [String: String]
    public fileprivate(set) var text = ""
    public fileprivate(set) var children: [XMLElementNode] = []

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    /// The element's local name, without any namespace prefix.
    public var localName: String { name.split(separator: ":").last.map(String.init) ?? name }

    /// Every descendant (depth first) whose local name is `localName`.
    public func descendants(_ localName: String) -> [XMLElementNode] {
        var found: [XMLElementNode] = []
        var stack = Array(children.reversed())
        while let node = stack.popLast() {
            if node.localName == localName { found.append(node) }
            stack.append(contentsOf: node.children.reversed())
        }
        return found
    }

    public func first(_ localName: String) -> XMLElementNode? { descendants(localName).first }

    /// The concatenated text of this element and all its descendants.
    public var allText: String { text + children.map(\.allText).joined() }

    /// Parses a whole document; throws if it is not well-formed.
    public static func parse(_ data: Data) throws -> XMLElementNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw XLSXReadError.malformedXML(parser.parserError.map { "\($0)" } ?? "no root element")
        }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLElementNode?
    var stack: [XMLElementNode] = []

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        let node = XMLElementNode(name: elementName, attributes: attributeDict)
        if let parent = stack.last { parent.children.append(node) } else { root = node }
        stack.append(node)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }
}

public enum XLSXReadError: Error, CustomStringConvertible {
    case missingPart(String)
    case malformedXML(String)
    case noSuchSheet(String)

    public var description: String {
        switch self {
        case .missingPart(let path): "no part \(path) in the workbook"
        case .malformedXML(let message): "malformed XML: \(message)"
        case .noSuchSheet(let name): "no sheet named \(name)"
        }
    }
}

/// One cell as stored in the sheet XML.
public struct XLSXCell: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `<c>` without `t` (or `t="n"`): a number, possibly with a date format.
        case number
        /// `t="s"`: an index into the shared strings.
        case sharedString
        /// `t="inlineStr"`: text inside the cell (constant-memory mode).
        case inlineString
        /// `t="str"`: a formula's cached text result.
        case formulaString
        case boolean
        case error
    }

    public let reference: String
    public let kind: Kind
    /// The text for string cells, the raw `<v>` for numbers.
    public let value: String
    /// The formula without a leading `=`, if any.
    public let formula: String?
    /// The cell's number format code (`General` when none).
    public let numberFormat: String
    public let isBold: Bool

    /// The value as a number, for number cells.
    public var number: Double? { kind == .number ? Double(value) : nil }

    /// True for the two ways text is stored (neither can be a formula).
    public var isText: Bool { kind == .sharedString || kind == .inlineString }
}

/// A worksheet read back: cells by reference plus the view and filter settings.
public struct XLSXSheet: Sendable {
    public let name: String
    public let cells: [String: XLSXCell]
    /// The `<pane>` attributes (`topLeftCell`, `state`, `ySplit`), nil when there is none.
    public let pane: [String: String]?
    /// The `<autoFilter ref>`.
    public let autoFilterReference: String?
    /// Column widths by 1-based column number.
    public let columnWidths: [Int: Double]
    /// Relationship targets of drawings on this sheet (e.g. `../drawings/drawing1.xml`).
    public let hasDrawing: Bool

    public subscript(_ reference: String) -> XLSXCell? { cells[reference] }

    /// The highest row number with a cell.
    public var lastRow: Int {
        cells.keys.map { Int($0.drop(while: \.isLetter)) ?? 0 }.max() ?? 0
    }

    /// The row's cells from column A up to `columns` (nil where empty).
    public func row(_ number: Int, columns: Int) -> [XLSXCell?] {
        (0..<columns).map { cells["\(XLSXFile.columnLetters($0))\(number)"] }
    }
}

/// An .xlsx file opened for reading.
public struct XLSXFile {
    private let archive: Archive
    /// Sheet names in workbook order, with their part paths.
    public let sheets: [(name: String, path: String)]
    private let sharedStrings: [String]
    /// Number format codes and boldness by cell style index (`s` attribute).
    private let styles: [(format: String, bold: Bool)]

    public init(url: URL) throws {
        archive = try Archive(url: url, accessMode: .read)
        let workbook = try Self.xml(archive, "xl/workbook.xml")
        let relations = try Self.xml(archive, "xl/_rels/workbook.xml.rels")
        var targets: [String: String] = [:]
        for relation in relations.descendants("Relationship") {
            targets[relation.attributes["Id"] ?? ""] = relation.attributes["Target"]
        }
        sheets = workbook.descendants("sheet").map { sheet in
            let target = targets[sheet.attributes["r:id"] ?? ""] ?? ""
            return (sheet.attributes["name"] ?? "", target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target)
        }
        sharedStrings = (try? Self.xml(archive, "xl/sharedStrings.xml"))?.descendants("si").map(\.allText) ?? []
        styles = try Self.readStyles(archive)
    }

    public var sheetNames: [String] { sheets.map(\.name) }

    /// The raw text of a part, or nil if absent.
    public func part(_ path: String) throws -> String? {
        guard let entry = archive[path] else { return nil }
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Every part path in the archive.
    public var partPaths: [String] { archive.map(\.path) }

    /// Core document properties by local name: `title`, `subject`, `creator`, `created`, ...
    public func coreProperties() throws -> [String: String] {
        let core = try Self.xml(archive, "docProps/core.xml")
        var properties: [String: String] = [:]
        for child in core.children { properties[child.localName] = child.allText }
        return properties
    }

    /// Extended properties (`docProps/app.xml`), e.g. `Company`.
    public func appProperties() throws -> [String: String] {
        let app = try Self.xml(archive, "docProps/app.xml")
        var properties: [String: String] = [:]
        for child in app.children { properties[child.localName] = child.allText }
        return properties
    }

    /// Reads one worksheet.
    public func sheet(_ name: String) throws -> XLSXSheet {
        guard let path = sheets.first(where: { $0.name == name })?.path else { throw XLSXReadError.noSuchSheet(name) }
        let root = try Self.xml(archive, path)
        var cells: [String: XLSXCell] = [:]
        for cell in root.descendants("c") {
            let parsed = readCell(cell)
            cells[parsed.reference] = parsed
        }
        var widths: [Int: Double] = [:]
        for column in root.descendants("col") {
            guard let min = Int(column.attributes["min"] ?? ""), let max = Int(column.attributes["max"] ?? ""),
                let width = Double(column.attributes["width"] ?? "")
            else { continue }
            for index in min...max { widths[index] = width }
        }
        return XLSXSheet(
            name: name, cells: cells, pane: root.first("pane")?.attributes,
            autoFilterReference: root.first("autoFilter")?.attributes["ref"], columnWidths: widths,
            hasDrawing: root.first("drawing") != nil)
    }

    private func readCell(_ cell: XMLElementNode) -> XLSXCell {
        let type = cell.attributes["t"] ?? "n"
        let raw = cell.first("v")?.text ?? ""
        let kind: XLSXCell.Kind
        let value: String
        switch type {
        case "s":
            kind = .sharedString
            value = Int(raw).flatMap { $0 < sharedStrings.count ? sharedStrings[$0] : nil } ?? ""
        case "inlineStr":
            kind = .inlineString
            value = cell.first("is")?.allText ?? ""
        case "str": (kind, value) = (.formulaString, raw)
        case "b": (kind, value) = (.boolean, raw)
        case "e": (kind, value) = (.error, raw)
        default: (kind, value) = (.number, raw)
        }
        let style = Int(cell.attributes["s"] ?? "0") ?? 0
        let format = style < styles.count ? styles[style] : (format: "General", bold: false)
        return XLSXCell(reference: cell.attributes["r"] ?? "", kind: kind, value: value,
                        formula: cell.first("f")?.text, numberFormat: format.format, isBold: format.bold)
    }

    /// The built-in number formats libxlsxwriter maps common codes to.
    static let builtInFormats = [
        0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 14: "m/d/yyyy",
        22: "m/d/yyyy h:mm", 49: "@",
    ]

    private static func readStyles(_ archive: Archive) throws -> [(format: String, bold: Bool)] {
        let styles = try xml(archive, "xl/styles.xml")
        var formats = builtInFormats
        for format in styles.descendants("numFmt") {
            if let id = Int(format.attributes["numFmtId"] ?? "") { formats[id] = format.attributes["formatCode"] }
        }
        let fonts = styles.first("fonts")?.children.map { $0.first("b") != nil } ?? []
        let xfs = styles.first("cellXfs")?.children ?? []
        return xfs.map { xf in
            let format = formats[Int(xf.attributes["numFmtId"] ?? "0") ?? 0] ?? "?"
            let font = Int(xf.attributes["fontId"] ?? "0") ?? 0
            return (format, font < fonts.count && fonts[font])
        }
    }

    private static func xml(_ archive: Archive, _ path: String) throws -> XMLElementNode {
        guard let entry = archive[path] else { throw XLSXReadError.missingPart(path) }
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return try XMLElementNode.parse(data)
    }

    /// `0 -> A`, `26 -> AA`.
    public static func columnLetters(_ column: Int) -> String {
        var index = column + 1
        var letters = ""
        while index > 0 {
            letters = String(UnicodeScalar(UInt8(65 + (index - 1) % 26))) + letters
            index = (index - 1) / 26
        }
        return letters
    }

    /// Excel's serial date (1900 system) for a calendar date.
    public static func serial(year: Int, month: Int, day: Int) -> Double {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: components)!
        return (date.timeIntervalSince1970 / 86_400).rounded() + 25_569
    }
}
