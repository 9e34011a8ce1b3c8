// Rewritten by scripts/stamp-build-commit.sh before a release build; keep the line format.
enum BuildCommit { static let value = "unknown" }
