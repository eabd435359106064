#!/usr/bin/env python3
"""streams.py: long-lived checked TCP streams and a new-connection load.

Used by tests/system/conn-survival.sh (issue 8: no lost connection when an
LB node dies); runs in the lab's client namespace (ovslb-cli).  Standard
library only.

  streams.py run [options]
      Opens --conns (200) TCP connections to --vip:--echo-port (the lab's
      echo service, socat on every server node).  Each connection sends a
      deterministic pseudo-random byte stream (seeded by --seed and its
      index) in --chunk-byte chunks every --interval seconds and checks
      every byte of the echo against what it sent.  A connection is broken
      by an error, a RST, an EOF, a byte that differs, or no echo progress
      for --stall seconds while bytes are outstanding.  Connection setup
      (connect, then the echo of a first chunk) is retried (--retries):
      what never gets set up counts as a setup failure, not as broken.

      Alongside: --http-rate (20) HTTP/1.0 GETs per second of
      http://VIP:--http-port/, each on a new connection, each with a
      --http-timeout (3 s) deadline; one line per request in --req-log:
      "START_WALLCLOCK ok|fail LATENCY_MS REASON CLIENT_PORT SERVER" (the
      local port, "-" if none was bound; the server node named by the page,
      "-" if none answered), so that a failed request can be followed
      through the LB nodes' and agents' logs.

      Every --status-interval seconds --status FILE is rewritten (atomically)
      with "key value" lines: phase, target, established, connecting,
      setup_failed, broken, bytes_sent, bytes_verified, requests_ok,
      requests_fail, stalled (now waiting for the echo longer than
      --stall-note, 1 s), stalls (so far), stall_max_recovered (seconds),
      and one "broken_reason.REASON N" line per reason.
      --events FILE gets one line per noteworthy event (setup retries,
      broken connections: wall-clock time, connection, local port, reason).

      Runs until SIGTERM or SIGINT (or --duration seconds of streaming),
      then stops sending, waits (up to --drain seconds) for the echo of
      everything in flight, closes every connection cleanly (FIN both
      ways), prints a one-line JSON summary and exits 0 only if every
      connection was set up, none broke and every byte sent was verified;
      1 otherwise.

  streams.py analyze --req-log FILE --from T [--to T2]
      Of the requests started in [T, T2) (wall clock; T2 defaults to the
      end of the log), prints "key=value" words for a shell's eval: total,
      ok, fail, last_fail (seconds from T to the start of the last failed
      request, -1 if none), first_fail, slow (requests that took longer
      than --slow-ms, 1000), last_slow, max_ms, reasons (comma-separated
      reason:count).
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys
import time


def log_event(args, text):
    if args.events:
        with open(args.events, "a") as f:
            f.write("%.3f %s\n" % (time.time(), text))


def exc_reason(exc):
    if exc is None:
        return "closed"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(exc, OSError) and exc.errno is not None:
        import errno
        return errno.errorcode.get(exc.errno, "errno%d" % exc.errno).lower()
    return type(exc).__name__


class Stream(asyncio.Protocol):
    """One echo connection: sends a seeded stream, checks the echo."""

    def __init__(self, owner, index, attempt):
        self.owner = owner
        self.index = index
        self.attempt = attempt
        self.rng = random.Random((owner.args.seed << 20) ^ index)
        self.transport = None
        self.lport = 0
        self.pending = bytearray()      # sent, echo not yet verified
        self.sent = 0
        self.verified = 0
        self.waiting_since = None       # outstanding bytes, no progress since
        self.stall_noted = False        # waiting for more than --stall-note
        self.established = False        # the first chunk came back intact
        self.state = "connecting"       # connecting, open, closing, closed
        self.failure = None             # reason, once broken / failed
        self.paused = False
        self.setup_done = owner.loop.create_future()
        self.eof = owner.loop.create_future()

    # --- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.lport = sock.getsockname()[1]
        except OSError:
            pass
        self.state = "open"
        self.send_chunk()

    def data_received(self, data):
        n = len(data)
        if n > len(self.pending) or self.pending[:n] != data:
            got = bytes(data[:len(self.pending)])
            at = next((i for i, (a, b) in enumerate(zip(got, self.pending))
                       if a != b), min(n, len(self.pending)))
            self.fail("mismatch", "at byte %d of the stream (%d bytes "
                      "received, %d outstanding)" % (self.verified + at, n,
                                                      len(self.pending)))
            return
        del self.pending[:n]
        self.verified += n
        now = time.monotonic()
        if self.stall_noted:
            self.stall_noted = False
            self.owner.stall_recovered(self, now - self.waiting_since)
        self.waiting_since = now if self.pending else None
        if not self.established:
            self.established = True
            if not self.setup_done.done():
                self.setup_done.set_result(True)

    def eof_received(self):
        if self.state == "closing" and not self.pending:
            if not self.eof.done():
                self.eof.set_result(True)
            return False                # close the transport
        self.fail("eof", "%d bytes outstanding" % len(self.pending))
        return False

    def connection_lost(self, exc):
        if self.state in ("connecting", "open"):
            self.fail(exc_reason(exc), str(exc) if exc else "")
        if self.state == "closing" and not self.eof.done():
            if self.pending:
                self.fail(exc_reason(exc), "lost while draining")
            else:
                self.eof.set_result(True)
        if self.state != "broken":
            self.state = "closed"

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False

    # --- ours --------------------------------------------------------------
    def send_chunk(self):
        args = self.owner.args
        if (self.state != "open" or self.paused or self.transport is None
                or len(self.pending) >= args.max_inflight):
            return
        data = self.rng.randbytes(args.chunk)
        if not self.pending:
            self.waiting_since = time.monotonic()
        self.pending += data
        self.sent += len(data)
        self.transport.write(data)

    def fail(self, reason, detail=""):
        if self.failure is not None:
            return
        self.failure = reason
        was_established = self.established
        self.state = "broken"
        if self.transport is not None:
            self.transport.abort()
        if not self.setup_done.done():
            self.setup_done.set_result(False)
        if not self.eof.done():
            self.eof.set_result(False)
        if was_established:
            self.owner.broken_conn(self, reason, detail)

    def check_stall(self, now):
        if (self.state not in ("open", "closing")
                or self.waiting_since is None):
            return
        waited = now - self.waiting_since
        if waited > self.owner.args.stall:
            self.fail("stall", "no echo for %.1f s, %d bytes outstanding"
                      % (waited, len(self.pending)))
        elif waited > self.owner.args.stall_note and not self.stall_noted:
            self.stall_noted = True
            self.owner.stalls += 1
            log_event(self.owner.args, "conn %d lport %d STALL: no echo for "
                      "%.1f s, %d bytes outstanding" % (
                          self.index, self.lport, waited, len(self.pending)))

    def stalled(self, now):
        return (self.state == "open" and self.waiting_since is not None
                and now - self.waiting_since > self.owner.args.stall_note)


class Runner:
    def __init__(self, args):
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.streams = [None] * args.conns
        self.phase = "setup"
        self.connecting = 0
        self.setup_failed = 0
        self.setup_retries = 0
        self.broken = []                # (index, lport, time, reason, detail)
        self.req_ok = 0
        self.req_fail = 0
        self.req_inflight = 0
        self.stalls = 0                 # stalls longer than --stall-note
        self.stall_max = 0.0            # longest stall that recovered
        self.stop = asyncio.Event()
        self.req_log = open(args.req_log, "a", buffering=1) if args.req_log else None

    # --- connections -------------------------------------------------------
    async def setup(self, index, sem):
        args = self.args
        async with sem:
            for attempt in range(1, args.retries + 2):
                if self.stop.is_set():
                    break
                self.connecting += 1
                s = None
                reason = ""
                try:
                    _, s = await asyncio.wait_for(
                        self.loop.create_connection(
                            lambda: Stream(self, index, attempt),
                            args.vip, args.echo_port),
                        args.setup_timeout)
                    ok = await asyncio.wait_for(asyncio.shield(s.setup_done),
                                                args.setup_timeout)
                    reason = s.failure or ""
                except Exception as e:      # noqa: BLE001 (any failure: retry)
                    ok = False
                    reason = exc_reason(e)
                finally:
                    self.connecting -= 1
                if ok:
                    self.streams[index] = s
                    return
                if s is not None and s.transport is not None:
                    s.transport.abort()
                self.setup_retries += 1
                log_event(args, "conn %d setup attempt %d failed: %s"
                          % (index, attempt, reason))
                await asyncio.sleep(args.retry_delay)
        self.setup_failed += 1
        log_event(args, "conn %d setup FAILED after %d attempts"
                  % (index, args.retries + 1))

    def stall_recovered(self, s, waited):
        self.stall_max = max(self.stall_max, waited)
        log_event(self.args, "conn %d lport %d RECOVERED after %.1f s"
                  % (s.index, s.lport, waited))

    def broken_conn(self, s, reason, detail):
        self.broken.append((s.index, s.lport, time.time(), reason, detail))
        log_event(self.args, "conn %d lport %d BROKEN %s: %s (sent %d, "
                  "verified %d)" % (s.index, s.lport, reason, detail, s.sent,
                                    s.verified))

    def live(self):
        return [s for s in self.streams if s is not None and s.state == "open"]

    async def sender(self):
        # Connection i sends in slot i % SLOTS of every interval, so that
        # the chunks are spread over the interval, not sent in a burst.
        slots = 10
        tick = self.args.interval / slots
        t = self.loop.time()
        slot = 0
        while not self.stop.is_set() or self.phase == "setup":
            for i in range(slot, self.args.conns, slots):
                s = self.streams[i]
                if s is not None and s.state == "open":
                    s.send_chunk()
            slot = (slot + 1) % slots
            t += tick
            delay = t - self.loop.time()
            if delay < 0:
                t = self.loop.time()    # behind: do not catch up in a burst
                delay = 0
            try:
                await asyncio.wait_for(self.stop.wait(), delay)
            except asyncio.TimeoutError:
                pass
            if self.stop.is_set():
                return

    async def stall_checker(self):
        while True:
            now = time.monotonic()
            for s in self.streams:
                if s is not None:
                    s.check_stall(now)
            await asyncio.sleep(0.25)

    # --- HTTP load ---------------------------------------------------------
    async def one_request(self):
        args = self.args
        start = time.time()
        t0 = time.monotonic()
        deadline = t0 + args.http_timeout
        ok, reason = False, ""
        writer = None
        port, server = "-", "-"
        self.req_inflight += 1
        try:
            # The socket is bound before the connect, so that even a
            # request whose handshake never completes logs its port.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.bind(("", 0))
            port = str(sock.getsockname()[1])
            try:
                try:
                    await asyncio.wait_for(
                        self.loop.sock_connect(sock, (args.vip,
                                                      args.http_port)),
                        args.http_timeout)
                except BaseException:
                    sock.close()
                    raise
            except asyncio.TimeoutError:
                reason = "connect-timeout"
                raise
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: "
                          "ovslb-streams\r\n\r\n" % (args.http_path, args.vip)
                          ).encode())
            try:
                data = await asyncio.wait_for(reader.read(),
                                              max(0.001, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                reason = "read-timeout"
                raise
            line = data.split(b"\r\n", 1)[0].split()
            if len(line) < 2 or not line[0].startswith(b"HTTP/1."):
                reason = "bad-response(%d bytes)" % len(data)
            elif line[1] != b"200":
                reason = "status-" + line[1].decode("ascii", "replace")
            elif b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
                reason = "no-body"
            else:
                ok = True
                server = (data.split(b"\r\n\r\n", 1)[1].split()[0]
                          .decode("ascii", "replace")[:32])
        except Exception as e:      # noqa: BLE001
            if not reason:
                reason = exc_reason(e)
        finally:
            if writer is not None:
                writer.transport.abort()
            self.req_inflight -= 1
        ms = (time.monotonic() - t0) * 1000
        if ok:
            self.req_ok += 1
        else:
            self.req_fail += 1
        if self.req_log:
            self.req_log.write("%.3f %s %.1f %s %s %s\n"
                               % (start, "ok" if ok else "fail", ms,
                                  reason or "-", port, server))

    async def http_load(self):
        if self.args.http_rate <= 0:
            return
        period = 1.0 / self.args.http_rate
        t = self.loop.time()
        tasks = set()
        while not self.stop.is_set():
            task = asyncio.ensure_future(self.one_request())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            t += period
            delay = t - self.loop.time()
            if delay < 0:
                t = self.loop.time()
                delay = 0
            try:
                await asyncio.wait_for(self.stop.wait(), delay)
            except asyncio.TimeoutError:
                pass
        if tasks:
            await asyncio.wait(tasks)

    # --- status ------------------------------------------------------------
    def counts(self):
        est = sum(1 for s in self.streams if s is not None)
        reasons = {}
        for b in self.broken:
            reasons[b[3]] = reasons.get(b[3], 0) + 1
        return est, reasons

    def write_status(self):
        if not self.args.status:
            return
        est, reasons = self.counts()
        lines = ["time %.3f" % time.time(), "phase %s" % self.phase,
                 "target %d" % self.args.conns, "established %d" % est,
                 "open %d" % len(self.live()),
                 "connecting %d" % self.connecting,
                 "setup_failed %d" % self.setup_failed,
                 "setup_retries %d" % self.setup_retries,
                 "broken %d" % len(self.broken),
                 "stalled %d" % sum(1 for s in self.streams
                                    if s and s.stalled(time.monotonic())),
                 "stalls %d" % self.stalls,
                 "stall_max_recovered %.1f" % self.stall_max,
                 "bytes_sent %d" % sum(s.sent for s in self.streams if s),
                 "bytes_verified %d" % sum(s.verified for s in self.streams
                                           if s),
                 "requests_ok %d" % self.req_ok,
                 "requests_fail %d" % self.req_fail]
        lines += ["broken_reason.%s %d" % kv for kv in sorted(reasons.items())]
        tmp = self.args.status + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, self.args.status)

    async def status_writer(self):
        while True:
            self.write_status()
            await asyncio.sleep(self.args.status_interval)

    # --- main --------------------------------------------------------------
    async def drain_and_close(self):
        args = self.args
        streams = self.live()
        deadline = time.monotonic() + args.drain
        # Everything in flight comes back...
        while time.monotonic() < deadline:
            if not any(s.pending for s in streams if s.state == "open"):
                break
            await asyncio.sleep(0.05)
        for s in streams:
            if s.state == "open" and s.pending:
                s.fail("drain", "%d bytes not echoed within %.0f s"
                       % (len(s.pending), args.drain))
        # ... then FIN both ways.
        closing = []
        for s in streams:
            if s.state == "open":
                s.state = "closing"
                s.waiting_since = None
                try:
                    s.transport.write_eof()
                except OSError as e:
                    s.fail(exc_reason(e), "write_eof")
                    continue
                closing.append(s)
        if closing:
            await asyncio.wait([s.eof for s in closing],
                                 timeout=args.drain)
            for s in closing:
                if not s.eof.done():
                    s.fail("close-timeout", "no FIN from the server in %.0f s"
                           % args.drain)
        for s in closing:
            if s.transport is not None and s.state != "broken":
                s.transport.close()
                s.state = "closed"

    async def run(self):
        args = self.args
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.stop.set)
        bg = [asyncio.ensure_future(self.status_writer()),
              asyncio.ensure_future(self.stall_checker())]
        sender = asyncio.ensure_future(self.sender())
        load = asyncio.ensure_future(self.http_load())
        sem = asyncio.Semaphore(args.parallel_setup)
        t_setup = time.monotonic()
        await asyncio.gather(*(self.setup(i, sem) for i in range(args.conns)))
        est, _ = self.counts()
        log_event(args, "setup done in %.1f s: %d established, %d failed, %d "
                  "retries" % (time.monotonic() - t_setup, est,
                               self.setup_failed, self.setup_retries))
        self.phase = "running"
        self.write_status()
        if args.duration > 0:
            try:
                await asyncio.wait_for(self.stop.wait(), args.duration)
            except asyncio.TimeoutError:
                pass
        else:
            await self.stop.wait()
        self.stop.set()
        self.phase = "draining"
        self.write_status()
        log_event(args, "stopping: draining and closing")
        await sender
        await self.drain_and_close()
        await load
        self.phase = "done"
        self.write_status()
        for t in bg:
            t.cancel()
        est, reasons = self.counts()
        sent = sum(s.sent for s in self.streams if s is not None)
        verified = sum(s.verified for s in self.streams if s is not None)
        summary = {
            "target": args.conns, "established": est,
            "setup_failed": self.setup_failed,
            "setup_retries": self.setup_retries,
            "broken": len(self.broken), "broken_reasons": reasons,
            "stalls": self.stalls,
            "stall_max_recovered": round(self.stall_max, 1),
            "broken_conns": [{"conn": b[0], "lport": b[1],
                              "time": round(b[2], 3), "reason": b[3],
                              "detail": b[4]} for b in self.broken[:20]],
            "bytes_sent": sent, "bytes_verified": verified,
            "requests_ok": self.req_ok, "requests_fail": self.req_fail,
        }
        print(json.dumps(summary, sort_keys=True), flush=True)
        good = (est == args.conns and not self.broken and sent == verified)
        return 0 if good else 1


async def _main(args):
    return await Runner(args).run()


def cmd_analyze(args):
    t_from = args.from_
    t_to = args.to if args.to is not None else float("inf")
    total = ok = fail = slow = 0
    last_fail = first_fail = last_slow = -1.0
    max_ms = 0.0
    reasons = {}
    with open(args.req_log) as f:
        for line in f:
            w = line.split()
            if len(w) < 4:
                continue
            try:
                start, ms = float(w[0]), float(w[2])
            except ValueError:
                continue
            if not t_from <= start < t_to:
                continue
            total += 1
            off = start - t_from
            max_ms = max(max_ms, ms)
            if w[1] == "ok":
                ok += 1
                if ms > args.slow_ms:
                    slow += 1
                    last_slow = max(last_slow, off)
            else:
                fail += 1
                last_fail = max(last_fail, off)
                if first_fail < 0 or off < first_fail:
                    first_fail = off
                reasons[w[3]] = reasons.get(w[3], 0) + 1
    print("total=%d ok=%d fail=%d first_fail=%.2f last_fail=%.2f slow=%d "
          "last_slow=%.2f max_ms=%.0f reasons=%s"
          % (total, ok, fail, first_fail, last_fail, slow, last_slow, max_ms,
             ",".join("%s:%d" % kv for kv in sorted(reasons.items())) or "-"))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="streams and HTTP load")
    r.add_argument("--vip", default="203.0.113.10")
    r.add_argument("--echo-port", type=int, default=9000)
    r.add_argument("--conns", type=int, default=200)
    r.add_argument("--chunk", type=int, default=4096,
                   help="bytes sent per connection per interval")
    r.add_argument("--interval", type=float, default=0.1)
    r.add_argument("--max-inflight", type=int, default=256 * 1024,
                   help="a connection stops sending with this many bytes "
                        "not yet echoed")
    r.add_argument("--stall", type=float, default=15.0,
                   help="seconds without echo progress that break a "
                        "connection")
    r.add_argument("--stall-note", type=float, default=1.0,
                   help="a wait for the echo longer than this is logged "
                        "(events) and counted (stalls), and its recovery")
    r.add_argument("--seed", type=int, default=8)
    r.add_argument("--parallel-setup", type=int, default=20)
    r.add_argument("--setup-timeout", type=float, default=5.0)
    r.add_argument("--retries", type=int, default=4)
    r.add_argument("--retry-delay", type=float, default=0.5)
    r.add_argument("--http-rate", type=float, default=20.0)
    r.add_argument("--http-port", type=int, default=80)
    r.add_argument("--http-path", default="/")
    r.add_argument("--http-timeout", type=float, default=3.0)
    r.add_argument("--req-log")
    r.add_argument("--status")
    r.add_argument("--status-interval", type=float, default=0.5)
    r.add_argument("--events")
    r.add_argument("--duration", type=float, default=0,
                   help="seconds of streaming after setup (0: until "
                        "SIGTERM/SIGINT)")
    r.add_argument("--drain", type=float, default=10.0,
                   help="seconds to wait for in-flight echo, then for FINs")
    a = sub.add_parser("analyze", help="new-connection success after a time")
    a.add_argument("--req-log", required=True)
    a.add_argument("--from", dest="from_", type=float, required=True)
    a.add_argument("--to", type=float)
    a.add_argument("--slow-ms", type=float, default=1000.0)
    args = p.parse_args()
    if args.cmd == "run":
        return asyncio.run(_main(args))
    return cmd_analyze(args)


if __name__ == "__main__":
    sys.exit(main())
