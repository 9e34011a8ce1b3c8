#!/usr/bin/env bash
# Builds the libFuzzer target over the BaocuoDomain sources (with AddressSanitizer) and runs it.
#
#   Fuzz/run.sh                    fuzz until stopped (Ctrl-C); extra arguments go to libFuzzer
#   Fuzz/run.sh --bounded          a short run for CI: 20,000 inputs, at most 60 s
#   Fuzz/run.sh --build-only       just build .build/fuzz/baocuo-fuzz
#
# Seeds: Fuzz/corpus (the sample lines) and the hostile corpus of the domain tests. New
# inputs go to .build/fuzz/corpus (not committed); crashes to .build/fuzz/crash-*.
#
# Why swiftc and not SwiftPM: SwiftPM has no fuzzer sanitizer switch. The domain's sources are
# compiled as one module with `-sanitize=fuzzer,address`; its two dependencies (Yams, Crypto)
# come uninstrumented from SwiftPM's debug build (which `swift test` has already made): only the
# domain's code needs coverage, and the dependencies run only while the configuration loads.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=run
case "${1:-}" in
  --bounded) mode=bounded; shift ;;
  --build-only) mode=build; shift ;;
esac

swift build --target BaocuoDomain >/dev/null
dependencies="$(swift build --show-bin-path)"
checkouts=.build/checkouts
out=.build/fuzz
mkdir -p "$out/corpus"

dependency_objects=()
for target in Yams CYaml Crypto CryptoBoringWrapper CCryptoBoringSSL CCryptoBoringSSLShims; do
  while IFS= read -r -d '' object; do dependency_objects+=("$object"); done \
    < <(find "$dependencies/$target.build" -name '*.o' -print0)
done

module_maps=()
for include in Yams/Sources/CYaml/include swift-crypto/Sources/CCryptoBoringSSLShims/include \
               swift-crypto/Sources/CCryptoBoringSSL/include; do
  module_maps+=(-Xcc "-fmodule-map-file=$checkouts/$include/module.modulemap" -Xcc -I -Xcc "$checkouts/$include")
done

sources=()
while IFS= read -r -d '' source; do sources+=("$source"); done \
  < <(find Sources/BaocuoDomain -name '*.swift' -print0 | sort -z)

if [[ ! -x "$out/baocuo-fuzz" || -n "$(find Sources/BaocuoDomain Fuzz/FuzzTarget.swift -newer "$out/baocuo-fuzz" -print -quit)" ]]; then
  swiftc -sanitize=fuzzer,address -use-ld=lld -parse-as-library -O -g -swift-version 6 -module-name BaocuoFuzz \
    -module-cache-path "$out/ModuleCache" -I "$dependencies/Modules" "${module_maps[@]}" \
    "${sources[@]}" Fuzz/FuzzTarget.swift "${dependency_objects[@]}" -lstdc++ -o "$out/baocuo-fuzz"
fi
[[ $mode == build ]] && exit 0

export BAOCUO_CONFIG_DIR="$PWD/Config"
# libFuzzer reports a trap itself; Swift's backtracer would instead read foreign memory under
# ASan and bury the failing check's message in a false report.
export SWIFT_BACKTRACE=enable=no
seeds=(Fuzz/corpus Tests/BaocuoDomainTests/Fixtures/hostile/cases)
# Records are at most 1 MiB, but short inputs explore the grammar far faster; the large
# shapes (bombs, 1 MiB+ records) are covered by HostileInputTests.
options=(-max_len=4096 -timeout=10 -rss_limit_mb=2048 -dict=Fuzz/report.dict "-artifact_prefix=$out/")
if [[ $mode == bounded ]]; then
  # A fixed seed and fixed hashing keep CI reproducible (Swift seeds Set and Dictionary hashing
  # per process, which changes coverage and so the inputs tried); the unbounded mode below
  # explores with random seeds.
  SWIFT_DETERMINISTIC_HASHING=1 "$out/baocuo-fuzz" "${options[@]}" -seed=1 -runs=20000 -max_total_time=60 -print_final_stats=1 \
    "$@" "$out/corpus" "${seeds[@]}"
else
  "$out/baocuo-fuzz" "${options[@]}" "$@" "$out/corpus" "${seeds[@]}"
fi
