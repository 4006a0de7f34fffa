import Foundation

/// A libpq-style connection URI, `postgres://user:password@host:port/database`, as `--dsn` takes it. The port
/// defaults to 5432, the database to the user name; user and password may be percent-encoded. TCP only, no TLS:
/// query parameters other than `sslmode=disable|allow|prefer` are refused.
enum PostgresURL {
    /// The login the URI describes.
    static func parse(_ text: String) throws -> WireClient.Configuration {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw SetupError("--dsn: expected postgres://user:password@host:port/database, got '\(redacted(text))'")
        }
        guard let host = components.host, !host.isEmpty else {
            throw SetupError("--dsn: no host in '\(redacted(text))' (a Unix socket is not supported; give 127.0.0.1)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw SetupError("--dsn: no user in '\(redacted(text))'")
        }
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", ["disable", "allow", "prefer"].contains(item.value ?? "") else {
                throw SetupError("--dsn: parameter '\(item.name)' is not supported (the drill speaks TCP without TLS)")
            }
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.removingPercentEncoding ?? path
        return WireClient.Configuration(
            host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host,
            port: components.port ?? 5432, user: user, password: components.password,
            database: database.isEmpty ? user : database, applicationName: "spillway-drill")
    }

    /// The URI with its password replaced by `***`, for messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
