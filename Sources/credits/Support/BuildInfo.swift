import CBuildInfo

/// What this binary is: printed by `--version`, in every `--json` envelope, and on `/metrics` as
/// `credits_build_info{version,commit} 1`, so a summary or a scrape names the exact build.
enum BuildInfo {
    /// The release version; raised by hand when a release is cut.
    static let version = "0.1.0"
    /// The git commit built from (see Sources/CBuildInfo/build_info.c): a hash, with `-dirty` for
    /// uncommitted changes, or `unknown`.
    static let commit = String(cString: credits_build_commit())
    /// `0.1.0 (commit 1e934eb…)`, what `credits --version` prints.
    static let description = "\(version) (commit \(commit))"
}
