# Shared by scripts/run and scripts/test: installs the Debian packages rsp needs when they are missing.
# Needs root or passwordless sudo for apt-get; prints what it installs.

# Build dependencies of the workspace: OpenSSL (PSK-TLS on ES5), libxmlsec1/libxml2 (XML-DSig, with libclang for
# the bindings), pkg-config to find them.
RSP_BUILD_PKGS=(pkg-config libssl-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl libclang-dev openssl ca-certificates)

rsp_have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# rsp_ensure_pkgs PKG...: apt-get install the ones not installed yet.
rsp_ensure_pkgs() {
  local missing=() p
  for p in "$@"; do rsp_have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  printf '==> installing Debian packages: %s\n' "${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
