#!/usr/bin/env bash
# container-build.sh: builds and runs the project's container images with Debian's podman
# and buildah, as root, on a machine with no Docker engine and no image registry.
#
#   scripts/container-build.sh setup                  install podman & co. if missing, write config
#   scripts/container-build.sh base [--force]         make the local debian:bookworm-slim base
#   scripts/container-build.sh build CONTEXT [TAG] [-- podman-build args]
#   scripts/container-build.sh podman ARGS...         any podman command with this storage
#   scripts/container-build.sh env                    print the export lines for plain `podman`
#   scripts/container-build.sh clean [--all]          drop everything but the base (--all: all)
#
# Storage and configuration live under $SIPREG_CONTAINER_ROOT (default build/container in
# this checkout), so the host's /etc/containers is never touched and the base image made
# once is reused by later builds and tests.
#
# Why the settings below are what they are:
#   - the sandboxes this runs in lack CAP_SYS_RESOURCE and podman caps its own RLIMIT_NPROC
#     at 32768, so podman's default ulimits make the runtime fail in setrlimit: the
#     container defaults are set to the current hard limits instead;
#   - crun refuses a hybrid cgroup v1/v2 layout: runc is used;
#   - without systemd as PID 1 there is no systemd cgroup manager nor journal:
#     cgroupfs and a file events log (healthcheck timers are not installed either,
#     `podman healthcheck run` is what checks a container's health);
#   - no image registry is reachable: the base image is made with debootstrap and tagged
#     as debian:bookworm-slim, so an unmodified `FROM debian:bookworm-slim` resolves to it
#     (builds use --pull=never); its apt sources are this host's own;
#   - builds use --format docker (the OCI format drops HEALTHCHECK) and --network host
#     (apt in a RUN step reaches the Debian mirror).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CB_ROOT=${SIPREG_CONTAINER_ROOT:-$here/../build/container}
mkdir -p "$CB_ROOT"
CB_ROOT=$(cd "$CB_ROOT" && pwd)
CB_SUITE=${CB_SUITE:-bookworm}
CB_DRIVER=${CB_DRIVER:-overlay}
# One run root per storage: two storages sharing a run root corrupt each other's state.
CB_RUNROOT=/run/sipreg-containers-$(printf '%s' "$CB_ROOT:$CB_DRIVER" | cksum | cut -d' ' -f1)
BASE_TAG=localhost/debian:$CB_SUITE

TMP_DIRS=()
cleanup_tmp() { local d; for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done; }
trap cleanup_tmp EXIT
log() { printf '[container-build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (podman's overlay storage and runc need it here)"

install_missing() {
  local missing=() p
  for p in podman buildah runc debootstrap containernetworking-plugins; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends "${missing[@]}" >&2
}

write_conf() {
  local nofile nproc
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  cat > "$CB_ROOT/containers.conf.new" <<EOF
# written by scripts/container-build.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$CB_ROOT/events.log"
EOF
  cat > "$CB_ROOT/storage-$CB_DRIVER.conf.new" <<EOF
# written by scripts/container-build.sh
[storage]
driver = "$CB_DRIVER"
graphroot = "$CB_ROOT/storage-$CB_DRIVER"
runroot = "$CB_RUNROOT"
EOF
  # Renamed into place: concurrent callers never read a half-written file.
  mv -f "$CB_ROOT/containers.conf.new" "$CB_ROOT/containers.conf"
  mv -f "$CB_ROOT/storage-$CB_DRIVER.conf.new" "$CB_ROOT/storage-$CB_DRIVER.conf"
}

export_env() {
  export CONTAINERS_CONF="$CB_ROOT/containers.conf"
  export CONTAINERS_STORAGE_CONF="$CB_ROOT/storage-$CB_DRIVER.conf"
  export BUILDAH_ISOLATION=oci
}

setup() { install_missing; write_conf; export_env; }

# The Debian mirror for $CB_SUITE, read from this host's apt configuration.
mirror_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$CB_SUITE" '
      /^[[:space:]]*$/ {u=""; ok=0; next}
      /^URIs:/   {u=$2}
      /^Suites:/ {for(i=2;i<=NF;i++) if($i==s) ok=1}
      u!="" && ok {print u; exit}' "$f"
  done | head -n1 | grep . && return 0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$CB_SUITE" '$1=="deb" {for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){ if($(i+1)==s){print $i; exit} }}' "$f"
  done | head -n1 | grep . && return 0
  return 1
}

host_source_files() {
  grep -lE "(^Suites:.*[[:space:]]$CB_SUITE([[:space:]]|\$))|(^deb[[:space:]].*[[:space:]]$CB_SUITE[[:space:]])" \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
}

make_base() {
  local force=${1:-}
  # Builds and tests may ask for the base at the same time: one makes it, the others wait.
  exec 9>"$CB_ROOT/base.lock"
  flock -w 600 9 || die "timed out waiting for another base image build"
  if [ "$force" != --force ] && podman image exists "$BASE_TAG" 2>/dev/null; then
    flock -u 9; return 0
  fi
  local mirror tmp t0 f
  mirror=$(mirror_uri) || die "no apt source for suite $CB_SUITE found"
  tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/sipreg-rootfs.XXXXXX"); TMP_DIRS+=("$tmp")
  t0=$(date +%s)
  log "debootstrap --variant=minbase $CB_SUITE ..."
  debootstrap --variant=minbase "$CB_SUITE" "$tmp/rootfs" "$mirror" > "$tmp/debootstrap.log" 2>&1 \
    || { tail -20 "$tmp/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -f "$tmp/rootfs/etc/apt/sources.list"
  for f in $(host_source_files); do cp "$f" "$tmp/rootfs/etc/apt/sources.list.d/"; done
  # "slim" as Debian's own image means it: no manuals, documentation or translations, now
  # or from packages installed later (copyright files stay).
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
    'path-exclude /usr/share/groff/*' > "$tmp/rootfs/etc/dpkg/dpkg.cfg.d/excludes"
  find "$tmp/rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$tmp/rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$tmp/rootfs/usr/share/man/"* "$tmp/rootfs/usr/share/info/"* "$tmp/rootfs/usr/share/locale/"* \
         "$tmp/rootfs/usr/share/lintian/"* "$tmp/rootfs/usr/share/groff/"*
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"* \
         "$tmp/rootfs/var/log/"*.log "$tmp/rootfs/var/cache/apt/"*.bin
  mkdir -p "$tmp/rootfs/var/lib/apt/lists/partial"
  tar -C "$tmp/rootfs" --numeric-owner -cf - . | podman import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/bash"]' - "$BASE_TAG" >/dev/null
  podman tag "$BASE_TAG" "docker.io/library/debian:$CB_SUITE" "docker.io/library/debian:$CB_SUITE-slim"
  rm -rf "$tmp"
  flock -u 9
  log "base image $BASE_TAG (also debian:$CB_SUITE-slim) made in $(( $(date +%s) - t0 )) s"
}

build() {
  local ctx=${1:?CONTEXT folder required}; shift
  local tag
  tag=localhost/$(basename "$(realpath "$ctx")"):latest
  if [ $# -gt 0 ] && [ "$1" != -- ]; then tag=$1; shift; fi
  [ "${1:-}" = -- ] && shift
  make_base
  local t0; t0=$(date +%s)
  podman build --pull=never --format docker --network host --isolation oci -t "$tag" "$@" "$ctx"
  log "built $tag in $(( $(date +%s) - t0 )) s"
}

cmd=${1:-help}; shift || true
case $cmd in
  setup)  setup; log "storage and config in $CB_ROOT";;
  base)   setup; make_base "${1:-}";;
  build)  setup; build "$@";;
  podman) setup; exec podman "$@";;
  env)    setup >/dev/null
          echo "export CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF BUILDAH_ISOLATION=oci";;
  clean)  setup
          if [ "${1:-}" = --all ]; then
            podman system reset -f >/dev/null 2>&1 || true
            rm -rf "$CB_ROOT/storage-$CB_DRIVER" "$CB_RUNROOT"; log "removed all $CB_DRIVER storage"
          else
            podman rm -af >/dev/null 2>&1 || true
            podman images --format '{{.Repository}}:{{.Tag}} {{.ID}}' \
              | grep -v -E '^(localhost/debian|docker.io/library/debian):' \
              | awk '{print $2}' | sort -u | xargs -r podman rmi -f >/dev/null 2>&1 || true
            podman image prune -f >/dev/null 2>&1 || true; log "kept the base image only"
          fi;;
  help|-h|--help) sed -n '2,28p' "$0";;
  *) die "unknown command $cmd (try --help)";;
esac
