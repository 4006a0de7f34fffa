extension WireClient {
    /// Where and as whom to log in: a TCP address, the startup parameters and the password.
    public struct Configuration: Sendable, Equatable {
        /// Host name or address to connect to.
        public var host: String
        /// TCP port.
        public var port: Int
        /// The role to log in as (`user` in the StartupMessage).
        public var user: String
        /// The password, for cleartext, md5 and SCRAM-SHA-256; nil when the server trusts the client.
        public var password: String?
        /// The database to connect to (`database` in the StartupMessage).
        public var database: String
        /// `application_name` in the StartupMessage; nil leaves the parameter out, as an unlabelled client does.
        public var applicationName: String?
        /// How long TCP connect, authentication and the wait for the first ReadyForQuery may take together.
        public var connectTimeout: Duration

        /// Collects the settings; `connectTimeout` defaults to 10 seconds.
        public init(
            host: String, port: Int, user: String, password: String?, database: String,
            applicationName: String? = nil, connectTimeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.applicationName = applicationName
            self.connectTimeout = connectTimeout
        }

        /// The StartupMessage parameters: user, database, then application_name when set.
        var startupParameters: [(name: String, value: String)] {
            var parameters = [(name: "user", value: user), (name: "database", value: database)]
            if let applicationName {
                parameters.append((name: "application_name", value: applicationName))
            }
            return parameters
        }
    }
}
