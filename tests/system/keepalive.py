#!/usr/bin/env python3
# keepalive.py VIP N [SERVER]: N keep-alive HTTP/1.1 connections to VIP:80,
# a request on each every 200 ms until SIGTERM.  A connection that closes,
# fails or whose answer names another server (the X-Ovslb-Server header of
# the lab's nginx) than its first is broken.  Prints "established N on
# SERVER: K" (SERVER: srv3 unless given) once all are open, then at the end
# "requests R broken B on-SERVER K"; each break goes to stderr.  Exits 1 if
# any broke.
import signal, socket, sys, time
vip, n = sys.argv[1], int(sys.argv[2])
watched = sys.argv[3] if len(sys.argv) > 3 else "srv3"
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
socks = [socket.create_connection((vip, 80), timeout=5) for _ in range(n)]
def ask(s):
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(4096)
        if not c:
            raise OSError("closed by the server")
        data += c
    head, body = data.split(b"\r\n\r\n", 1)
    length, server = 0, "?"
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        if k.strip().lower() == b"content-length":
            length = int(v)
        elif k.strip().lower() == b"x-ovslb-server":
            server = v.strip().decode()
    while len(body) < length:
        c = s.recv(4096)
        if not c:
            raise OSError("closed by the server in a body")
        body += c
    return server
servers = [ask(s) for s in socks]
alive = [True] * n
print("established", n, "on %s:" % watched, servers.count(watched),
      flush=True)
done = broken = 0
while not stop:
    for i in range(n):
        if alive[i]:
            try:
                got = ask(socks[i])
                done += 1
                if got != servers[i]:
                    raise OSError("moved from %s to %s" % (servers[i], got))
            except OSError as e:
                alive[i] = False
                broken += 1
                print("broken", i, servers[i], e, "at %.1f" % time.time(),
                      file=sys.stderr, flush=True)
    time.sleep(0.2)
print("requests %d broken %d on-%s %d" % (done, broken, watched,
                                          servers.count(watched)),
      flush=True)
sys.exit(1 if broken else 0)
