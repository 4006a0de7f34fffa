/// How clients prove who they are (`auth_type`), spelled as in PgBouncer.
public enum AuthType: String, Sendable, CaseIterable {
    /// No password asked; the user name must exist in `auth_file` unless `any`.
    case trust
    /// Cleartext password checked against `auth_file`.
    case plain
    /// MD5 challenge checked against `auth_file` (plain or `md5…` secrets).
    case md5
    /// SCRAM-SHA-256 exchange checked against `auth_file` (plain or `SCRAM-SHA-256$…` secrets).
    case scramSHA256 = "scram-sha-256"
    /// No password asked and any user name accepted; databases must force a `user=`.
    case any
    /// PgBouncer's `auth_hba_file` rules. Parsed so the error can name it; not supported.
    case hba
    /// TLS client certificates. Parsed so the error can name it; not supported.
    case cert
    /// PAM. Parsed so the error can name it; not supported.
    case pam

    /// The methods Spillway implements; the rest are rejected when a config is read.
    public var isSupported: Bool {
        switch self {
        case .trust, .plain, .md5, .scramSHA256, .any: true
        case .hba, .cert, .pam: false
        }
    }
}
