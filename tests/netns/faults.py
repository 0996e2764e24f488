# SPDX-License-Identifier: MIT
"""Helpers that tests/netns/faults.sh runs with /usr/bin/python3 inside its namespaces.

  tcp-sink HOST PORT OUT               accept one connection; OUT: bytes and sha256 received
  tcp-source HOST PORT BYTES RATE OUT  send random bytes (RATE bytes/s, 0: unpaced);
                                       OUT: bytes, sha256, seconds
  seq-send HOST PORT COUNT PPS [SIZE]  COUNT datagrams numbered 0.. at PPS
  seq-recv HOST PORT COUNT OUT IDLE    count them until IDLE s of silence; OUT: unique,
                                       duplicates, missing, max_disorder
  probe-send HOST PORT INTERVAL SECS   numbered datagrams every INTERVAL s
  probe-recv HOST PORT OUT             append "unix-time seq" per datagram to OUT
  sniff IFACE OUT SECS to|from PORT TYPE MINLEN MAXLEN
                                       the first WireGuard message of TYPE to/from PORT
                                       over IFACE, written raw to OUT (OUT.ready once bound)
  forge-cookie PUB RESPONSE OUT        a cookie reply to the captured RESPONSE, made as
                                       the holder of PUB would (whitepaper 5.4.7)
  send-files SRC SPORT DST DPORT FILE...  each FILE as one datagram from SRC:SPORT
  jget FILE EXPR                       print EXPR over the JSON in FILE (as j)
"""
import hashlib, json, os, socket, struct, sys, time

def fam(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def dump(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".tmp", path)

def udp(host, port=0, rcvbuf=0):
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE: we are root
    s.bind((host, int(port)))
    return s

def pace(t0, done, rate):
    ahead = done / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)

def tcp_sink(host, port, out):
    s = socket.socket(fam(host))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(1)
    c, _ = s.accept()
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.close()
    dump(out, {"bytes": n, "sha256": h.hexdigest()})

def tcp_source(host, port, nbytes, rate, out):
    nbytes, rate, deadline = int(nbytes), float(rate), time.monotonic() + 10
    while True:
        try:
            c = socket.create_connection((host, int(port)), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    c.settimeout(None)
    h, sent, t0 = hashlib.sha256(), 0, time.monotonic()
    while sent < nbytes:
        b = os.urandom(min(1 << 16, nbytes - sent))
        c.sendall(b)
        h.update(b)
        sent += len(b)
        if rate:
            pace(t0, sent, rate)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)  # the sink closes once it has read everything
    dump(out, {"bytes": sent, "sha256": h.hexdigest(), "seconds": time.monotonic() - t0})

def seq_send(host, port, count, pps, size=64):
    s, t0 = udp("0.0.0.0" if fam(host) == socket.AF_INET else "::"), time.monotonic()
    pad = b"\0" * (int(size) - 8)
    for i in range(int(count)):
        s.sendto(struct.pack("!Q", i) + pad, (host, int(port)))
        if i % 16 == 15:
            pace(t0, i + 1, float(pps))

def seq_recv(host, port, count, out, idle):
    s, count = udp(host, port, 64 << 20), int(count)
    seen, dups, hi, disorder = bytearray(count), 0, -1, 0
    s.settimeout(float(idle))
    unique = 0
    try:
        while True:
            q = struct.unpack("!Q", s.recv(2048)[:8])[0]
            if q >= count:
                continue
            if seen[q]:
                dups += 1
                continue
            seen[q], unique = 1, unique + 1
            disorder = max(disorder, hi - q)
            hi = max(hi, q)
            if unique == count:
                s.settimeout(0.5)  # late duplicates still count
    except socket.timeout:
        pass
    dump(out, {"unique": unique, "duplicates": dups, "missing": count - unique,
               "max_disorder": disorder})

def probe_send(host, port, interval, duration):
    s, t0, i = udp("0.0.0.0"), time.monotonic(), 0
    while time.monotonic() - t0 < float(duration):
        try:
            s.sendto(struct.pack("!Q", i), (host, int(port)))
        except OSError:
            pass  # no route while the tunnel is down
        i += 1
        pace(t0, i, 1 / float(interval))

def probe_recv(host, port, out):
    s = udp(host, port)
    with open(out, "a") as f:
        while True:
            d = s.recv(64)
            f.write("%.6f %d\n" % (time.time(), struct.unpack("!Q", d[:8])[0]))
            f.flush()

def sniff(iface, out, timeout, way, port, mtype, minlen, maxlen):
    """The first UDP payload over iface to/from port, of that type and length."""
    # ETH_P_ALL: a socket bound to ETH_P_IP alone would not see what iface sends
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
    s.bind((iface, 3))
    open(out + ".ready", "w").close()
    s.settimeout(1)
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        try:
            p, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[1] != 0x0800:
            continue
        ihl = (p[0] & 15) * 4
        if p[9] != 17 or struct.unpack("!H", p[6:8])[0] & 0x1fff:
            continue
        sport, dport = struct.unpack("!HH", p[ihl:ihl + 4])
        pay = p[ihl + 8:]
        if (dport if way == "to" else sport) != int(port) or not pay:
            continue
        if pay[0] == int(mtype) and int(minlen) <= len(pay) <= int(maxlen):
            with open(out, "wb") as f:
                f.write(pay)
            return
    sys.exit("sniff: nothing captured on %s in %s s" % (iface, timeout))

def forge_cookie(pub_b64, resp, out):
    """A cookie reply to the response in file resp, as the holder of pub would make it."""
    import base64
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt as seal
    m = open(resp, "rb").read()
    key = hashlib.blake2s(b"cookie--" + base64.b64decode(pub_b64)).digest()
    nonce = os.urandom(24)
    enc = seal(os.urandom(16), m[-32:-16], nonce, key)
    with open(out, "wb") as f:
        f.write(struct.pack("<I", 3) + m[4:8] + nonce + enc)

def send_files(src, sport, dst, dport, *files):
    s = udp(src, sport)
    for name in files:
        s.sendto(open(name, "rb").read(), (dst, int(dport)))

def jget(path, expr):
    j = json.load(open(path))
    print(eval(expr, {"j": j}))

globals()[sys.argv[1].replace("-", "_")](*sys.argv[2:])
