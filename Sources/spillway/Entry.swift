import Foundation

/// The process entry. The main thread stays alive running the main run loop (which also serves the main actor
/// the command runs on): an async `main` would end it (dispatch_main calls pthread_exit), and a dead
/// thread-group leader keeps root's credentials when `user` makes Spillway switch users, so `ps` and the
/// kernel's signal checks would still see root. A living main thread switches with every other thread.
@main
enum Entry {
    static func main() {
        Task { @MainActor in
            await SpillwayCommand.main()  // on failure it exits with the command's status itself
            exit(0)
        }
        while true { RunLoop.main.run() }
    }
}
