import BaocuoKafka

/// What `baocuo --version`, the start log and `baocuo_build_info` say about the running build.
enum BuildInfo {
    /// The release; raise it with every tagged image (Deploy/RUNBOOK.md, Upgrade).
    static let version = "0.3.0"
    /// The git commit the binary was built from: `unknown` unless the build stamped it
    /// (`scripts/stamp-build-commit.sh`, which the Dockerfile runs with `--build-arg GIT_COMMIT=…`).
    static let commit = BuildCommit.value

    /// `baocuo 0.3.0 (commit 1a2b3c4, librdkafka 2.0.2)`.
    static var versionLine: String { "baocuo \(version) (commit \(commit), librdkafka \(librdkafkaVersion))" }
}
