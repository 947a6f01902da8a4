#!/bin/sh
# runtime-packages.sh BINARY...: prints, one per line, the Debian packages that ship the
# shared libraries the binaries load (from ldd and dpkg -S). The Dockerfile's runtime stage
# installs exactly these, so a new library dependency can never be forgotten there.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }

owner() {
    # With merged /usr a library may be recorded under /lib or /usr/lib: try both, and the
    # file a symlink points at.
    for p in "$1" "$(readlink -f "$1")"; do
        for q in "$p" "/usr${p#/usr}" "${p#/usr}"; do
            o=$(dpkg -S "$q" 2>/dev/null | head -n1 | cut -d: -f1) || true
            if [ -n "$o" ]; then echo "$o"; return 0; fi
        done
    done
    echo "no Debian package ships $1" >&2
    return 1
}

for bin in "$@"; do
    if ldd "$bin" | grep -q 'not found'; then
        ldd "$bin" >&2
        echo "$bin: unresolved libraries" >&2
        exit 1
    fi
    # Lines look like "libuv.so.1 => /lib/x86_64-linux-gnu/libuv.so.1 (0x...)" or
    # "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no file.
    ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
        owner "$lib"
    done
done | sort -u
