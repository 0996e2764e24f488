# SPDX-License-Identifier: MIT
"""A DNS server that answers late, for tests/netns/endpoints.sh.

    slow_dns.py ADDR DELAY_S MAP_FILE LOG_FILE

Listens on ADDR port 53 (UDP) and answers every query DELAY_S seconds after it came,
each in a thread of its own so that queries do not queue behind each other. MAP_FILE
holds "NAME IPV4" lines and is read again for every query, when it comes (so a query
asked before a change gets the old answer, however late), so a test changes an answer
by rewriting it: a name in it gets its A record (TTL 0) and an empty answer for any
other type; any other name gets NXDOMAIN. LOG_FILE gets one line per answer:
"<unix time asked> <unix time answered> <name> <type> <answer or ->".
"""
import socket
import struct
import sys
import threading
import time

QTYPE_A = 1


def question(query):
    """The query's (name, qtype, end of the question section)."""
    labels, pos = [], 12
    while query[pos]:
        n = query[pos]
        labels.append(query[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    qtype, = struct.unpack("!H", query[pos + 1:pos + 3])
    return ".".join(labels).lower(), qtype, pos + 5


def lookup(map_file, name):
    try:
        with open(map_file, encoding="ascii") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0].lower() == name:
                    return parts[1]
    except OSError:
        pass
    return None


def answer(sock, query, peer, delay, map_file, log):
    asked = time.time()
    name, qtype, end = question(query)
    addr = lookup(map_file, name)
    time.sleep(delay)
    flags = 0x8180 if addr else 0x8183  # response, RD, RA; NXDOMAIN without the name
    ancount = 1 if addr and qtype == QTYPE_A else 0
    reply = query[:2] + struct.pack("!HHHHH", flags, 1, ancount, 0, 0) + query[12:end]
    if ancount:
        reply += struct.pack("!HHHIH", 0xC00C, QTYPE_A, 1, 0, 4) + socket.inet_aton(addr)
    sock.sendto(reply, peer)
    with open(log, "a", encoding="ascii") as f:
        f.write(f"{asked:.3f} {time.time():.3f} {name} {qtype} {addr if ancount else '-'}\n")


def main():
    addr, delay, map_file, log = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 53))
    while True:
        query, peer = sock.recvfrom(512)
        if len(query) > 12:
            threading.Thread(target=answer, daemon=True,
                             args=(sock, query, peer, delay, map_file, log)).start()


if __name__ == "__main__":
    main()
