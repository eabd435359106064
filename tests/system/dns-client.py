#!/usr/bin/env python3
# dns-client.py: DNS queries for whoami.ovslb.test TXT, which the lab's
# unbound on each server node answers with the node's name (ovslb-lab), to
# a UDP VIP.  Every answer is checked: transaction id, the question echoed,
# RCODE 0, not truncated, one TXT answer for the name asked.
#
# With --big, the query is for big.ovslb.test TXT instead, padded (EDNS
# padding option) to BIG_QUERY bytes of DNS message, and its answer, the
# node's name followed by BIG_STRINGS strings of 250 "x", is about 3 KB:
# both sides are IP datagrams larger than the lab's MTU of 1,500 bytes,
# so they travel as fragments.  The answer must hold every string.
#
#   burst ADDR N [--parallel P] [--timeout S] [--big]
#       N queries, each from a socket of its own (a new source port, so a
#       new flow through the LB tier), at most P (32) outstanding, no
#       retries, an answer awaited S (1) seconds; prints
#       "answered A of N; srv1 X srv2 Y srv3 Z; bad B" (B: answers that
#       failed a check).  SIGTERM or SIGINT ends it early, with the line.
#   pinned ADDR F [--interval MS] [--timeout S] [--out FILE]
#       F long-lived sockets (flows), each asking every MS (100) ms once
#       its previous query is answered or S (1) seconds old, until SIGTERM
#       or SIGINT.  About once a second and at the end it replaces FILE
#       (standard output without --out) with "flows F sent S answered A
#       moved M" (M: flows that more than one server answered), then a
#       line "flow PORT servers srvX[,srvY]" ("-" for none) per flow; FILE
#       does not exist before the first summary.  A late answer counts.
#
# Exit status 0; 1 if it could not run (pinned: a flow's socket could not
# be made, say), 2 for bad arguments.  Python 3 standard library only.
import argparse
import os
import random
import re
import selectors
import signal
import socket
import struct
import sys
import time

QTYPE_TXT, QCLASS_IN, QTYPE_OPT = 16, 1, 41
EDNS_PADDING = 12
BIG_QUERY = 2000
BIG_STRINGS = 12        # As the lab's unbound.conf (ovslb-lab).
FILLER = b"x" * 250
SERVER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,63}")

stop = False


def on_signal(*_):
    global stop
    stop = True


class Ask:
    """What is asked: the name, its question section, the query's size."""

    def __init__(self, big):
        self.big = big
        self.qname = "big.ovslb.test" if big else "whoami.ovslb.test"
        self.question = (b"".join(bytes([len(label)]) + label.encode()
                                  for label in self.qname.split("."))
                         + b"\0" + struct.pack("!HH", QTYPE_TXT, QCLASS_IN))

    def query(self, txid):
        # Header: id, flags RD, one question (and, big, one OPT record).
        if not self.big:
            return (struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0)
                    + self.question)
        head = (struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 1)
                + self.question)
        # OPT: root name, type, UDP payload size 4096, no flags, RDATA one
        # padding option that fills the message up to BIG_QUERY bytes.
        pad = BIG_QUERY - len(head) - 11 - 4
        opt = (b"\0" + struct.pack("!HHIH", QTYPE_OPT, 4096, 0, 4 + pad)
               + struct.pack("!HH", EDNS_PADDING, pad) + b"\0" * pad)
        return head + opt


def read_name(msg, pos):
    """The name at 'pos' of 'msg' (lower case, compression followed) and
    the position after it."""
    labels, end, jumps = [], None, 0
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            jumps += 1
            if jumps > 16:
                raise ValueError("compression loop")
            if end is None:
                end = pos + 2
            pos = (n & 0x3F) << 8 | msg[pos + 1]
        elif n & 0xC0:
            raise ValueError("bad label type")
        elif n == 0:
            return ".".join(labels).lower(), pos + 1 if end is None else end
        else:
            label = msg[pos + 1:pos + 1 + n]
            if len(label) != n:
                raise ValueError("truncated label")
            labels.append(label.decode("ascii", "replace"))
            pos += 1 + n


def server_of(ask, msg, txid):
    """The server name that answer 'msg' to query 'txid' of 'ask' carries,
    or None if it fails a check."""
    try:
        if len(msg) < 12:
            return None
        rid, flags, qd, an = struct.unpack_from("!HHHH", msg)
        # QR set, opcode 0, not truncated, RCODE 0.
        if rid != txid or flags & 0xFA0F != 0x8000 or qd != 1 or an != 1:
            return None
        end = 12 + len(ask.question)
        if msg[12:end].lower() != ask.question:
            return None
        name, pos = read_name(msg, end)
        rtype, rclass, _, rdlen = struct.unpack_from("!HHIH", msg, pos)
        pos += 10
        rdata = msg[pos:pos + rdlen]
        if (name != ask.qname or rtype != QTYPE_TXT or rclass != QCLASS_IN
                or not rdlen or len(rdata) != rdlen):
            return None
        strings, i = [], 0
        while i < rdlen:
            strings.append(rdata[i + 1:i + 1 + rdata[i]])
            i += 1 + rdata[i]
        if i != rdlen:
            return None
        if ask.big:
            if strings[1:] != [FILLER] * BIG_STRINGS:
                return None
            strings = strings[:1]
        text = b"".join(strings).decode("ascii", "replace")
        if not SERVER_NAME.fullmatch(text):
            return None
        return text
    except (IndexError, ValueError, struct.error):
        return None


def udp_socket(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    # Connected: only the VIP's answers come in, and an ICMP error comes
    # back as an error of the socket.
    s.connect((addr, 53))
    return s


def burst(args):
    ask = Ask(args.big)
    sel = selectors.DefaultSelector()
    pending = {}        # socket -> (txid, deadline), oldest first
    started = answered = bad = 0
    servers = {"srv1": 0, "srv2": 0, "srv3": 0}

    def done(s):
        del pending[s]
        sel.unregister(s)
        s.close()

    while not stop and (started < args.n or pending):
        while started < args.n and len(pending) < args.parallel:
            started += 1
            txid = random.getrandbits(16)
            try:
                s = udp_socket(args.addr)
            except OSError:
                continue        # No route, say: not answered.
            try:
                s.send(ask.query(txid))
            except OSError:
                s.close()
                continue
            pending[s] = (txid, time.monotonic() + args.timeout)
            sel.register(s, selectors.EVENT_READ)
        if not pending:
            continue
        first = next(iter(pending.values()))[1]
        # (At most 0.1 s, to notice a signal soon.)
        wait = min(0.1, first - time.monotonic())
        for key, _ in sel.select(max(0, wait)):
            s = key.fileobj
            try:
                msg = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                done(s)         # Refused (ICMP): not answered.
                continue
            server = server_of(ask, msg, pending[s][0])
            done(s)
            if server is None:
                bad += 1
            else:
                answered += 1
                servers[server] = servers.get(server, 0) + 1
        now = time.monotonic()
        for s in [s for s, (_, t) in pending.items() if t <= now]:
            done(s)
    print("answered %d of %d; %s; bad %d"
          % (answered, args.n,
             " ".join("%s %d" % kv for kv in sorted(servers.items())), bad),
          flush=True)


class Flow:
    def __init__(self, addr):
        self.sock = udp_socket(addr)
        self.port = self.sock.getsockname()[1]
        self.txid = random.getrandbits(16)
        self.asked = {}         # txid -> when sent, unanswered ones
        self.current = None     # the txid awaited before the next query
        self.next_send = 0.0
        self.servers = []
        self.lost_run = 0       # queries lost in a row, so far
        self.lost_run_max = 0


def pinned(args):
    ask = Ask(False)
    if args.out is not None and os.path.exists(args.out):
        os.unlink(args.out)     # (A waiting test would take it as ours.)
    flows = [Flow(args.addr) for _ in range(args.n)]
    sel = selectors.DefaultSelector()
    interval = args.interval / 1000.0
    start = time.monotonic()
    for f in flows:
        sel.register(f.sock, selectors.EVENT_READ, f)
        # Spread over an interval, not all at once.
        f.next_send = start + random.uniform(0, interval)
    sent = answered = 0
    next_write = start + 1

    def write_summary():
        moved = sum(len(f.servers) > 1 for f in flows)
        lost_run_max = max(f.lost_run_max for f in flows)
        lines = ["flows %d sent %d answered %d moved %d lost_run_max %d"
                 % (len(flows), sent, answered, moved, lost_run_max)]
        lines += ["flow %d servers %s" % (f.port, ",".join(f.servers) or "-")
                  for f in flows]
        text = "\n".join(lines) + "\n"
        if args.out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        tmp = "%s.tmp" % args.out
        with open(tmp, "w") as out:
            out.write(text)
        os.replace(tmp, args.out)

    while not stop:
        now = time.monotonic()
        wake = now + 0.1
        for f in flows:
            if (f.current is not None
                    and now - f.asked[f.current] >= args.timeout):
                f.current = None        # Lost, unless it comes late.
                f.lost_run += 1
                f.lost_run_max = max(f.lost_run_max, f.lost_run)
            if f.current is None and now >= f.next_send:
                f.txid = (f.txid + 1) & 0xFFFF
                try:
                    f.sock.send(ask.query(f.txid))
                except OSError as e:
                    print("flow %d: send: %s" % (f.port, e), file=sys.stderr)
                f.current = f.txid
                f.asked[f.txid] = now
                f.next_send = now + interval
                sent += 1
                # Forget queries too old to be answered at all.
                for txid in [t for t, w in f.asked.items()
                             if now - w > 10 * args.timeout]:
                    del f.asked[txid]
            if f.current is not None:
                wake = min(wake, f.asked[f.current] + args.timeout)
            else:
                wake = min(wake, f.next_send)
        for key, _ in sel.select(max(0, wake - time.monotonic())):
            f = key.data
            try:
                msg = f.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                print("flow %d: %s" % (f.port, e), file=sys.stderr)
                continue
            txid = struct.unpack_from("!H", msg)[0] if len(msg) >= 2 else -1
            server = server_of(ask, msg, txid) if txid in f.asked else None
            if server is None:
                print("flow %d: bad answer %s" % (f.port, msg.hex()),
                      file=sys.stderr)
                continue
            del f.asked[txid]
            if txid == f.current:
                f.current = None
                f.lost_run = 0
            answered += 1
            if server not in f.servers:
                f.servers.append(server)
        if time.monotonic() >= next_write:
            write_summary()
            next_write = time.monotonic() + 1
    write_summary()


def main():
    parser = argparse.ArgumentParser(
        description="whoami.ovslb.test TXT queries to a UDP VIP")
    sub = parser.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("burst")
    b.add_argument("addr")
    b.add_argument("n", type=int)
    b.add_argument("--parallel", type=int, default=32)
    b.add_argument("--timeout", type=float, default=1.0)
    b.add_argument("--big", action="store_true")
    p = sub.add_parser("pinned")
    p.add_argument("addr")
    p.add_argument("n", type=int)
    p.add_argument("--interval", type=float, default=100)
    p.add_argument("--timeout", type=float, default=1.0)
    p.add_argument("--out")
    args = parser.parse_args()
    if (args.n < 1 or getattr(args, "parallel", 1) < 1 or args.timeout <= 0
            or getattr(args, "interval", 1) <= 0):
        parser.error("N, P, S and MS must be positive")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.mode == "burst":
            burst(args)
        else:
            pinned(args)
    except OSError as e:
        print("dns-client.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
