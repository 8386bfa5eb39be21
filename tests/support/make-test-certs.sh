#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes a throwaway PKI for TLS tests in DIR (P-256 keys, valid one day):
#   ca.pem/ca.key        the CA that signs everything below
#   server.pem/.key      CN=localhost, subjectAltName DNS:localhost, IP:127.0.0.1
#   alice.pem/.key       client certificate, subject CN=alice
#   bob.pem/.key         client certificate, subject CN=bob
#   carol.pem/.key       client certificate, subject CN=carol
#   other-ca.pem/.key    an unrelated CA, and mallory.pem/.key (CN=alice) signed by it
# Usage: make-test-certs.sh DIR
set -eu
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -subj "/CN=$1" -days 1 2>/dev/null
}
# leaf NAME CN CA [EXTFILE]
leaf() {
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" \
    -days 1 ${4:+-extfile "$4"} 2>/dev/null
  rm -f "$1.csr"
}
ca ca
ca other-ca
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
leaf server localhost ca server.ext
leaf alice alice ca
leaf bob bob ca
leaf carol carol ca
leaf mallory alice other-ca
