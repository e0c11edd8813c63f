# Shared by scripts/run and scripts/test. Sourced, not executed.
# shellcheck shell=bash

HOOKSTREAM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whatever in scripts/deps.txt is missing; a no-op when everything is present.
install_deps() {
  local missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done < "$HOOKSTREAM_ROOT/scripts/deps.txt"
  if ((${#missing[@]})); then
    [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root or install them"
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # NodeSource's nodejs bundles npm (and conflicts with Debian's npm); Debian's nodejs does not.
  if ! command -v npm >/dev/null 2>&1; then
    [[ $EUID -eq 0 ]] || die "npm is missing; run as root or install it"
    log "installing: npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
}

# configure_build DIR BUILD_TYPE [extra cmake args...]
configure_build() {
  local dir="$1" type="$2"; shift 2
  local werror=OFF
  [[ "${CI:-}" == "true" || "${HOOKSTREAM_WERROR:-}" == "ON" ]] && werror=ON
  cmake -S "$HOOKSTREAM_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" \
    -DHOOKSTREAM_WERROR="$werror" "$@" >/dev/null
}

build_dir() { echo "${HOOKSTREAM_BUILD_DIR:-$HOOKSTREAM_ROOT/build}/$1"; }

# The Apache Kafka version, written once: compose.yaml's x-kafka-image line (production runs that
# image; everything else runs the same version's server jars from Maven Central).
kafka_version() {
  local v
  v="$(sed -n 's/^x-kafka-image: &kafka-image apache\/kafka:\([0-9.]*\)$/\1/p' "$HOOKSTREAM_ROOT/compose.yaml")"
  [[ -n "$v" ]] || die "compose.yaml has no 'x-kafka-image: &kafka-image apache/kafka:VERSION' line"
  echo "$v"
}

# Where fetched things live: outside the build tree, shared by every checkout of this user.
cache_dir() { echo "${HOOKSTREAM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookstream}"; }

# Prints the folder of the Apache Kafka server jars (kafka_2.13 and its runtime dependencies),
# fetching them with Maven into the cache the first time (about 43 MB, half a minute). Needs java and mvn
# (scripts/deps.txt).
kafka_libs() {
  local version dir
  version="$(kafka_version)"
  dir="$(cache_dir)/kafka-$version"
  mkdir -p "$dir"
  # One fetch at a time (ctest's broker and a ./scripts/run may start together).
  local lock
  exec {lock}>"$dir/.lock"
  flock "$lock"
  if [[ ! -f "$dir/libs/.complete" ]]; then
    command -v mvn >/dev/null || die "mvn is missing (scripts/deps.txt lists maven)"
    log "fetching the Apache Kafka $version server jars with Maven into $dir (once)"
    local work log4j started=$SECONDS
    work="$(mktemp -d "$dir/fetch.XXXXXX")"
    # kafka_2.13 is the broker (KRaft included), with every runtime dependency.
    cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.hookstream</groupId>
  <artifactId>kafka-server</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
POM
    if ! (cd "$work" && mvn -B -q -Dmaven.repo.local="$dir/m2" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1 &&
          # The broker logs through slf4j; this binding sends it into the log4j2 it ships (the
          # same version), configured by scripts/kafka.
          log4j="$(ls "$work/libs" | sed -n 's/^log4j-api-\(.*\)\.jar$/\1/p')" && [[ -n "$log4j" ]] &&
          mvn -B -q -Dmaven.repo.local="$dir/m2" dependency:copy \
            -Dartifact="org.apache.logging.log4j:log4j-slf4j-impl:$log4j" \
            -DoutputDirectory="$work/libs" >>"$work/mvn.log" 2>&1); then
      tail -n 30 "$work/mvn.log" >&2
      die "Maven could not fetch Apache Kafka $version (log above; $work/mvn.log)"
    fi
    rm -rf "$dir/libs" && mv "$work/libs" "$dir/libs" && rm -rf "$work" "$dir/m2"
    touch "$dir/libs/.complete"
    log "fetched Apache Kafka $version in $((SECONDS - started)) s"
  fi
  exec {lock}>&-
  echo "$dir/libs"
}
