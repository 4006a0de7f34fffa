import SpillwayCore

/// Where and as whom a pool's servers log in.
struct ServerTarget: Sendable {
    enum Address: Sendable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)
        var description: String {
            switch self {
            case .tcp(let host, let port): "\(host):\(port)"
            case .unix(let path): path
            }
        }
    }
    var address: Address
    var user: String
    var database: String
    var startupParameters: [(name: String, value: String)]
}

extension ServerTarget {
    /// Where a database entry's servers are: a host starting with "/" is a Unix socket folder.
    init(database: DatabaseConfig, user: String) {
        let host = database.serverHost
        let address: Address = host.hasPrefix("/")
            ? .unix(path: "\(host)/.s.PGSQL.\(database.port)")
            : .tcp(host: host, port: database.port)
        var parameters: [(name: String, value: String)] = [("user", user), ("database", database.serverDatabaseName)]
        if let value = database.clientEncoding { parameters.append(("client_encoding", value)) }
        if let value = database.datestyle { parameters.append(("DateStyle", value)) }
        if let value = database.timezone { parameters.append(("TimeZone", value)) }
        if let value = database.applicationName { parameters.append(("application_name", value)) }
        self.init(address: address, user: user, database: database.serverDatabaseName, startupParameters: parameters)
    }
}
