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
