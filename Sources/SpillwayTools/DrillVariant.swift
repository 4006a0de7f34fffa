/// How the leaky job and the API tell themselves apart: by `application_name`, or not at all.
public enum DrillVariant: String, Sendable, Codable, CaseIterable {
    /// The job says `nightly-job`, the API says `api`.
    case labelled
    /// Neither sets application_name: both are just the same user.
    case unlabelled

    /// The leaky job's application_name.
    var jobApplicationName: String? {
        self == .labelled ? "nightly-job" : nil
    }

    /// The API's application_name.
    var apiApplicationName: String? {
        self == .labelled ? "api" : nil
    }
}
