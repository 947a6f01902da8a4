# Sourced by scripts/test and scripts/demo: installs the Debian 12 packages the project needs.
# Only packages that are missing are installed, so a prepared machine pays nothing.
sipreg_packages=(
  build-essential cmake pkg-config
  libuv1-dev libssl-dev libyaml-dev libspdlog-dev libsystemd-dev
  doctest-dev libc-ares-dev libcli11-dev nlohmann-json3-dev libhttp-parser-dev
  kamailio kamailio-tls-modules sip-tester python3 openssl iproute2 iptables dnsmasq-base valgrind
  systemd scdoc groff-base man-db podman buildah runc debootstrap containernetworking-plugins
  clang libclang-rt-14-dev
)

sipreg_install_deps() {
  local missing=()
  local p
  for p in "${sipreg_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}
