/// Passwords for the drill's throwaway roles: letters and digits only, so they go into SQL and INI text as they are.
enum RandomPassword {
    /// `length` random letters and digits.
    static func make(length: Int = 24) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
