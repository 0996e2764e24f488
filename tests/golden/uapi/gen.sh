#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the expected get=1 text of each NAME.set here with Debian's wireguard-go
# (the reference implementation, not our code): start it in a scratch network namespace,
# send NAME.set over its UAPI socket, then send get=1 and keep the reply as NAME.get.
# wireguard-go lists peers in Go map order, so the peer blocks are put back in the order
# of the .set file's public_key lines (wgd lists peers in creation order). Needs root.
set -e
cd "$(dirname "$0")"
ns=wgd-golden-$$
ifname=wggold$$
sock=/var/run/wireguard/$ifname.sock
ip netns add "$ns"
trap 'kill $pid 2>/dev/null; ip netns del "$ns"; rm -f "$sock"' EXIT
ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$ifname" >/dev/null 2>&1 &
pid=$!
while [ ! -S "$sock" ]; do sleep 0.1; done
for set in *.set; do
	/usr/bin/python3 - "$sock" "$set" "${set%.set}.get" <<'PY'
import socket, sys
sock, setfile, getfile = sys.argv[1:]
def call(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(data)
    out = b''
    while not out.endswith(b'\n\n'):
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode()
msg = open(setfile, 'rb').read()
assert call(msg) == 'errno=0\n\n'
reply = call(b'get=1\n\n')
assert reply.endswith('errno=0\n\n')
head, *peers = reply[:-len('errno=0\n\n')].split('public_key=')
blocks = {p[:64]: 'public_key=' + p for p in peers}
order = [l[len('public_key='):] for l in msg.decode().splitlines() if l.startswith('public_key=')]
open(getfile, 'w').write(head + ''.join(blocks[k] for k in order))
PY
done
