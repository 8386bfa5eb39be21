#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who attaches act as (issue 10; docs/man/ninep-serve.md, SECURITY), with real processes of
# real users: throwaway users made here (so root only; CI runs as root), a munged started here
# with a generated key, diod's tools against `ninep serve --auth munge`, and `ninep` against
# diod without -n. Raw 9P from p9raw.py sends forged unames exactly as told.
#   identity-test.sh NINEP
set -euo pipefail
ninep=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
raw="$here/p9raw.py"
if [[ $(id -u) -ne 0 ]]; then echo "skip: needs root (throwaway users, munged)"; exit 77; fi
for t in useradd userdel groupadd runuser python3 munged diod diodcat; do
	command -v "$t" >/dev/null || { echo "FAIL - $t missing (scripts/install-deps.sh --test)"; exit 1; }
done

work=$(mktemp -d)
chmod 0755 "$work"
u1=ninept1$$ u2=ninept2$$ g1=ninepg$$
pids=()
munge_sock=/run/munge/munge.socket.2
made_munge_dir=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ -f $work/munged.pid ]] && kill "$(cat "$work/munged.pid")" 2>/dev/null || true
	userdel "$u1" 2>/dev/null || true
	userdel "$u2" 2>/dev/null || true
	groupdel "$g1" 2>/dev/null || true
	[[ -n $made_munge_dir ]] && rm -rf /run/munge
	rm -rf "$work"
}
trap cleanup EXIT

fails=0
pass() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
expect() { # expect DESCRIPTION COMMAND...: the command succeeds
	local d=$1; shift
	if "$@" >"$work/out" 2>&1; then pass "$d"; else fail "$d: $(cat "$work/out")"; fi
}
refuse() { # refuse DESCRIPTION COMMAND...: the command fails
	local d=$1; shift
	if "$@" >"$work/out" 2>&1; then fail "$d: succeeded: $(cat "$work/out")"; else pass "$d"; fi
}
denied() { # denied DESCRIPTION COMMAND...: the server answers with an error (not: no connection)
	local d=$1; shift
	if "$@" >"$work/out" 2>&1; then
		fail "$d: succeeded: $(cat "$work/out")"
	elif grep -qi "^errno \|permission denied\|not permitted" "$work/out"; then
		pass "$d ($(head -1 "$work/out"))"
	else
		fail "$d: not a refusal by the server: $(cat "$work/out")"
	fi
}
source "$here/../lib.sh"
wait_for() { for _ in $(seq 100); do [[ -e $1 ]] && return 0; sleep 0.1; done; return 1; }
stop_server() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# Users left by a run that was killed (a timeout kills without running the EXIT trap).
for u in $(getent passwd | cut -d: -f1 | grep -E '^ninept[12][0-9]+$' || true); do userdel "$u" || true; done
for g in $(getent group | cut -d: -f1 | grep -E '^ninepg[0-9]+$' || true); do groupdel "$g" || true; done
groupadd "$g1"
useradd -M -N -g nogroup -G "$g1" -s /usr/sbin/nologin "$u1"
useradd -M -N -g nogroup -s /usr/sbin/nologin "$u2"
uid1=$(id -u "$u1") uid2=$(id -u "$u2") gid1=$(getent group "$g1" | cut -d: -f3)
as1() { runuser -u "$u1" -- "$@"; }

exp=$work/export
mkdir -p "$exp/pub"
chmod 0755 "$exp"
chmod 1777 "$exp/pub"
echo "top secret" >"$exp/secret"
chmod 0600 "$exp/secret"
echo "root's" >"$exp/rootfile"
chmod 0644 "$exp/rootfile"
cp /usr/bin/id "$exp/pub/idcopy"
chown "$u1" "$exp/pub/idcopy"

# ---- 1. unix socket, a non-root peer: itself, whatever it names ----
sock=$work/multi.sock
"$ninep" serve --multiuser --listen "unix!$sock" "$exp" 2>"$work/multi.log" &
pids+=($!)
wait_for "$sock" || { echo "FAIL - server did not start: $(cat "$work/multi.log")"; exit 1; }
[[ $(stat -c %a "$sock") == 666 ]] && pass "--multiuser socket is 0666" || fail "--multiuser socket mode $(stat -c %a "$sock")"
denied "non-root peer naming root cannot read a root-only 0600 file" \
	as1 python3 "$raw" "unix:$sock" --uname root --n-uname 0 read secret
denied "non-root peer (ninep CLI, --uname root) cannot read it either" \
	as1 "$ninep" cat --uname root "unix!$sock" secret
denied "non-root peer naming root cannot overwrite root's file" \
	as1 python3 "$raw" "unix:$sock" --uname root --n-uname 0 chmod rootfile 0666
denied "non-root peer naming another uid cannot chown root's file to itself" \
	as1 python3 "$raw" "unix:$sock" --uname "$u2" --n-uname "$uid2" chown rootfile "$uid1"
[[ $(stat -c '%u %a' "$exp/rootfile") == "0 644" && $(cat "$exp/rootfile") == "root's" ]] &&
	pass "root's file unchanged" || fail "root's file changed: $(stat -c '%u %a' "$exp/rootfile")"
expect "non-root peer naming root creates a file" \
	as1 python3 "$raw" "unix:$sock" --uname root --n-uname 0 create pub/made 0644
[[ $(stat -c %u "$exp/pub/made") == "$uid1" ]] && pass "...owned by the peer, not root" ||
	fail "pub/made owned by $(stat -c %u "$exp/pub/made")"
expect "non-root peer sets the setuid bit on its own copy of id(1)" \
	as1 python3 "$raw" "unix:$sock" --uname root --n-uname 0 chmod pub/idcopy 4755
denied "...and cannot give it to root" \
	as1 python3 "$raw" "unix:$sock" --uname root --n-uname 0 chown pub/idcopy 0
[[ -z $(find "$exp" -user root -perm -4000) ]] && pass "no setuid-root file in the export" ||
	fail "setuid-root files: $(find "$exp" -user root -perm -4000)"
# Supplementary groups come from SO_PEERGROUPS: the peer may give its file to its group.
expect "a user in a supplementary group chgrps its file to that group" \
	as1 python3 "$raw" "unix:$sock" create pub/grp 0644
expect "...chgrp" as1 python3 "$raw" "unix:$sock" chgrp pub/grp "$gid1"
[[ $(stat -c %g "$exp/pub/grp") == "$gid1" ]] && pass "...the file has the group" ||
	fail "pub/grp group $(stat -c %g "$exp/pub/grp")"
denied "...but not to a group it is not in" as1 python3 "$raw" "unix:$sock" chgrp pub/grp 0
stop_server "${pids[-1]}"

# Without --multiuser the socket is the server's own (0600); --socket-mode overrides.
sock2=$work/own.sock
"$ninep" serve --listen "unix!$sock2" "$exp" 2>"$work/own.log" &
pids+=($!)
wait_for "$sock2" && [[ $(stat -c '%a %u' "$sock2") == "600 0" ]] && pass "socket is 0600, the server's" ||
	fail "socket mode $(stat -c '%a %u' "$sock2" 2>&1)"
refuse "another user cannot connect to a 0600 socket" as1 python3 "$raw" "unix:$sock2" attach
stop_server "${pids[-1]}"
sock3=$work/mode.sock
"$ninep" serve --socket-mode 0660 --listen "unix!$sock3" "$exp" 2>"$work/mode.log" &
pids+=($!)
wait_for "$sock3" && [[ $(stat -c %a "$sock3") == 660 ]] && pass "--socket-mode 0660" ||
	fail "--socket-mode: $(stat -c %a "$sock3" 2>&1)"
stop_server "${pids[-1]}"

# ---- 2. tcp: refused, anonymous, or as named only when told ----
port=$(free_port)
"$ninep" serve --listen "tcp!127.0.0.1!$port" "$exp" 2>"$work/tcp.log" &
pids+=($!)
wait_port "$port"
denied "tcp attach without authentication is refused" python3 "$raw" "tcp:127.0.0.1:$port" --uname root --n-uname 0 attach
grep -q "authentication required" "$work/tcp.log" && pass "...and the log says why" || fail "no reason logged: $(cat "$work/tcp.log")"
stop_server "${pids[-1]}"

port=$(free_port)
"$ninep" serve --no-auth --listen "tcp!127.0.0.1!$port" "$exp" 2>"$work/anon.log" &
pids+=($!)
wait_port "$port"
denied "--no-auth: naming root does not read the 0600 file" python3 "$raw" "tcp:127.0.0.1:$port" --uname root --n-uname 0 read secret
expect "--no-auth: creates" python3 "$raw" "tcp:127.0.0.1:$port" --uname root --n-uname 0 create pub/anon 0644
[[ $(stat -c %U "$exp/pub/anon") == nobody ]] && pass "...as nobody" || fail "pub/anon owned by $(stat -c %U "$exp/pub/anon")"
stop_server "${pids[-1]}"

port=$(free_port)
"$ninep" serve --trust-uname --listen "tcp!127.0.0.1!$port" "$exp" 2>"$work/trust.log" &
pids+=($!)
wait_port "$port"
grep -q "warning: --trust-uname" "$work/trust.log" && pass "--trust-uname warns at start" || fail "no warning: $(cat "$work/trust.log")"
expect "--trust-uname: attaches act as named" python3 "$raw" "tcp:127.0.0.1:$port" --uname "$u2" create pub/trusted 0644
[[ $(stat -c %u "$exp/pub/trusted") == "$uid2" ]] && pass "...as $u2" || fail "pub/trusted owned by $(stat -c %u "$exp/pub/trusted")"
stop_server "${pids[-1]}"

refuse "--multiuser with a bare tcp listener refuses to start" "$ninep" serve --multiuser --listen "tcp!127.0.0.1!$(free_port)" "$exp"
grep -q "no way to tell users apart" "$work/out" && pass "...saying why" || fail "message: $(cat "$work/out")"

# ---- 3. MUNGE, against diod's tools and diod itself ----
if [[ ! -S $munge_sock ]]; then
	[[ -d /run/munge ]] || { mkdir -m 0755 /run/munge; made_munge_dir=1; }
	dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
	chmod 0600 "$work/munge.key"
	munged --key-file="$work/munge.key" --socket="$munge_sock" --pid-file="$work/munged.pid" \
		--log-file="$work/munged.log" --seed-file="$work/munged.seed"
	wait_for "$munge_sock"
fi
port=$(free_port)
"$ninep" serve --auth munge --multiuser --listen "tcp!127.0.0.1!$port" "$exp" 2>"$work/munge.log" &
pids+=($!)
wait_port "$port"
expect "diodcat authenticates (MUNGE) to ninep serve" diodcat -s "127.0.0.1:$port" -a "$exp" rootfile
grep -q "root's" "$work/out" && pass "...and reads" || fail "diodcat read: $(cat "$work/out")"
expect "diodls authenticates to ninep serve" diodls -s "127.0.0.1:$port" -a "$exp" -l
expect "ninep --auth munge authenticates to ninep serve" "$ninep" cat --auth munge "tcp!127.0.0.1!$port" rootfile
denied "ninep without --auth is refused" "$ninep" cat "tcp!127.0.0.1!$port" rootfile
as1 munge -n >"$work/cred1"
denied "a credential of $u1 with a forged n_uname 0 is refused" python3 "$raw" "tcp:127.0.0.1:$port" --uname root --n-uname 0 --cred "$work/cred1" attach
as1 munge -n >"$work/cred1b"
denied "a credential of $u1 acts as $u1: cannot read root's 0600 file" python3 "$raw" "tcp:127.0.0.1:$port" --uname "$u1" --n-uname "$uid1" --cred "$work/cred1b" read secret
as1 munge -n >"$work/cred1c"
expect "...and creates files as $u1" python3 "$raw" "tcp:127.0.0.1:$port" --uname "$u1" --n-uname "$uid1" --cred "$work/cred1c" create pub/munged 0644
[[ $(stat -c %u "$exp/pub/munged") == "$uid1" ]] && pass "...owned by $u1" || fail "pub/munged owned by $(stat -c %u "$exp/pub/munged")"
denied "a replayed credential is refused" python3 "$raw" "tcp:127.0.0.1:$port" --uname "$u1" --n-uname "$uid1" --cred "$work/cred1c" attach
# diod's mount helper: authenticate, hand the socket to the kernel, which sends Tversion again
# and attaches without an afid. The connection stays $u1's, and only $u1's.
as1 munge -n >"$work/cred1d"
expect "after a new Tversion, an afid-less attach still acts as $u1" python3 "$raw" "tcp:127.0.0.1:$port" --uname "$u1" --n-uname "$uid1" --cred "$work/cred1d" --reversion create pub/reversioned 0644
[[ $(stat -c %u "$exp/pub/reversioned" 2>/dev/null) == "$uid1" ]] && pass "...owned by $u1" || fail "pub/reversioned owned by $(stat -c %u "$exp/pub/reversioned" 2>&1)"
as1 munge -n >"$work/cred1e"
denied "after a new Tversion, naming root is still refused" python3 "$raw" "tcp:127.0.0.1:$port" --uname "$u1" --n-uname "$uid1" --cred "$work/cred1e" --reversion-as root:0 read secret
stop_server "${pids[-1]}"

dport=$(free_port)
diod --foreground --listen "127.0.0.1:$dport" --export "$exp" >"$work/diod.log" 2>&1 &
pids+=($!)
wait_port "$dport"
expect "ninep --auth munge authenticates to diod (without -n)" "$ninep" cat --auth munge --aname "$exp" "tcp!127.0.0.1!$dport" rootfile
grep -q "root's" "$work/out" && pass "...and reads" || fail "read from diod: $(cat "$work/out")"
denied "ninep without --auth is refused by diod" "$ninep" cat --aname "$exp" "tcp!127.0.0.1!$dport" rootfile
stop_server "${pids[-1]}"

if ((fails)); then echo "$fails check(s) failed"; exit 1; fi
echo "all identity checks passed"
