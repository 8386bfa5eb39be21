# SPDX-License-Identifier: MIT
# Shell helpers shared by the integration scripts: source "$(dirname "$0")/../lib.sh".

# free_port: prints a loopback TCP port that was free a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT: waits up to 10 s for something to listen on 127.0.0.1:PORT; fails otherwise.
# (Each probe is a connection the server sees.)
wait_port() {
	for _ in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1)).close()" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
