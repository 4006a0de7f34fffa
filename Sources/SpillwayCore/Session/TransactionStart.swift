/// Whether a simple Query's text opens a transaction block: its first statement, after whitespace and
/// comments (`-- …` and nested `/* … */`), is `BEGIN` or `START TRANSACTION` (any letter case). Only the first
/// word matters: `BEGIN; SELECT 1` opens one, `SELECT 1; BEGIN` is judged by its first statement.
public enum TransactionStart {
    public static func opens<Bytes: Collection<UInt8>>(_ text: Bytes) -> Bool where Bytes.Index == Int {
        var index = text.startIndex
        let end = text.endIndex
        // Skip whitespace and comments.
        while index < end {
            let byte = text[index]
            if byte == 0x20 || (0x09...0x0D).contains(byte) || byte == 0x3B {  // space, \t…\r, ';'
                index += 1
            } else if byte == 0x2D, index + 1 < end, text[index + 1] == 0x2D {  // -- to end of line
                while index < end, text[index] != 0x0A { index += 1 }
            } else if byte == 0x2F, index + 1 < end, text[index + 1] == 0x2A {  // /* nested */
                var depth = 1
                index += 2
                while index < end, depth > 0 {
                    if text[index] == 0x2F, index + 1 < end, text[index + 1] == 0x2A {
                        depth += 1
                        index += 2
                    } else if text[index] == 0x2A, index + 1 < end, text[index + 1] == 0x2F {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                }
            } else {
                break
            }
        }
        let word = keyword(text, from: index)
        if word == "begin" { return true }
        guard word == "start" else { return false }
        var next = index + 5
        while next < end, text[next] == 0x20 || (0x09...0x0D).contains(text[next]) { next += 1 }
        return keyword(text, from: next) == "transaction"
    }

    /// The identifier-like word at `index`, lowercased (at most 12 letters: enough to tell keywords apart).
    private static func keyword<Bytes: Collection<UInt8>>(_ text: Bytes, from index: Int) -> String
    where Bytes.Index == Int {
        var letters: [UInt8] = []
        var position = index
        while position < text.endIndex, letters.count <= 12 {
            let byte = text[position]
            let isLetter = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            let isPart = isLetter || (0x30...0x39).contains(byte) || byte == 0x5F || byte == 0x24
            guard isPart else { break }
            letters.append(isLetter ? byte | 0x20 : byte)
            position += 1
        }
        return String(decoding: letters, as: UTF8.self)
    }
}
