#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLS 1.3 with client certificates (issue 10): `ninep serve --tls-cert ...` against the ninep
# CLI with certificates made here (tests/support/make-test-certs.sh). Who is refused, who acts
# as whom (--tls-users), what plaintext and foreign-CA clients get, start-up errors, and a file
# through the relay byte for byte. Needs root: the server acts as the users it grants.
#   tls-test.sh NINEP
set -uo pipefail
ninep=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
if [[ $(id -u) -ne 0 ]]; then echo "skip: needs root (the server acts as other users)"; exit 77; fi

work=$(mktemp -d)
chmod 0755 "$work"
u=nineptls$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	userdel "$u" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

fails=0
pass() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
# check DESCRIPTION COMMAND...: the command succeeds
check() {
	local d=$1; shift
	if "$@" >"$work/out" 2>&1; then pass "$d"; else fail "$d: $(cat "$work/out")"; fi
}
# refused DESCRIPTION PATTERN COMMAND...: the command fails, saying PATTERN
refused() {
	local d=$1 pat=$2; shift 2
	if "$@" >"$work/out" 2>&1; then
		fail "$d: succeeded: $(cat "$work/out")"
	elif grep -qi -- "$pat" "$work/out"; then
		pass "$d ($(head -1 "$work/out"))"
	else
		fail "$d: failed, but not with '$pat': $(cat "$work/out")"
	fi
}
source "$here/../lib.sh"

useradd -M -N -g nogroup -s /usr/sbin/nologin "$u"
certs=$work/certs
"$here/../../support/make-test-certs.sh" "$certs" || { echo "FAIL - making certificates"; exit 1; }
# alice may act as root; bob as the throwaway user (first, so the default) or nobody; carol's
# certificate is valid but granted nobody.
cat >"$work/users" <<EOF
# USER SUBJECT
root CN=alice
$u CN=bob
nobody CN=bob
EOF

exp=$work/export
mkdir -p "$exp/pub"
chmod 0755 "$exp"
chmod 1777 "$exp/pub"
echo "top secret" >"$exp/secret"
chmod 0600 "$exp/secret"

port=$(free_port)
# A second tcp listener on another loopback address, which the certificate does not name.
port2=$(free_port)
"$ninep" serve --listen "tcp!127.0.0.1!$port" --listen "tcp!127.0.0.2!$port2" --listen "unix!$work/sock" \
	--tls-cert "$certs/server.pem" --tls-key "$certs/server.key" \
	--tls-client-ca "$certs/ca.pem" --tls-users "$work/users" \
	--handshake-timeout-ms 2000 --log-level warn "$exp" 2>"$work/server.log" &
pids+=($!)
wait_port "$port" || { echo "FAIL - ninep serve --tls-cert did not start: $(cat "$work/server.log")"; exit 1; }
addr="tcp!localhost!$port"
as() { # as WHO ninep-args...: the CLI with WHO's certificate, verifying the server with ca.pem
	local who=$1 cmd=$2; shift 2
	"$ninep" "$cmd" --tls-cert "$certs/$who.pem" --tls-key "$certs/$who.key" \
		--tls-ca "$certs/ca.pem" --timeout 10 "$@"
}

# Granted identities.
check "alice (granted root) lists the export" as alice ls "$addr" /
check "alice reads root's 0600 file" as alice cat "$addr" /secret
echo "bob's" >"$work/b1"
check "bob writes with no name given" as bob put "$addr" "$work/b1" /pub/b1
[[ $(stat -c %U "$exp/pub/b1" 2>/dev/null) == "$u" ]] &&
	pass "... as his first granted user ($u)" || fail "... owner of /pub/b1: $(stat -c %U "$exp/pub/b1" 2>&1)"
check "bob names his second grant, nobody" as bob put --uname nobody "$addr" "$work/b1" /pub/b2
[[ $(stat -c %U "$exp/pub/b2" 2>/dev/null) == nobody ]] &&
	pass "... and acts as nobody" || fail "... owner of /pub/b2: $(stat -c %U "$exp/pub/b2" 2>&1)"
refused "bob cannot read root's 0600 file" "permission denied" as bob cat "$addr" /secret
refused "bob naming root is refused" "not permitted" as bob ls --uname root "$addr" /
refused "carol's valid certificate is granted no user" "permission denied" as carol ls "$addr" /
grep -q 'certificate "CN=carol" is granted no user' "$work/server.log" &&
	pass "the server log says why carol was refused" || fail "no log line for carol: $(cat "$work/server.log")"

# Refused at the handshake.
refused "a client without a certificate is refused" "ninep: ls" \
	"$ninep" ls --tls --tls-ca "$certs/ca.pem" --timeout 10 "$addr" /
refused "a certificate from another CA (mallory says CN=alice) is refused" "ninep: ls" \
	as mallory ls "$addr" /
grep -q "TLS: .*certificate" "$work/server.log" &&
	pass "the server log names the certificate failure" || fail "no TLS log line: $(cat "$work/server.log")"
refused "the client refuses a server its CA did not sign" "certificate verify failed" \
	"$ninep" ls --tls-cert "$certs/alice.pem" --tls-key "$certs/alice.key" \
	--tls-ca "$certs/other-ca.pem" --timeout 10 "$addr" /
refused "the client checks the server's name" "certificate verify failed" \
	as alice ls "tcp!127.0.0.2!$port2" /
refused "plaintext 9P to a TLS listener gets nowhere" "ninep: ls" \
	"$ninep" ls --timeout 10 "tcp!127.0.0.1!$port" /
refused "a client's missing key file is named" "$certs/nope.key" \
	"$ninep" ls --tls-cert "$certs/alice.pem" --tls-key "$certs/nope.key" "$addr" /

# The unix socket of the same server stays plain: the kernel vouches for its peers.
check "the unix listener speaks plain 9P (peer credentials)" "$ninep" ls "unix!$work/sock" /

# Bytes through the relay, both ways.
head -c $((48 << 20)) /dev/urandom >"$work/big"
check "48 MiB put through TLS" as alice put "$addr" "$work/big" /big
check "48 MiB get through TLS" as alice get "$addr" /big "$work/big.back"
cmp -s "$work/big" "$work/big.back" && pass "... byte-identical" || fail "... copies differ"
cmp -s "$work/big" "$exp/big" && pass "... and on the server" || fail "... server copy differs"

# Start-up mistakes: one line naming the problem, exit status 2, nothing served.
start_err() { # start_err DESCRIPTION PATTERN ARGS...
	local d=$1 pat=$2; shift 2
	local rc=0
	timeout 10 "$ninep" serve --listen "tcp!127.0.0.1!$(free_port)" "$@" "$exp" >"$work/out" 2>&1 || rc=$?
	if [[ $rc -eq 2 ]] && grep -q -- "$pat" "$work/out"; then pass "$d"; else fail "$d: rc $rc: $(cat "$work/out")"; fi
}
start_err "a missing certificate file is named" "$certs/nope.pem: No such file" \
	--tls-cert "$certs/nope.pem" --tls-client-ca "$certs/ca.pem" --tls-users "$work/users"
start_err "TLS without --tls-users is refused" "--tls-users" \
	--tls-cert "$certs/server.pem" --tls-key "$certs/server.key" --tls-client-ca "$certs/ca.pem"
printf 'root\n' >"$work/bad-users"
start_err "a malformed --tls-users line is named" "$work/bad-users:1:" \
	--tls-cert "$certs/server.pem" --tls-key "$certs/server.key" --tls-client-ca "$certs/ca.pem" \
	--tls-users "$work/bad-users"

echo "$fails failure(s)"
[[ $fails -eq 0 ]]
