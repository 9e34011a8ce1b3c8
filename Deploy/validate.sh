#!/usr/bin/env bash
# Checks Deploy/ as far as a machine without a Docker engine or a Kubernetes cluster can:
#
#   Deploy/validate.sh [PATH_TO_BAOCUO_BINARY]
#
#  1. every YAML file parses (and the commented-out examples after a `# ---` line);
#  2. every file the Dockerfile, its .dockerignore, compose and kustomization refer to exists;
#  3. acls.txt lets each agency principal Write exactly one resolutions topic, its own, listed in
#     topics.txt; with a built binary, topics.txt and acls.txt are what `baocuo topics list` and
#     `baocuo topics acls` print for Config/ today (Deploy/generate-topics.sh writes them);
#  4. the shell and Python scripts parse (shellcheck too, when installed);
#  5. the manifests agree with each other (ports, grace periods, labels, Secret keys, KEDA target),
#     and the alert rules of Deploy/prometheus/ agree with each other and name existing metrics;
#  6. `kubectl kustomize` renders Deploy/kubernetes, when kubectl is installed;
#  7. `docker compose config` accepts the compose file, when Compose is installed;
#  8. with a built binary: every `baocuo` subcommand and flag used in Deploy/ (docs, comments,
#     compose, manifests, Dockerfile) appears in that command's --help, and `baocuo config check`
#     accepts Config/ with each deployment's BAOCUO_* environment.
#
# Exits 1 if any check fails. Needs bash, python3 and PyYAML.
set -uo pipefail

deploy_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$deploy_dir")
binary=${1:-}
failures=0

# check NAME COMMAND...: runs COMMAND, prints ok/FAIL with its output indented on failure.
check() {
  local name=$1 output
  shift
  if output=$("$@" 2>&1); then
    echo "ok    $name"
  else
    echo "FAIL  $name"
    printf '%s\n' "$output" | sed 's/^/      /'
    failures=$((failures + 1))
  fi
}
skip() { echo "skip  $*"; }

python3 -c 'import yaml' 2>/dev/null || { echo "FAIL  python3 with PyYAML is required"; exit 1; }

# 1 ------------------------------------------------------------------------------------------
check "YAML files parse" python3 - "$deploy_dir" <<'PY'
import pathlib, sys, yaml
problems = []
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.y*ml")):
    text = path.read_text(encoding="utf-8")
    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        problems.append(f"{path}: {error}")
    # A commented-out example starts at a `# ---` line and runs to the end of the comment block.
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.strip() != "# ---":
            continue
        block = []
        for following in lines[start + 1:]:
            if not following.lstrip().startswith("#"):
                break
            block.append(following.lstrip()[2:])
        try:
            yaml.safe_load("\n".join(block))
        except yaml.YAMLError as error:
            problems.append(f"{path}:{start + 1}: commented example: {error}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# 2 ------------------------------------------------------------------------------------------
check "referenced files exist" python3 - "$deploy_dir" "$repo_dir" <<'PY'
import fnmatch, glob, json, os, pathlib, re, sys, yaml
deploy, repo = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
problems = []

def need(path, what):
    if not path.exists():
        problems.append(f"{what}: {pathlib.Path(os.path.relpath(path, repo))} does not exist")

# Dockerfile: COPY/ADD sources, relative to the build context (the repository root).
ignore_patterns = [line.strip() for line in (deploy / "Dockerfile.dockerignore").read_text().splitlines()
                   if line.strip() and not line.startswith("#")]
def ignored(relative):
    verdict = False
    parts = relative.split("/")
    for pattern in ignore_patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)):
            verdict = not negated
    return verdict

text = re.sub(r"\\\n", " ", (deploy / "Dockerfile").read_text())
for line in text.splitlines():
    words = line.split()
    if not words or words[0].upper() not in ("COPY", "ADD"):
        continue
    arguments = [w for w in words[1:] if not w.startswith("--")]
    if any(w.startswith("--from") for w in words[1:]):
        continue
    if arguments and arguments[0].startswith("["):
        arguments = json.loads(" ".join(arguments))
    for source in arguments[:-1]:
        source = source.rstrip("/")
        if glob.has_magic(source):
            continue  # optional files, e.g. Package.resolved*
        need(repo / source, "Dockerfile " + words[0])
        if ignored(source):
            problems.append(f"Dockerfile {words[0]}: {source} is excluded by Dockerfile.dockerignore")

# Compose: build context and Dockerfile, bind-mounted files.
compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
for name, service in compose["services"].items():
    build = service.get("build")
    if build:
        context = deploy / build["context"]
        need(context, f"compose {name} build.context")
        need(context / build.get("dockerfile", "Dockerfile"), f"compose {name} build.dockerfile")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith("."):
            need(deploy / source, f"compose {name} volume")

# Kustomizations: resources, generator files, patches.
for kustomization in deploy.rglob("kustomization.yaml"):
    base, spec = kustomization.parent, yaml.safe_load(kustomization.read_text())
    for resource in spec.get("resources", []):
        need(base / resource, "kustomization resources")
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        for entry in generator.get("files", []):
            need(base / entry.split("=")[-1], f"kustomization {generator['name']}")
    for patch in spec.get("patches", []):
        if "path" in patch:
            need(base / patch["path"], "kustomization patches")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# 3 ------------------------------------------------------------------------------------------
check "acls.txt: each agency principal may Write exactly one resolutions topic, its own" python3 - "$deploy_dir" "$repo_dir" <<'PY'
import csv, pathlib, re, sys
deploy, repo = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with open(repo / "Config" / "regions.csv", encoding="utf-8", newline="") as handle:
    regions = {row["code"] for row in csv.DictReader(handle)}
topics = {line.split()[0] for line in (deploy / "topics.txt").read_text().splitlines() if line and not line.startswith("#")}
writes = {}
for number, line in enumerate((deploy / "acls.txt").read_text().splitlines(), start=1):
    if not line or line.startswith("#"):
        continue
    words = line.split()
    values = lambda flag: [words[i + 1] for i, word in enumerate(words[:-1]) if word == flag]
    if "Write" not in values("--operation"):
        continue
    for principal in values("--allow-principal"):
        if principal.startswith("User:agency-"):
            if "--resource-pattern-type" in words:
                writes.setdefault(principal, []).append(f"a {line.split('--resource-pattern-type')[1].split()[0]} pattern (line {number})")
            writes.setdefault(principal, []).extend(values("--topic"))
problems = []
missing = sorted(regions - {p.removeprefix("User:agency-") for p in writes})
if missing:
    problems.append(f"no resolutions Write for {len(missing)} regions, e.g. {', '.join(missing[:5])}")
for principal, granted in sorted(writes.items()):
    region = principal.removeprefix("User:agency-")
    own = [t for t in granted if re.fullmatch(rf".*agency\.{region}\.resolutions", t)]
    if len(granted) != 1 or len(own) != 1:
        problems.append(f"{principal} may Write {granted}, expected exactly its own resolutions topic")
    elif own[0] not in topics:
        problems.append(f"{principal} may Write {own[0]}, which topics.txt does not list")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
if [[ -n $binary && -x $binary ]]; then
  compare_with_binary() {
    diff -u "$deploy_dir/topics.txt" <("$binary" topics list --config "$repo_dir/Config") &&
      diff -u "$deploy_dir/acls.txt" <("$binary" topics acls --config "$repo_dir/Config")
  }
  check "topics.txt and acls.txt are the binary's layout of Config/ (else run generate-topics.sh)" compare_with_binary
else
  skip "topics.txt and acls.txt against the binary's layout (pass a built baocuo binary as \$1)"
fi

# 4 ------------------------------------------------------------------------------------------
for script in "$deploy_dir"/*.sh; do
  check "$(basename "$script") parses" bash -n "$script"
done
if command -v shellcheck >/dev/null; then
  check "shellcheck" shellcheck "$deploy_dir"/*.sh
else
  skip "shellcheck (not installed)"
fi

# 5 ------------------------------------------------------------------------------------------
check "manifests agree with each other" python3 - "$deploy_dir" <<'PY'
import pathlib, re, sys, yaml
deploy = pathlib.Path(sys.argv[1])
k8s = deploy / "kubernetes"
problems = []
def expect(condition, message):
    if not condition:
        problems.append(message)
def load(name):
    return {doc["kind"]: doc for doc in yaml.safe_load_all((k8s / name).read_text()) if doc}

dockerfile = (deploy / "Dockerfile").read_text()
exposed = re.search(r"^EXPOSE\s+(\d+)", dockerfile, re.M)
expect(exposed is not None, "Dockerfile: no EXPOSE")
port = int(exposed.group(1)) if exposed else 9464
expect(re.search(r"^STOPSIGNAL\s+SIGTERM\s*$", dockerfile, re.M), "Dockerfile: STOPSIGNAL SIGTERM missing")
expect(re.search(r"^USER\s+[1-9]\d*(:\d+)?\s*$", dockerfile, re.M), "Dockerfile: USER must be a numeric non-root id")
first_topic = next(l for l in (deploy / "topics.txt").read_text().splitlines() if not l.startswith("#"))
ingest_topic, ingest_partitions = first_topic.split()[0], int(first_topic.split()[1])

deployment = load("deployment.yaml")["Deployment"]
pod = deployment["spec"]["template"]["spec"]
labels = deployment["spec"]["template"]["metadata"]["labels"]
expect(deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), "Deployment selector does not match its pods")
expect(pod["terminationGracePeriodSeconds"] > 10, "Deployment: terminationGracePeriodSeconds must exceed the 10 s drain")
expect(pod["securityContext"].get("runAsNonRoot") is True, "Deployment: runAsNonRoot")
container = pod["containers"][0]
expect(container["securityContext"].get("readOnlyRootFilesystem") is True, "Deployment: readOnlyRootFilesystem")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
expect(port in ports.values(), f"Deployment: containerPort {port} (Dockerfile EXPOSE) missing")
env = {e["name"]: e for e in container["env"]}
expect(int(env.get("BAOCUO_HTTP_PORT", {}).get("value", port)) == port, "Deployment: BAOCUO_HTTP_PORT differs from the exposed port")
for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
    get = container[probe]["httpGet"]
    expect(get["path"] == path, f"Deployment: {probe} path should be {path}")
    expect(ports.get(get["port"], get["port"]) == port, f"Deployment: {probe} port is not {port}")
secret = load("secret-sasl.template.yaml")["Secret"]
for e in env.values():
    reference = e.get("valueFrom", {}).get("secretKeyRef")
    if reference:
        expect(reference["name"] == secret["metadata"]["name"], f"Deployment: {e['name']} refers to Secret {reference['name']}")
        expect(reference["key"] in secret["stringData"], f"Deployment: {e['name']} refers to missing key {reference['key']}")
kustomization = yaml.safe_load((k8s / "kustomization.yaml").read_text())
config_maps = {g["name"] for g in kustomization["configMapGenerator"]}
for volume in pod["volumes"]:
    if "configMap" in volume:
        expect(volume["configMap"]["name"] in config_maps, f"Deployment: volume {volume['name']} uses an ungenerated ConfigMap")
expect("secret-sasl.template.yaml" not in kustomization["resources"], "kustomization must not apply the Secret template")
for name in ("poddisruptionbudget.yaml", "service.yaml"):
    for doc in load(name).values():
        selector = doc["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        expect(selector.items() <= labels.items(), f"{name}: {doc['kind']} selector does not match the pods")
keda = load("keda-scaledobject.example.yaml")
scaled, trigger = keda["ScaledObject"]["spec"], keda["ScaledObject"]["spec"]["triggers"][0]
expect(scaled["scaleTargetRef"]["name"] == deployment["metadata"]["name"], "KEDA: scaleTargetRef is not the Deployment")
expect(trigger["metadata"]["topic"] == ingest_topic, f"KEDA: topic should be {ingest_topic}")
expect(trigger["metadata"]["consumerGroup"] == "baocuo-router", "KEDA: consumerGroup should be baocuo-router")
expect(scaled["maxReplicaCount"] <= ingest_partitions, f"KEDA: maxReplicaCount exceeds the {ingest_partitions} ingest partitions")
for reference in keda["TriggerAuthentication"]["spec"]["secretTargetRef"]:
    expect(reference["name"] == secret["metadata"]["name"] and reference["key"] in secret["stringData"],
           f"KEDA: TriggerAuthentication refers to {reference['name']}/{reference['key']}")

compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
seen_ports = set()
for name, service in compose["services"].items():
    # The workers: `baocuo run` (the one-shot `topics` job runs the same image).
    if "build" not in service or service.get("command", [None])[0] != "run":
        continue
    grace = re.fullmatch(r"(\d+)s", str(service.get("stop_grace_period", "10s")))
    expect(grace and int(grace.group(1)) > 10, f"compose {name}: stop_grace_period must exceed the 10 s drain")
    expect("healthcheck" in service, f"compose {name}: no healthcheck")
    http_port = str(service.get("environment", {}).get("BAOCUO_HTTP_PORT", port))
    expect(http_port not in seen_ports, f"compose {name}: http port {http_port} used twice")
    seen_ports.add(http_port)
    expect(f"{http_port}:{http_port}" in service.get("ports", []), f"compose {name}: port {http_port} not published")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

check "alert rules: alerts.yaml and prometheusrule.yaml agree, metrics exist" python3 - "$deploy_dir" "$repo_dir" <<'PY'
import pathlib, re, sys, yaml
deploy, repo = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
plain = yaml.safe_load((deploy / "prometheus/alerts.yaml").read_text())
crd = yaml.safe_load((deploy / "prometheus/prometheusrule.yaml").read_text())
problems = []
if crd.get("kind") != "PrometheusRule":
    problems.append("prometheusrule.yaml is not a PrometheusRule")
if plain["groups"] != crd["spec"]["groups"]:
    problems.append("the rule groups of alerts.yaml and prometheusrule.yaml differ")
names = set(re.findall(r'"(baocuo_[a-z_]+)"', (repo / "Sources/BaocuoPipeline/Router/RouterMetrics.swift").read_text()))
for group in plain["groups"]:
    for rule in group["rules"]:
        for metric in re.findall(r"\b(baocuo_[a-z_]+?)(?:_bucket)?\b", rule["expr"]):
            if metric not in names:
                problems.append(f"{rule['alert']}: {metric} is not a metric of PipelineMetricNames")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

# 6 ------------------------------------------------------------------------------------------
if command -v kubectl >/dev/null; then
  check "kubectl kustomize renders Deploy/kubernetes" \
    kubectl kustomize --load-restrictor LoadRestrictionsNone "$deploy_dir/kubernetes" -o /dev/null
else
  skip "kubectl kustomize (kubectl not installed)"
fi

# 7 ------------------------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  check "docker compose config" docker compose -f "$deploy_dir/docker-compose.yml" config --quiet
elif command -v docker-compose >/dev/null; then
  check "docker-compose config" docker-compose -f "$deploy_dir/docker-compose.yml" config --quiet
else
  skip "docker compose config (Compose not installed)"
fi

# 8 ------------------------------------------------------------------------------------------
if [[ -z $binary ]]; then
  skip "baocuo commands and flags against --help (pass a built baocuo binary as \$1)"
elif [[ ! -x $binary ]]; then
  check "baocuo binary $binary is executable" false
else
  check "baocuo commands and flags used in Deploy/ exist" python3 - "$deploy_dir" "$binary" <<'PY'
import pathlib, re, subprocess, sys, yaml
deploy, binary = pathlib.Path(sys.argv[1]), sys.argv[2]

# `baocuo` where a shell command starts (line start, after `$ `, ` -- `, an operator, a quote or a
# backtick), or an image reference `…/baocuo:TAG` followed by arguments (the entrypoint is baocuo).
COMMAND = re.compile(r"(?:^\s*(?:\$\s+)?|(?<=\s)--\s+|[;|&(`'\"]\s*)baocuo\s+(.*)$")
IMAGE = re.compile(r"(?<=[\s/])baocuo:[\w.-]+\s+(.*)$")
WORD, FLAG = re.compile(r"[a-z][a-z-]*"), re.compile(r"--[a-z][a-z0-9-]*")

uses = {}  # (subcommand words) -> {flag: first location}
def record(words, flags, where):
    if words:
        entry = uses.setdefault(tuple(words), {})
        for flag in flags:
            entry.setdefault(flag, where)
        entry.setdefault(None, where)

def scan(text, where):
    for pattern in (COMMAND, IMAGE):
        for match in pattern.finditer(text):
            rest = re.split(r"`|\|\||\||;|&&|\)|\$\(", match.group(1))[0]
            words, flags, leading = [], [], True
            for token in (t.strip("'\"") for t in rest.split()):
                if leading and WORD.fullmatch(token):
                    words.append(token)
                    continue
                leading = False
                if FLAG.match(token):
                    flags.append(token.split("=")[0])
            record(words, flags, where)

def spans(text):
    return re.findall(r"`([^`]+)`", text)

for path in sorted(deploy.rglob("*")):
    if path.is_dir():
        continue
    relative = path.relative_to(deploy.parent)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".md":
        in_fence, logical, start = False, "", 0
        outside = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            if not in_fence:
                outside.append(line)
                continue
            logical, start = (logical + " " + line.rstrip("\\"), start or number)
            if not line.endswith("\\"):
                scan(logical, f"{relative}:{start}")
                logical, start = "", 0
        for span in spans("\n".join(outside)):
            scan(" ".join(span.split()), f"{relative} (`{span.strip()[:40]}`)")
    elif path.suffix in (".yaml", ".yml", ".sh", ".py", ".txt") or path.name.startswith("Dockerfile"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                for span in spans(line):
                    scan(span, f"{relative}:{number}")

# Structured uses: the image's CMD, compose commands, Kubernetes container args.
cmd = re.search(r"^CMD\s+(\[.*\])\s*$", (deploy / "Dockerfile").read_text(), re.M)
default_command = yaml.safe_load(cmd.group(1)) if cmd else []
def record_argv(argv, where):
    words = []
    for token in argv:
        if not WORD.fullmatch(token):
            break
        words.append(token)
    record(words, [a.split("=")[0] for a in argv if FLAG.match(a)], where)
record_argv(default_command, "Deploy/Dockerfile CMD")
compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
for name, service in compose["services"].items():
    if "build" in service or str(service.get("image", "")).startswith("baocuo"):
        record_argv(service.get("command", default_command), f"Deploy/docker-compose.yml {name}")
for manifest in (deploy / "kubernetes").glob("*.yaml"):
    for doc in yaml.safe_load_all(manifest.read_text()):
        pod = (doc or {}).get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            if re.fullmatch(r"(.*/)?baocuo(:.*)?", container.get("image", "")):
                record_argv(container.get("args", default_command), f"{manifest.relative_to(deploy.parent)}")

problems = []
for words, flags in sorted(uses.items()):
    command = "baocuo " + " ".join(words)
    result = subprocess.run([binary, *words, "--help"], capture_output=True, text=True)
    if result.returncode != 0:
        problems.append(f"{command}: not a command (exit {result.returncode}), used at {flags[None]}")
        continue
    help_text = result.stdout + result.stderr
    for flag, where in flags.items():
        if flag and not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text):
            problems.append(f"{command}: {flag} is not in its --help, used at {where}")
print(f"{len(uses)} commands checked: " + ", ".join("baocuo " + " ".join(w) for w in sorted(uses)))
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY

  check "baocuo config check accepts Config/ with each deployment's environment" python3 - "$deploy_dir" "$binary" <<'PY'
import os, pathlib, re, subprocess, sys, yaml
deploy, binary = pathlib.Path(sys.argv[1]), sys.argv[2]
dockerfile = re.sub(r"\\\n", " ", (deploy / "Dockerfile").read_text())
image_env = {}
for line in dockerfile.splitlines():
    if line.startswith("ENV "):
        image_env.update(word.split("=", 1) for word in line.split()[1:] if "=" in word)
environments = {}
compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
for name, service in compose["services"].items():
    if "build" in service:
        environments[f"compose {name}"] = {k: str(v) for k, v in service.get("environment", {}).items()}
for manifest in (deploy / "kubernetes").glob("*.yaml"):
    for doc in yaml.safe_load_all(manifest.read_text()):
        for container in (doc or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            # Secret values are not known here; any non-empty string stands in for them.
            environments[f"{manifest.name} {container['name']}"] = {
                e["name"]: str(e.get("value", "from-secret")) for e in container.get("env", [])}
problems = []
for name, env in environments.items():
    full = {"PATH": os.environ["PATH"], **image_env, **env}
    result = subprocess.run([binary, "config", "check", "--config", str(deploy.parent / "Config")],
                            env=full, capture_output=True, text=True)
    if result.returncode != 0:
        problems.append(f"{name}: {(result.stdout + result.stderr).strip()}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
fi

echo
if ((failures > 0)); then
  echo "validate: $failures check(s) failed"
  exit 1
fi
echo "validate: all checks passed"
