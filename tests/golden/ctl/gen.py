#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# Regenerates the expected wgctl outputs in this directory from Debian's wg(8)
# (wireguard-tools v1.0.20210914), the reference, not our code. Run as root from anywhere:
#   /usr/bin/python3 tests/golden/ctl/gen.py [NAME...]
# With NAMEs (show templates or set cases below), only those are regenerated.
#
# A fake UAPI daemon listens on /var/run/wireguard/wgctlgold.sock.
#  - show: for each in/NAME.tmpl it answers get=1 with the template, "@NOW-N@" replaced by
#    the current Unix time minus N, and records what `wg show` prints (plain, coloured,
#    with keys, each field, dump) and `wg showconf`, plus the reply it served (NAME.get)
#    and that time (NAME.now), so that tests/unit/ctl_test.c can replay the same reply at
#    the same "now". A run that straddles a second boundary is retried.
#  - set: for each case below it answers set=1 with errno=0 and records the request that
#    `wg set`, `wg setconf` or `wg addconf` sent (NAME.req) with the arguments (NAME.args,
#    one per line, paths relative to the repository root).
import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
IFNAME = 'wgctlgold'
SOCK = '/var/run/wireguard/%s.sock' % IFNAME
IN = os.path.relpath(os.path.join(HERE, 'in'), ROOT)

FIELDS = ['public-key', 'private-key', 'listen-port', 'fwmark', 'peers', 'preshared-keys',
          'endpoints', 'allowed-ips', 'latest-handshakes', 'persistent-keepalive', 'transfer',
          'dump']

PUB = {
    'k1': 'yb35g17ryfpD/SA9B4ovqyegIUZpzu1DW+DcWbYeHws=',
    'k2': 'FI9ZbbVAveaVM3FrURJ+JKMi2Q+t/xRUwXPnA+z3RnA=',
    'k3': 'XhlNzqxlnCHHcbVEHNltu90C2CM9b2efedLox+XGEBI=',
}
SETS = {
    'set_full': ['set', IFNAME, 'listen-port', '51820', 'fwmark', '0x10', 'private-key',
                 IN + '/a.key', 'peer', PUB['k1'], 'preshared-key', IN + '/psk.key',
                 'endpoint', '192.0.2.1:51820', 'persistent-keepalive', '25', 'allowed-ips',
                 '10.0.0.0/8, fd00::/64,192.168.1.1', 'peer', PUB['k2'], 'remove', 'peer',
                 PUB['k3'], 'allowed-ips', '', 'endpoint', '[2001:db8::1]:1',
                 'persistent-keepalive', 'off'],
    'set_devnull': ['set', IFNAME, 'fwmark', 'off', 'private-key', '/dev/null', 'peer',
                    PUB['k1'], 'preshared-key', '/dev/null', 'endpoint', '[::ffff:1.2.3.4]:9'],
    'set_peer_only': ['set', IFNAME, 'peer', PUB['k2']],
    'setconf': ['setconf', IFNAME, IN + '/setconf.conf'],
    'addconf': ['addconf', IFNAME, IN + '/setconf.conf'],
    # files wg accepts without [Interface] or PrivateKey, and device keys named as zero
    'setconf_no_private_key': ['setconf', IFNAME, IN + '/no-private-key.conf'],
    'addconf_no_private_key': ['addconf', IFNAME, IN + '/no-private-key.conf'],
    'setconf_peers_only': ['setconf', IFNAME, IN + '/peers-only.conf'],
    'addconf_peers_only': ['addconf', IFNAME, IN + '/peers-only.conf'],
    'setconf_empty': ['setconf', IFNAME, IN + '/empty.conf'],
    'addconf_named_zeros': ['addconf', IFNAME, IN + '/named-zeros.conf'],
}


class FakeDaemon:
    def __init__(self):
        self.reply = b'errno=0\n\n'
        self.requests = []
        if os.path.exists(SOCK):
            os.unlink(SOCK)
        os.makedirs(os.path.dirname(SOCK), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(SOCK)
        self.sock.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            data = b''
            while not (data == b'\n' or data.endswith(b'\n\n')):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            if data.startswith(b'get=1\n'):
                conn.sendall(self.reply)
            elif data.startswith(b'set=1\n'):
                self.requests.append(data)
                conn.sendall(b'errno=0\n\n')
            conn.close()

    def close(self):
        self.sock.close()
        os.unlink(SOCK)


def wg(args, env=None):
    e = dict(os.environ, WG_COLOR_MODE='never')
    e.pop('WG_HIDE_KEYS', None)
    e.update(env or {})
    r = subprocess.run(['wg'] + args, cwd=ROOT, env=e, capture_output=True)
    if r.returncode:
        sys.exit('wg %s failed: %s' % (' '.join(args), r.stderr.decode()))
    return r.stdout


def expand(tmpl, now):
    def sub(m):
        return str(now + int(m.group(1) or 0))
    return re.sub(r'@NOW([+-][0-9]+)?@', sub, tmpl)


def write(name, data):
    with open(os.path.join(HERE, name), 'wb') as f:
        f.write(data)


def gen_show(d, name, tmpl):
    for _ in range(5):
        now = int(time.time())
        d.reply = expand(tmpl, now).encode()
        out = {'show': wg(['show', IFNAME]),
               'show-color': wg(['show', IFNAME], {'WG_COLOR_MODE': 'always'}),
               'show-keys': wg(['show', IFNAME], {'WG_HIDE_KEYS': 'never'}),
               'showconf': wg(['showconf', IFNAME])}
        for field in FIELDS:
            out[field] = wg(['show', IFNAME, field])
        if int(time.time()) == now:
            break
    else:
        sys.exit('could not stay within one second')
    write(name + '.get', d.reply)
    write(name + '.now', b'%d\n' % now)
    for k, v in out.items():
        write('%s.%s' % (name, k), v)


def gen_set(d, name, args):
    d.requests = []
    wg(args)
    assert len(d.requests) == 1, d.requests
    write(name + '.req', d.requests[0])
    write(name + '.args', ''.join(a + '\n' for a in args).encode())


def main():
    only = set(sys.argv[1:])
    shows = [f[:-5] for f in sorted(os.listdir(os.path.join(HERE, 'in'))) if f.endswith('.tmpl')]
    unknown = only - set(shows) - set(SETS)
    if unknown:
        sys.exit('unknown case(s): %s' % ' '.join(sorted(unknown)))
    d = FakeDaemon()
    try:
        for name in shows:
            if not only or name in only:
                gen_show(d, name, open(os.path.join(HERE, 'in', name + '.tmpl')).read())
        for name, args in SETS.items():
            if not only or name in only:
                gen_set(d, name, args)
    finally:
        d.close()


main()
