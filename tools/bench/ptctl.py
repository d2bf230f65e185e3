#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Talk to podtraced's control socket directly (one JSON request line, one
JSON reply, as the CLI does), so that a measurement loop is not paced by CLI
process start-ups.

  ptctl.py --socket S startup --count N --prefix P --cmd 'sleep 1d' [--start I]
        create N pods one after the other; each: t0, apply, poll `get pod`
        (every 1 ms) until Ready=True, t1. Prints "ms=<t1-t0>" per pod.
  ptctl.py --socket S batch --count N --prefix P --cmd '...' [--start I]
        [--annotation k=v] create N pods in one apply, wait until all Ready
  ptctl.py --socket S delete-pods      delete every pod, wait until gone
  ptctl.py hist FILE_BEFORE FILE_AFTER NAME
        p50/p99/count of the histogram NAME between two /metrics scrapes
        (linear interpolation inside the bucket, as histogram_quantile)
"""
import argparse
import json
import re
import socket
import sys
import time


def call(sock, req, timeout=300):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    s.sendall(json.dumps(req, separators=(",", ":")).encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    buf = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        buf.append(b)
    s.close()
    return json.loads(b"".join(buf) or b"{}")


def pod(name, cmd, annotations=None):
    meta = {"name": name, "namespace": "default", "labels": {"app": "ptb"}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": "none", "command": cmd}]}}


def apply(sock, objs):
    data = json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})
    r = call(sock, {"cmd": "apply", "source": "ptb-bench", "data": data})
    errs = [x.get("error") for x in r.get("results", []) if x.get("error")]
    if "error" in r or errs:
        raise SystemExit("apply: %s" % (r.get("error") or errs[:3]))


def ready(p):
    for c in p.get("status", {}).get("conditions", []):
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def get_pods(sock, name=None):
    req = {"cmd": "get", "kind": "pods", "namespace": "default"}
    if name:
        req["name"] = name
    r = call(sock, req)
    return r.get("items", [])


def cmd_startup(a):
    cmd = a.cmd.split()
    for i in range(a.start, a.start + a.count):
        name = "%s%03d" % (a.prefix, i)
        t0 = time.monotonic()
        apply(a.socket, [pod(name, cmd)])
        deadline = t0 + 30
        while True:
            items = get_pods(a.socket, name)
            if items and ready(items[0]):
                break
            if time.monotonic() > deadline:
                raise SystemExit("pod %s not Ready after 30 s" % name)
            time.sleep(0.001)
        print("ms=%.2f" % ((time.monotonic() - t0) * 1000), flush=True)


def cmd_batch(a):
    ann = dict(kv.split("=", 1) for kv in a.annotation)
    names = ["%s%03d" % (a.prefix, i) for i in range(a.start, a.start + a.count)]
    for j in range(0, len(names), 50):
        apply(a.socket, [pod(n, a.cmd.split(), ann) for n in names[j:j + 50]])
    deadline = time.monotonic() + 60 + a.count
    want = set(names)
    while True:
        ok = {p["metadata"]["name"] for p in get_pods(a.socket) if ready(p)}
        if want <= ok:
            return
        if time.monotonic() > deadline:
            raise SystemExit("not Ready: %s" % sorted(want - ok)[:5])
        time.sleep(0.05)


def cmd_delete(a):
    for p in get_pods(a.socket):
        call(a.socket, {"cmd": "delete", "kind": "pod", "namespace": "default",
                        "name": p["metadata"]["name"]})
    deadline = time.monotonic() + 90
    while get_pods(a.socket):
        if time.monotonic() > deadline:
            raise SystemExit("pods still there")
        time.sleep(0.05)


def buckets(path, name):
    out = {}
    count = None
    for line in open(path):
        m = re.match(r'^%s_bucket\{.*le="([^"]+)".*\} ([0-9.eE+-]+)' % re.escape(name), line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = out.get(le, 0) + float(m.group(2))
        m = re.match(r"^%s_count(\{.*\})? ([0-9.eE+-]+)" % re.escape(name), line)
        if m:
            count = (count or 0) + float(m.group(2))
    return out, count or 0


def quantile(q, b):
    les = sorted(b)
    total = b[les[-1]] if les else 0
    if total <= 0:
        return None
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le in les:
        c = b[le]
        if c >= rank:
            if le == float("inf"):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return les[-1]


def cmd_hist(a):
    b0, c0 = buckets(a.before, a.name)
    b1, c1 = buckets(a.after, a.name)
    d = {le: b1.get(le, 0) - b0.get(le, 0) for le in b1}
    p50, p99 = quantile(0.5, d), quantile(0.99, d)
    fmt = lambda v: "nan" if v is None else "%.6g" % v
    print("count=%d p50_s=%s p99_s=%s" % (c1 - c0, fmt(p50), fmt(p99)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket")
    sp = ap.add_subparsers(dest="what", required=True)
    for w in ("startup", "batch"):
        p = sp.add_parser(w)
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--start", type=int, default=0)
        p.add_argument("--prefix", required=True)
        p.add_argument("--cmd", default="sleep 100000")
        p.add_argument("--annotation", action="append", default=[])
    sp.add_parser("delete-pods")
    p = sp.add_parser("hist")
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("name")
    a = ap.parse_args()
    {"startup": cmd_startup, "batch": cmd_batch, "delete-pods": cmd_delete,
     "hist": cmd_hist}[a.what](a)


if __name__ == "__main__":
    main()
