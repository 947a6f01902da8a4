#!/usr/bin/env bash
# unit-check.sh - static checks of a systemd unit file, no systemd as PID 1 needed.
#
#   scripts/ops/unit-check.sh UNIT_FILE [--exec PATH] [--max-exposure N] [--show]
#
#   * systemd-analyze verify on a temporary copy of the unit. verify exits 0 even for
#     unknown keys and unparsable values ("Unknown key ..., ignoring"), so ANY output
#     counts as a failure. verify also fails when a command's binary is not an executable
#     file here: --exec PATH replaces the ExecStart= binary in every Exec*= line of the copy
#     (e.g. with the freshly built daemon). Documentation= man pages are not checked.
#   * systemd-analyze security --offline=true: fails when the overall exposure is above
#     --max-exposure (default 1.5).
# Prints "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

unit=${1:?usage: unit-check.sh UNIT_FILE [--exec PATH] [--max-exposure N] [--show]}; shift
exec_path="" max=1.5 show=0
while [ $# -gt 0 ]; do
  case $1 in
    --exec) exec_path=$2; shift 2;;
    --max-exposure) max=$2; shift 2;;
    --show) show=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -f "$unit" ] || { echo "no such unit file: $unit" >&2; exit 2; }
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (apt-get install systemd)" >&2; exit 2; }

pass=0 fail=0
ok()  { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
name=$(basename "$unit")
# systemd needs a unit suffix: sipregd.service.in -> sipregd.service
while ! [[ $name =~ \.(service|socket|timer|path|mount|target)$ ]] && [[ $name == *.* ]]; do name=${name%.*}; done
cp "$unit" "$tmp/$name"

cur=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit" | head -n1)
if [ -n "$exec_path" ] && [ -n "$cur" ]; then
  exec_path=$(realpath "$exec_path")
  sed -i "s#^\(Exec[A-Za-z]*=[-@:+!]*\)$cur\([ ]\|\$\)#\1$exec_path\2#" "$tmp/$name"
  echo "note: $cur -> $exec_path in the Exec lines (copy only)"
fi

out=$(cd "$tmp" && systemd-analyze verify --man=no "./$name" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $name (no output)"
else bad "systemd-analyze verify $name (rc=$rc)"; printf '%s\n' "$out" | sed 's/^/    /'; fi

sec=$(cd "$tmp" && systemd-analyze security --offline=true "./$name" 2>&1); rc=$?
score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
[ $show = 1 ] && printf '%s\n' "$sec"
printf '%s\n' "$sec" | grep -E '^✗' | sed 's/^/    /'
if [ $rc -eq 0 ] && [ -n "$score" ] && awk -v s="$score" -v m="$max" 'BEGIN{exit !(s<=m)}'; then
  ok "exposure $score <= $max"
else
  bad "exposure ${score:-?} > $max (rc=$rc)"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
