import NIOCore

/// A result in text format, as Spillway answers queries it serves itself (the admin console): RowDescription,
/// DataRows, CommandComplete.
public struct ResultSet: Sendable, Equatable {
    /// One column of a RowDescription.
    public struct Column: Sendable, Equatable {
        public var name: String
        /// PostgreSQL type OID: 25 text, 1043 varchar, 20 int8, 23 int4, 21 int2, 1700 numeric, 16 bool.
        public var typeOID: UInt32
        public init(name: String, typeOID: UInt32) {
            self.name = name
            self.typeOID = typeOID
        }

        public static func text(_ name: String) -> Column { Column(name: name, typeOID: 25) }
        public static func varchar(_ name: String) -> Column { Column(name: name, typeOID: 1043) }
        public static func int8(_ name: String) -> Column { Column(name: name, typeOID: 20) }
        public static func int4(_ name: String) -> Column { Column(name: name, typeOID: 23) }
        public static func numeric(_ name: String) -> Column { Column(name: name, typeOID: 1700) }
    }

    public var columns: [Column]
    /// Values as text; nil is SQL NULL.
    public var rows: [[String?]]
    /// CommandComplete tag, e.g. "SHOW".
    public var tag: String

    public init(columns: [Column], rows: [[String?]], tag: String = "SHOW") {
        self.columns = columns
        self.rows = rows
        self.tag = tag
    }

    /// A command that returns no rows: CommandComplete alone.
    public static func command(_ tag: String) -> ResultSet { ResultSet(columns: [], rows: [], tag: tag) }

    /// Encodes RowDescription (when there are columns), each DataRow and CommandComplete.
    public func encode(into buffer: inout ByteBuffer) {
        if !columns.isEmpty {
            buffer.writeMessage(type: .rowDescription) { body in
                body.writeInteger(Int16(columns.count))  // Int16: number of fields
                for column in columns {
                    body.writeCString(column.name)  // String: field name
                    body.writeInteger(Int32(0))  // Int32: table OID, 0 = not a table column
                    body.writeInteger(Int16(0))  // Int16: attribute number
                    body.writeInteger(column.typeOID)  // Int32: data type OID
                    body.writeInteger(ResultSet.typeLength(column.typeOID))  // Int16: type size, -1 = varlena
                    body.writeInteger(Int32(-1))  // Int32: type modifier
                    body.writeInteger(Int16(0))  // Int16: format code, 0 = text
                }
            }
        }
        for row in rows {
            buffer.writeMessage(type: .dataRow) { body in
                body.writeInteger(Int16(row.count))  // Int16: number of values
                for value in row {
                    guard let value else {
                        body.writeInteger(Int32(-1))  // Int32: -1 = NULL
                        continue
                    }
                    body.writeInteger(Int32(value.utf8.count))  // Int32: value length
                    body.writeString(value)  // Byten: the value, text format
                }
            }
        }
        buffer.writeMessage(type: .commandComplete) { $0.writeCString(tag) }  // String: command tag
    }

    static func typeLength(_ oid: UInt32) -> Int16 {
        switch oid {
        case 20: 8
        case 23: 4
        case 21: 2
        case 16: 1
        default: -1
        }
    }
}
