#!/bin/bash
# SPDX-License-Identifier: MIT
# The ninep client commands against a real server on a free loopback port.
#   cli-test.sh NINEP diod              Debian's diod (9P2000.L only; needs root)
#   cli-test.sh NINEP ninep [DIALECT]   ninep's own `ninep serve` (9P2000.L, 9P2000.u or 9P2000)
# Exit 0: pass, 1: fail, 77: skipped (server unavailable).
# BIG_MIB (default 256) sets the size of the large-file test: 256 MiB in CI to save time.
set -u
NINEP=${1:?usage: cli-test.sh NINEP diod|ninep [DIALECT]}
SERVER=${2:?}
DIALECT=${3:-9P2000.L}
BIG_MIB=${BIG_MIB:-256}

work=$(mktemp -d /tmp/ninep-cli-test.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export_dir=$work/export
mkdir -p "$export_dir"

case $SERVER in
  diod)
    if [ ! -x /usr/sbin/diod ] || [ "$(id -u)" != 0 ]; then echo "skip: needs diod and root"; exit 77; fi
    /usr/sbin/diod -f -n -l "127.0.0.1:$port" -e "$export_dir" -L /dev/null &
    server_pid=$!
    conn=(--aname "$export_dir" --version 9P2000.L)
    ;;
  ninep)
    if ! "$NINEP" serve --help >/dev/null 2>&1; then echo "skip: no ninep serve"; exit 77; fi
    # Every attach acts as the test's own user, whatever the client names (loopback rig).
    "$NINEP" serve --no-auth --anonymous-user "$(id -un)" --listen "tcp!127.0.0.1!$port" \
      --log-level error "$export_dir" &
    server_pid=$!
    conn=(--version "$DIALECT")
    ;;
  *) echo "unknown server $SERVER"; exit 1 ;;
esac
addr="tcp!127.0.0.1!$port"
for _ in $(seq 100); do
  "$NINEP" ls "$addr" "${conn[@]}" / >/dev/null 2>&1 && break
  sleep 0.1
done

failures=0
pass() { echo "ok   - $1"; }
failed() { echo "FAIL - $1"; failures=$((failures + 1)); }
n() { "$NINEP" "$1" "$addr" "${conn[@]}" "${@:2}"; }
# expect_ok NAME CMD...: the command succeeds.
expect_ok() { local name=$1; shift; if "$@" >"$work/out" 2>"$work/err"; then pass "$name"; else failed "$name: $(cat "$work/err")"; fi; }
# expect_err NAME PATTERN CMD...: the command fails with status 1 and stderr matching PATTERN.
expect_err() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"; local rc=$?
  if [ $rc = 1 ] && grep -q -- "$pattern" "$work/err"; then pass "$name"; else failed "$name (rc $rc): $(cat "$work/err")"; fi
}
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
supports_links() { [ "$SERVER" = diod ] || [ "$DIALECT" != 9P2000 ]; }

# A source tree with nested directories, empty files and binary data.
src=$work/src
mkdir -p "$src/a/b/c" "$src/empty"
echo hello >"$src/hello.txt"
: >"$src/a/zero"
head -c 3000000 /dev/urandom >"$src/a/b/random.bin"
for i in $(seq 50); do echo "$i" >"$src/a/b/c/f$i"; done
supports_links && ln -s hello.txt "$src/link"

# put, then get back, both recursive; checksums must agree.
expect_ok "put tree" n put "$src" /tree
expect_ok "get tree" n get -q /tree "$work/back"
if [ "$(tree_sums "$src")" = "$(tree_sums "$work/back")" ]; then pass "tree round trip checksums"; else failed "tree round trip checksums"; fi
if [ "$(tree_sums "$src")" = "$(tree_sums "$export_dir/tree")" ]; then pass "server copy checksums"; else failed "server copy checksums"; fi
[ -d "$work/back/empty" ] && pass "empty directory copied" || failed "empty directory copied"
if supports_links; then
  [ "$(readlink "$work/back/link")" = hello.txt ] && pass "symlink copied" || failed "symlink copied"
fi

# An aname the server does not serve is refused, and the refusal names it.
if [ "$SERVER" = ninep ]; then
  expect_err "unknown aname refused" 'aname "nope"' "$NINEP" ls "$addr" --version "$DIALECT" --aname nope /
fi

# ls
expect_ok "ls" n ls /tree
grep -qx "hello.txt" "$work/out" && grep -qx "a/" "$work/out" && pass "ls lists names" || failed "ls lists names"
expect_ok "ls -l" n ls -l /tree
grep -q '^-rw.* hello.txt$' "$work/out" && pass "ls -l format" || failed "ls -l format: $(cat "$work/out")"
expect_ok "ls -R" n ls -R /tree/a
grep -q '^/tree/a/b/c:$' "$work/out" && pass "ls -R recurses" || failed "ls -R recurses"
expect_ok "ls --json" n ls --json /tree
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(e["path"]=="/tree/hello.txt" and e["size"]==6 for e in d)' "$work/out" \
  && pass "ls --json parses" || failed "ls --json parses"
expect_err "ls missing" "ninep: ls /nope: file does not exist" n ls /nope

# shell: commands from stdin, as a script.
printf 'cd /tree\npwd\nls\ncat hello.txt\nstat a\ncd nope\n' | n shell >"$work/out" 2>"$work/err" || true
if grep -qx '/tree' "$work/out" && grep -qx 'a/' "$work/out" &&
  grep -q 'ninep: cd /tree/nope: file does not exist' "$work/err"; then
  pass "shell cd/pwd/ls/cat/stat"
else
  failed "shell: $(cat "$work/out" "$work/err")"
fi


# stat
expect_ok "stat" n stat /tree/hello.txt
grep -q "Size: 6" "$work/out" && pass "stat size" || failed "stat size"
expect_ok "stat --json" n stat --json /tree/a
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["type"]=="directory"' "$work/out" \
  && pass "stat --json parses" || failed "stat --json parses"
expect_err "stat missing" "ninep: stat /nope: file does not exist" n stat /nope

# cat
expect_ok "cat" n cat /tree/hello.txt
[ "$(cat "$work/out")" = hello ] && pass "cat content" || failed "cat content"
expect_err "cat missing" "ninep: cat /etc/nope: file does not exist" n cat /etc/nope
expect_err "cat directory" "ninep: cat /tree/a" n cat /tree/a/b/c/f1 /tree/a

# mkdir
expect_ok "mkdir" n mkdir /newdir
[ -d "$export_dir/newdir" ] && pass "mkdir made it" || failed "mkdir made it"
expect_err "mkdir existing" "ninep: mkdir /newdir: file already exists" n mkdir /newdir
expect_ok "mkdir -p" n mkdir -p /p/q/r
[ -d "$export_dir/p/q/r" ] && pass "mkdir -p made it" || failed "mkdir -p made it"
expect_err "mkdir no parent" "ninep: mkdir /x/y: file does not exist" n mkdir /x/y

# mv
expect_ok "mv rename" n mv /tree/hello.txt /tree/hi.txt
[ -f "$export_dir/tree/hi.txt" ] && pass "mv renamed" || failed "mv renamed"
if [ "$SERVER" = diod ] || [ "$DIALECT" = 9P2000.L ]; then
  expect_ok "mv into dir" n mv /tree/hi.txt /newdir
  [ -f "$export_dir/newdir/hi.txt" ] && pass "mv moved" || failed "mv moved"
else
  expect_err "mv across dirs" "operation not supported" n mv /tree/hi.txt /newdir
fi
expect_err "mv missing" "ninep: mv /nope: file does not exist" n mv /nope /nope2

# ln
if supports_links; then
  expect_ok "ln -s" n ln -s target /newdir/sym
  [ "$(readlink "$export_dir/newdir/sym")" = target ] && pass "ln -s made it" || failed "ln -s made it"
  expect_ok "ln" n ln /tree/a/zero /newdir/hard
  [ "$(stat -c %h "$export_dir/tree/a/zero")" = 2 ] && pass "ln made a hard link" || failed "ln made a hard link"
  expect_err "ln missing" "ninep: ln /newdir/h2: file does not exist" n ln /nope /newdir/h2
else
  expect_err "ln -s unsupported" "operation not supported" n ln -s target /newdir/sym
fi

# chmod
expect_ok "chmod" n chmod 600 /tree/a/zero
[ "$(stat -c %a "$export_dir/tree/a/zero")" = 600 ] && pass "chmod changed it" || failed "chmod changed it"
expect_err "chmod bad mode" "ninep: chmod 9x9" n chmod 9x9 /tree/a/zero
expect_err "chmod missing" "ninep: chmod /nope: file does not exist" n chmod 644 /nope

# rm
expect_ok "rm" n rm /tree/a/b/c/f1
[ ! -e "$export_dir/tree/a/b/c/f1" ] && pass "rm removed it" || failed "rm removed it"
expect_err "rm non-empty" "ninep: rm /tree/a: directory" n rm /tree/a
expect_ok "rm -r" n rm -r /tree
[ ! -e "$export_dir/tree" ] && pass "rm -r removed the tree" || failed "rm -r removed the tree"
expect_err "rm missing" "ninep: rm /nope: file does not exist" n rm /nope
expect_ok "rm -f missing" n rm -f /nope

# df
if [ "$SERVER" = diod ] || [ "$DIALECT" = 9P2000.L ]; then
  expect_ok "df" n df
  grep -q '^/ ' "$work/out" && pass "df output" || failed "df output"
else
  expect_err "df unsupported" "operation not supported" n df
fi

# A large file, byte-identical both ways.
head -c $((BIG_MIB << 20)) /dev/urandom >"$work/big.bin"
expect_ok "put ${BIG_MIB} MiB" n put "$work/big.bin" /big.bin
expect_ok "get ${BIG_MIB} MiB" n get -q /big.bin "$work/big.back"
if cmp -s "$work/big.bin" "$work/big.back"; then pass "large file identical"; else failed "large file identical"; fi
rm -f "$work/big.bin" "$work/big.back" "$export_dir/big.bin"

# Bad addresses and help.
expect_err "bad address" "ninep: ls nonsense!x" "$NINEP" ls 'nonsense!x' /
expect_err "refused" "ninep: ls tcp!127.0.0.1!1" "$NINEP" ls 'tcp!127.0.0.1!1' /
for cmd in ls stat cat get put mkdir rm mv ln chmod df shell; do
  "$NINEP" "$cmd" --help | grep -q "Example:" && pass "$cmd --help" || failed "$cmd --help"
done

echo "$failures failure(s)"
[ "$failures" = 0 ]
