#!/usr/bin/env python3
"""Open many idle PostgreSQL client connections to a pooler and measure its memory.

Each connection sends a StartupMessage, completes SCRAM-SHA-256 authentication (the same
auth the pgbench runs use), waits for ReadyForQuery and then stays open, idle. Stdlib only.

    PGPASSWORD=... idle_clients.py --host H --port P --user U --dbname D --pid POOLER_PID \
        --steps 5000,10000

One warm-up connection is opened first and kept (it makes the pooler set up its pool and its
first server connection); the pooler's VmRSS is then read as the baseline. For each step N the
total number of idle clients is raised to N, the pooler is given a second to settle, and one
line is printed on stdout:

    step clients=N rss_before_kib=B rss_kib=R hwm_kib=H cpu_s=C open_s=T failed=F

where cpu_s is the pooler's CPU time (utime+stime) since the baseline, open_s the seconds it
took to open this step's new connections, failed the connections that did not reach
ReadyForQuery. All connections are closed (Terminate) at the end. Exit status 1 when any failed.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import resource
import secrets
import struct
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- /proc readings -------------------------------------------------------------------------

def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After "pid (comm)": fields[0] is state (field 3), utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# --- wire protocol and SCRAM-SHA-256 --------------------------------------------------------

_salted_cache = {}  # (salt, iterations) -> SaltedPassword: PBKDF2 once, not per connection


def salted_password(password, salt, iterations):
    key = (salt, iterations)
    if key not in _salted_cache:
        _salted_cache[key] = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return _salted_cache[key]


async def read_message(reader):
    header = await reader.readexactly(5)
    kind, length = header[:1], struct.unpack("!I", header[1:])[0]
    return kind, await reader.readexactly(length - 4)


def message(kind, payload):
    return kind + struct.pack("!I", len(payload) + 4) + payload


def error_text(payload):
    fields = dict((f[:1], f[1:].decode(errors="replace")) for f in payload.split(b"\0") if f)
    return f"{fields.get(b'S', 'ERROR')} {fields.get(b'C', '')}: {fields.get(b'M', '')}"


class LoginError(Exception):
    pass


# Loopback source addresses, one per ~25,000 connections: one source address has only the ephemeral ports
# of ip_local_port_range (about 28,000) towards one pooler port.
PER_SOURCE = 25000
_opened = 0


async def login(host, port, user, dbname, password):
    """Connect and authenticate; returns (reader, writer) once ReadyForQuery has arrived."""
    global _opened
    source = None
    if host.startswith("127.") and _opened >= PER_SOURCE:
        source = (f"127.0.{_opened // PER_SOURCE // 250}.{2 + _opened // PER_SOURCE % 250}", 0)
    _opened += 1
    reader, writer = await asyncio.open_connection(host, port, local_addr=source)
    try:
        params = b"user\0" + user.encode() + b"\0database\0" + dbname.encode() + b"\0\0"
        body = struct.pack("!I", 196608) + params
        writer.write(struct.pack("!I", len(body) + 4) + body)
        client_nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        client_first_bare = "n=,r=" + client_nonce
        auth_message = None
        while True:
            kind, payload = await read_message(reader)
            if kind == b"E":
                raise LoginError(error_text(payload))
            if kind == b"Z":
                return reader, writer
            if kind != b"R":
                continue  # ParameterStatus, BackendKeyData, NoticeResponse
            code = struct.unpack("!I", payload[:4])[0]
            data = payload[4:]
            if code == 0:  # AuthenticationOk
                continue
            if code == 10:  # AuthenticationSASL: list of mechanisms
                if b"SCRAM-SHA-256\0" not in data:
                    raise LoginError(f"server offers no SCRAM-SHA-256: {data!r}")
                first = ("n,," + client_first_bare).encode()
                writer.write(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first))
            elif code == 11:  # AuthenticationSASLContinue: server-first-message
                server_first = data.decode()
                attrs = dict(item.split("=", 1) for item in server_first.split(","))
                if not attrs["r"].startswith(client_nonce):
                    raise LoginError("server nonce does not extend ours")
                salted = salted_password(password, base64.b64decode(attrs["s"]), int(attrs["i"]))
                client_key = hmac.digest(salted, b"Client Key", "sha256")
                stored_key = hashlib.sha256(client_key).digest()
                final_bare = "c=biws,r=" + attrs["r"]
                auth_message = ",".join((client_first_bare, server_first, final_bare)).encode()
                signature = hmac.digest(stored_key, auth_message, "sha256")
                proof = bytes(a ^ b for a, b in zip(client_key, signature))
                final = final_bare + ",p=" + base64.b64encode(proof).decode()
                writer.write(message(b"p", final.encode()))
            elif code == 12:  # AuthenticationSASLFinal: check the server's signature
                server_key = hmac.digest(salted, b"Server Key", "sha256")
                expected = base64.b64encode(hmac.digest(server_key, auth_message, "sha256")).decode()
                if data.decode() != "v=" + expected:
                    raise LoginError("wrong server signature")
            else:
                raise LoginError(f"unexpected authentication request {code}")
    except BaseException:
        writer.close()
        raise


# --- the test -------------------------------------------------------------------------------

async def open_many(args, password, count, conns, errors):
    """Open `count` more connections, at most args.concurrency logins in flight."""
    gate = asyncio.Semaphore(args.concurrency)

    async def one():
        async with gate:
            try:
                conns.append(await login(args.host, args.port, args.user, args.dbname, password))
            except (OSError, asyncio.IncompleteReadError, LoginError) as e:
                errors.append(f"{type(e).__name__}: {e}")

    await asyncio.gather(*(one() for _ in range(count)))


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--dbname", required=True)
    p.add_argument("--pid", type=int, required=True, help="the pooler's process id")
    p.add_argument("--steps", default="5000,10000", help="comma-separated idle-client totals")
    p.add_argument("--concurrency", type=int, default=64, help="logins in flight at once")
    p.add_argument("--settle", type=float, default=1.0, help="seconds to wait before reading RSS")
    args = p.parse_args()
    password = os.environ.get("PGPASSWORD", "")
    steps = [int(s) for s in args.steps.split(",") if s]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < max(steps) + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(steps) + 1024), hard))

    conns, errors = [], []
    await open_many(args, password, 1, conns, errors)  # warm-up: pool and server connection
    if errors:
        print(f"warm-up connection failed: {errors[0]}", file=sys.stderr)
        return 1
    await asyncio.sleep(args.settle)
    rss_before = proc_status_kib(args.pid, "VmRSS")
    cpu_before = proc_cpu_s(args.pid)

    failed_total = 0
    for total in steps:
        need = total - (len(conns) - 1)
        errors = []
        started = time.monotonic()
        await open_many(args, password, max(need, 0), conns, errors)
        open_s = time.monotonic() - started
        await asyncio.sleep(args.settle)
        # Every connection must still be open: a pooler that dropped idle clients would
        # otherwise look cheap. A closed one shows as EOF on its reader.
        alive = [c for c in conns if not c[0].at_eof()]
        dropped = len(conns) - len(alive)
        rss = proc_status_kib(args.pid, "VmRSS")
        hwm = proc_status_kib(args.pid, "VmHWM")
        cpu = proc_cpu_s(args.pid) - cpu_before
        failed = len(errors) + dropped
        failed_total += failed
        print(f"step clients={total} rss_before_kib={rss_before} rss_kib={rss} hwm_kib={hwm} "
              f"cpu_s={cpu:.2f} open_s={open_s:.2f} failed={failed}", flush=True)
        for e in sorted(set(errors))[:5]:
            print(f"  error ({errors.count(e)}x): {e}", file=sys.stderr)
        if dropped:
            print(f"  {dropped} idle connections were closed by the pooler", file=sys.stderr)

    for reader, writer in conns:
        try:
            writer.write(message(b"X", b""))
            writer.close()
        except OSError:
            pass
    await asyncio.gather(*(w.wait_closed() for _, w in conns), return_exceptions=True)
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
