#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn tools/bench/run.sh's results (JSON lines) into benchmarks.md and PNG
plots (gnuplot).

  report.py --results results.jsonl --env env.txt --out DIR [--errors TEXT]

Every comparison was run interleaved (A B A B ...); a ratio is the median of
the per-repetition ratios (each from one A and the B run right after it),
which is robust to the box's drift; absolute values are medians too.
"""
import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def med(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else None


def fmt(v, nd=2, unit=""):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000 and nd <= 2:
        return "%.0f%s" % (v, unit)
    return ("%%.%df%%s" % nd) % (v, unit)


def nfmt(n):
    return {100: "100", 1000: "1k", 10000: "10k", 100000: "100k"}.get(n, str(n))


def load(path):
    recs = []
    for line in open(path):
        line = line.strip()
        if line:
            try:
                recs.append(json.loads(line))
            except ValueError:
                pass
    return recs


def by(recs, cmp, **kw):
    return [r for r in recs if r.get("cmp") == cmp and all(r.get(k) == v for k, v in kw.items())]


def ratio_med(recs, cmp, key, a, b, field, **kw):
    """median over reps of A/B, both from the same rep."""
    out = []
    reps = sorted({r.get("rep") for r in by(recs, cmp, **kw)})
    for rep in reps:
        ra = by(recs, cmp, rep=rep, **{key: a}, **kw)
        rb = by(recs, cmp, rep=rep, **{key: b}, **kw)
        if ra and rb and ra[0].get(field) and rb[0].get(field):
            out.append(ra[0][field] / rb[0][field])
    return med(out)


class Report:
    def __init__(self, recs, env, errors):
        self.r = recs
        self.env = env
        self.errors = errors
        self.out = []
        self.targets = []  # (key, text, value text, met: True/False/None)

    def w(self, s=""):
        self.out.append(s)

    def table(self, head, rows):
        self.w("| " + " | ".join(head) + " |")
        self.w("|" + "|".join("---" for _ in head) + "|")
        for row in rows:
            self.w("| " + " | ".join(str(c) for c in row) + " |")
        self.w()

    def target(self, key, text, value, met):
        self.targets.append((key, text, value, met))

    # ---- 1. latency -------------------------------------------------------
    def latency(self):
        lat = by(self.r, "lat")
        if not lat:
            return
        ns = sorted({r["svcs"] for r in lat})
        modes = ["direct", "pt", "pt_last", "nft", "nft_last", "ipt", "ipt_first", "ipt_last"]
        names = {"direct": "direct", "pt": "podtrace", "pt_last": "podtrace (last svc)",
                 "ipt": "iptables", "ipt_first": "iptables (first svc)",
                 "ipt_last": "iptables (last svc)", "nft": "nftables", "nft_last": "nftables (last svc)"}
        self.w("## 1. Connect latency vs number of services")
        self.w()
        self.w("`connect()` of a fresh TCP socket, timed alone with `CLOCK_MONOTONIC` by "
               "`tools/bench/connlat.c`, %s connects per run after 50 warm-up ones, to a uniformly "
               "random service (or the first/last one in rule order), each answered by `echo-id` "
               "(every reply checked). Services have %s endpoints each. Medians over %d interleaved "
               "repetitions of each run's p50 / p99, in µs." % (
                   self.env.get("lat_conn", "?"), self.env.get("ep", "10"), self.reps("lat")))
        self.w()
        rows = []
        for n in ns:
            for m in modes:
                rs = by(self.r, "lat", svcs=n, mode=m)
                if not rs:
                    continue
                ep = rs[0].get("ep")
                rows.append([nfmt(n), names[m] + ("" if ep in (None, 10) or m == "direct" else " (%s ep/svc)" % ep),
                             fmt(med([x.get("p50_us") for x in rs])), fmt(med([x.get("p99_us") for x in rs])),
                             fmt(med([x.get("mean_us") for x in rs])),
                             sum(x.get("ok", 0) for x in rs), sum(x.get("bad", 0) + x.get("err", 0) for x in rs)])
        self.table(["N", "mode", "p50 µs", "p99 µs", "mean µs", "connects", "failed/wrong"], rows)
        self.w("Ratios (median of per-repetition ratios; < 1 means podtrace is faster):")
        self.w()
        rows = []
        for n in ns:
            row = [nfmt(n)]
            for b in ("direct", "nft", "ipt", "ipt_last"):
                for f in ("p50_us", "p99_us"):
                    v = ratio_med(self.r, "lat", "mode", "pt", b, f, svcs=n)
                    row.append(fmt(v, 3))
            rows.append(row)
        self.table(["N", "pt/direct p50", "pt/direct p99", "pt/nft p50", "pt/nft p99",
                    "pt/ipt p50", "pt/ipt p99", "pt/ipt-last p50", "pt/ipt-last p99"], rows)
        # targets
        vals = [(n, ratio_med(self.r, "lat", "mode", "pt", "direct", "p50_us", svcs=n)) for n in ns]
        ok = all(v is not None and v <= 1.05 for _, v in vals) if vals else None
        self.target("lat_direct", "socket-LB / direct ≤ 1.05 at every N (p50)",
                    ", ".join("%s: %s" % (nfmt(n), fmt(v, 3)) for n, v in vals), ok)
        v = ratio_med(self.r, "lat", "mode", "pt", "ipt", "p50_us", svcs=10000)
        vl = ratio_med(self.r, "lat", "mode", "pt", "ipt_last", "p50_us", svcs=10000)
        self.target("lat_ipt", "socket-LB / iptables ≤ 0.2 at 10k (p50)",
                    "random service %s, last service %s" % (fmt(v, 3), fmt(vl, 3)),
                    None if v is None else v <= 0.2)
        vals = [(n, ratio_med(self.r, "lat", "mode", "pt", "nft", "p50_us", svcs=n)) for n in ns]
        vals = [(n, v) for n, v in vals if v is not None]
        self.target("lat_nft", "socket-LB at or below nftables at every N (p50)",
                    ", ".join("%s: %s" % (nfmt(n), fmt(v, 3)) for n, v in vals),
                    all(v <= 1.0 for _, v in vals) if vals else None)
        self.plot_latency(ns, names)

    def plot_latency(self, ns, names):
        for q in ("p50_us", "p99_us"):
            dat = os.path.join(self.tmp, "lat_%s.dat" % q)
            series = ["direct", "pt", "nft", "ipt", "ipt_last"]
            with open(dat, "w") as f:
                for n in ns:
                    f.write("%d" % n)
                    for m in series:
                        v = med([x.get(q) for x in by(self.r, "lat", svcs=n, mode=m)])
                        f.write(" %s" % ("NaN" if v is None else v))
                    f.write("\n")
            png = os.path.join(self.outdir, "bench", "latency_%s.png" % q.split("_")[0])
            plot = ['set terminal pngcairo size 900,560 font ",11"', 'set output "%s"' % png,
                    'set title "connect() latency vs services (%s), %s"' % (q.split("_")[0], self.env.get("kernel", "")),
                    "set logscale x", "set logscale y", 'set xlabel "services (N)"',
                    'set ylabel "µs"', "set key top left", "set grid",
                    "set xrange [%g:%g]" % (min(ns) / 1.5, max(ns) * 1.5)]
            cols = []
            for i, m in enumerate(series):
                title = names[m]
                eps = sorted({(x["svcs"], x.get("ep")) for x in by(self.r, "lat", mode=m) if x.get("ep") not in (None, 10)})
                if m != "direct" and eps:
                    title += " (%s)" % ", ".join("%s: %s endpoint/svc" % (nfmt(n), e) for n, e in eps)
                cols.append('"%s" using 1:%d with linespoints lw 2 pt %d title "%s"' % (dat, i + 2, i + 5, title))
            plot.append("plot " + ", ".join(cols))
            self.gnuplot(plot)
            self.pngs.append(os.path.basename(png))

    # ---- 2. throughput ----------------------------------------------------
    def throughput(self):
        t = by(self.r, "tput")
        if not t:
            return
        self.w("## 2. Established-connection throughput through a VIP")
        self.w()
        self.w("iperf3 (-t %s, one stream) from a client netns to a backend netns over a veth, "
               "through the service VIP (podtrace: rewritten at connect(); iptables/nftables: DNAT, "
               "conntrack on every packet), and directly to the backend. N = %s services loaded. "
               "Medians over %d interleaved repetitions." % (
                   self.env.get("iperf_t", "?"), nfmt(t[0]["svcs"]), self.reps("tput")))
        self.w()
        rows = []
        for m, name in (("direct", "direct"), ("pt", "podtrace"), ("nft", "nftables"), ("ipt", "iptables")):
            rs = by(self.r, "tput", mode=m)
            if rs:
                rows.append([name, fmt(med([x.get("gbps") for x in rs])), fmt(med([x.get("retr") for x in rs]), 0),
                             fmt(ratio_med(self.r, "tput", "mode", m, "direct", "gbps"), 3)])
        self.table(["mode", "Gbit/s", "retransmits", "ratio to direct"], rows)
        self.w("podtrace / iptables: %s; podtrace / nftables: %s." % (
            fmt(ratio_med(self.r, "tput", "mode", "pt", "ipt", "gbps"), 3),
            fmt(ratio_med(self.r, "tput", "mode", "pt", "nft", "gbps"), 3)))
        self.w()

    # ---- 3. programming ----------------------------------------------------
    def programming(self):
        p = by(self.r, "prog")
        if not p:
            return
        ns = sorted({r["svcs"] for r in p})
        self.w("## 3. Programming time")
        self.w()
        self.w("Cold apply of N services × %s endpoints into an empty dataplane: podtrace = a fresh "
               "daemon, wall time of `podtrace apply -f` of one generated JSON List (the CLI returns "
               "when every object is stored in memory and programmed into the maps; the state files "
               "are written after the reply), and the daemon's own "
               "`podtrace_reconcile_duration_seconds_sum` (map programming only); iptables = "
               "`iptables-restore` (%s) of kube-proxy's ruleset into a fresh netns; nftables = `nft -f` "
               "of kube-proxy's nftables ruleset (one transaction, as kube-proxy does) into a fresh "
               "netns. Medians over %d interleaved repetitions, seconds." % (
                   self.env.get("ep", "10"), self.env.get("iptables", "iptables"), self.reps("prog")))
        self.w()
        rows = []
        for n in ns:
            ptw = med([x.get("wall_s") for x in by(self.r, "prog", svcs=n, tool="pt")])
            ptr = med([x.get("reconcile_s") for x in by(self.r, "prog", svcs=n, tool="pt")])
            ipt = med([x.get("wall_s") for x in by(self.r, "prog", svcs=n, tool="ipt")])
            nft = med([x.get("wall_s") for x in by(self.r, "prog", svcs=n, tool="nft")])
            rows.append([nfmt(n), fmt(ptw, 3), fmt(ptr, 3), fmt(ipt, 3), fmt(nft, 3),
                         fmt(ratio_med(self.r, "prog", "tool", "pt", "ipt", "wall_s", svcs=n), 3),
                         fmt(ratio_med(self.r, "prog", "tool", "pt", "nft", "wall_s", svcs=n), 3)])
        self.table(["N", "podtrace apply s", "podtrace reconcile s", "iptables-restore s", "nft -f s",
                    "pt/ipt", "pt/nft"], rows)
        big = by(self.r, "progbig")
        for b in big:
            self.w("Not a cold-programming sample: the iptables ruleset for the %s-service latency runs "
                   "(%s endpoint/service) took %s s to load (%s MB peak RSS of iptables-restore)." % (
                       nfmt(b["svcs"]), b.get("ep"), fmt(b.get("wall_s")), fmt((b.get("rss_kb") or 0) / 1024, 0)))
            self.w()
        v = med([x.get("wall_s") for x in by(self.r, "prog", svcs=10000, tool="pt")])
        vr = med([x.get("reconcile_s") for x in by(self.r, "prog", svcs=10000, tool="pt")])
        self.target("prog_cold", "cold programming of 10k×10 in ≤ 0.1 s",
                    "apply %s s (map programming %s s)" % (fmt(v, 3), fmt(vr, 3)),
                    None if v is None else v <= 0.1)
        # endpoint change
        e = by(self.r, "epchg")
        if e:
            self.w("### One endpoint change")
            self.w()
            self.w("%s changes (an EndpointSlice of one service applied alternately with 11 and 10 "
                   "endpoints, 5 ms apart) sent straight to the control socket by "
                   "`tools/bench/epchange.c`, which polls the pinned `pt_svc` entry of that service "
                   "until its endpoint count is the new one (the daemon writes it last on growth, "
                   "first on shrink): the change is then in effect for the next connect(). "
                   "\"reply\" is when the daemon answered; \"daemon\" is its "
                   "`podtrace_endpoint_programming_latency_seconds` histogram (interpolated)." % e[0].get("n"))
            self.w()
            rows = []
            for x in e:
                rows.append([nfmt(x["svcs"]), fmt(x.get("vis_p50_us"), 1), fmt(x.get("vis_p99_us"), 1),
                             fmt(x.get("vis_max_us"), 1), fmt(x.get("reply_p50_us"), 1), fmt(x.get("reply_p99_us"), 1),
                             fmt(None if x.get("hist_p50_s") is None else x["hist_p50_s"] * 1e6, 1),
                             fmt(None if x.get("hist_p99_s") is None else x["hist_p99_s"] * 1e6, 1),
                             x.get("timeouts", 0)])
            self.table(["N", "visible p50 µs", "visible p99 µs", "max µs", "reply p50 µs", "reply p99 µs",
                        "daemon p50 µs", "daemon p99 µs", "timeouts"], rows)
            worst = max((x.get("vis_p99_us") or 0) for x in e)
            self.target("ep_change", "one endpoint change in < 1 ms at p99",
                        ", ".join("%s: %s µs" % (nfmt(x["svcs"]), fmt(x.get("vis_p99_us"), 0)) for x in e),
                        worst < 1000)
        self.plot_prog(ns)

    def plot_prog(self, ns):
        dat = os.path.join(self.tmp, "prog.dat")
        with open(dat, "w") as f:
            for n in ns:
                f.write("%d" % n)
                for t in ("pt", "ipt", "nft"):
                    v = med([x.get("wall_s") for x in by(self.r, "prog", svcs=n, tool=t)])
                    f.write(" %s" % ("NaN" if v is None else v))
                v = med([x.get("reconcile_s") for x in by(self.r, "prog", svcs=n, tool="pt")])
                f.write(" %s\n" % ("NaN" if v is None else v))
        png = os.path.join(self.outdir, "bench", "programming.png")
        self.gnuplot(['set terminal pngcairo size 900,560 font ",11"', 'set output "%s"' % png,
                      'set title "cold programming of N services x 10 endpoints"',
                      "set logscale x", "set logscale y", 'set xlabel "services (N)"', 'set ylabel "seconds"',
                      "set key top left", "set grid", "set xrange [%g:%g]" % (min(ns) / 1.5, max(ns) * 1.5),
                      'plot "%s" using 1:2 w lp lw 2 pt 5 t "podtrace apply", "%s" using 1:5 w lp lw 2 pt 4 t "podtrace map programming", '
                      '"%s" using 1:3 w lp lw 2 pt 7 t "iptables-restore", "%s" using 1:4 w lp lw 2 pt 9 t "nft -f"' % (dat, dat, dat, dat)])
        self.pngs.append(os.path.basename(png))

    # ---- 4. memory -------------------------------------------------------
    def memory(self):
        m = by(self.r, "mem")
        if not m:
            return
        ns = sorted({r["svcs"] for r in m})
        self.w("## 4. Daemon memory")
        self.w()
        self.w("Peak RSS (`VmHWM`) of podtraced after the cold apply of N services × %s endpoints "
               "(median over the %d fresh daemons of section 3; BPF maps are kernel memory and not "
               "in it). For context, the peak RSS of the iptables-restore / nft processes that "
               "loaded the same set, and the size of podtrace's state dir." % (
                   self.env.get("ep", "10"), self.reps("mem")))
        self.w()
        rows = []
        for n in ns:
            rs = by(self.r, "mem", svcs=n)
            rows.append([nfmt(n), fmt(med([x.get("hwm_kb") for x in rs]) / 1024, 1),
                         fmt(med([x.get("idle_hwm_kb") for x in rs]) / 1024, 1),
                         fmt(med([x.get("state_kb") for x in rs]) / 1024, 1),
                         fmt((med([x.get("rss_kb") for x in by(self.r, "prog", svcs=n, tool="ipt")]) or float("nan")) / 1024, 0),
                         fmt((med([x.get("rss_kb") for x in by(self.r, "prog", svcs=n, tool="nft")]) or float("nan")) / 1024, 0)])
        self.table(["N", "podtraced VmHWM MB", "idle VmHWM MB", "state dir MB", "iptables-restore MB", "nft MB"], rows)
        v = med([x.get("hwm_kb") for x in by(self.r, "mem", svcs=10000)])
        self.target("rss", "RSS ≤ 32 MB at 10k services", "%s MB" % fmt(None if v is None else v / 1024, 1),
                    None if v is None else v / 1024 <= 32)
        dat = os.path.join(self.tmp, "mem.dat")
        with open(dat, "w") as f:
            for n in ns:
                f.write("%d %s\n" % (n, med([x.get("hwm_kb") for x in by(self.r, "mem", svcs=n)]) / 1024))
        png = os.path.join(self.outdir, "bench", "memory.png")
        self.gnuplot(['set terminal pngcairo size 900,560 font ",11"', 'set output "%s"' % png,
                      'set title "podtraced peak RSS after N services x 10 endpoints"', "set logscale x",
                      "set logscale y", 'set xlabel "services (N)"', 'set ylabel "MB"', "set grid",
                      "set xrange [%g:%g]" % (min(ns) / 1.5, max(ns) * 1.5),
                      'plot "%s" using 1:2 w lp lw 2 pt 5 t "VmHWM", 32 w l dt 2 t "target 32 MB"' % dat])
        self.pngs.append(os.path.basename(png))

    # ---- 5. tracing --------------------------------------------------------
    def tracing(self):
        t = by(self.r, "trace")
        if not t:
            return
        self.w("## 5. Tracing overhead")
        self.w()
        self.w("Wall time of %s fork+execve of `/bin/true` (two workers, `tools/bench/forkexec.c`, "
               "run with `podtrace exec` in a pod's container) with podtrace's trace plane off "
               "(`--no-trace`), on, and with libbpf-tools `execsnoop -c <pod cgroup>` instead; the "
               "daemon is restarted between modes (the pod survives). Events: exec events the "
               "daemon received (`status: events.byType.exec`) or lines execsnoop printed; lost: "
               "`events.lostKernel + missedKernel` deltas, execsnoop's \"Lost N events\". "
               "Medians over %d interleaved repetitions." % (
                   t[0].get("execs"), self.reps("trace")))
        self.w()
        rows = []
        for m, name in (("off", "tracing off"), ("pt", "podtrace on"), ("execsnoop", "execsnoop")):
            rs = by(self.r, "trace", mode=m)
            if not rs:
                continue
            ov = ratio_med(self.r, "trace", "mode", m, "off", "wall_ms")
            rows.append([name, fmt(med([x.get("wall_ms") for x in rs]), 0), fmt(med([x.get("rate_per_s") for x in rs]), 0),
                         "—" if m == "off" else "%+.1f%%" % ((ov - 1) * 100) if ov else "n/a",
                         "—" if m == "off" else "%s / %s" % (fmt(med([x.get("seen") for x in rs]), 0), rs[0].get("execs")),
                         "—" if m == "off" else str(sum(x.get("lost") or 0 for x in rs))])
        self.table(["mode", "wall ms", "exec/s", "overhead vs off", "events seen (median)", "lost (all reps)"], rows)
        ov = ratio_med(self.r, "trace", "mode", "pt", "off", "wall_ms")
        lost = sum(x.get("lost") or 0 for x in by(self.r, "trace", mode="pt"))
        rate = med([x.get("rate_per_s") for x in by(self.r, "trace", mode="pt")])
        self.target("trace", "tracing overhead ≤ 3%, 0 lost at 20k exec/s",
                    "%s overhead, %d lost, at %s exec/s (the box's maximum)" % (
                        "n/a" if ov is None else "%+.1f%%" % ((ov - 1) * 100), lost, fmt(rate, 0)),
                    None if ov is None else (ov <= 1.03 and lost == 0))

    # ---- 6. bandwidth --------------------------------------------------------
    def bandwidth(self):
        b = by(self.r, "bw")
        if not b:
            return
        rates = []
        for x in b:
            if x["rate"] not in rates:
                rates.append(x["rate"])
        names = {"pt": "podtrace", "tbf_cni": "tbf, CNI + containerd burst",
                 "tbf_matched": "tbf, CNI, podtrace's burst"}
        self.w("## 6. Bandwidth enforcement (pod egress)")
        self.w()
        self.w("iperf3 -t %s -O 2 (one TCP stream, %s; the first 2 s, slow start and the initial bucket, not counted) from a pod to a server netns, with the pod's "
               "egress limited by podtrace (`kubernetes.io/egress-bandwidth`: a sockops program sets the "
               "connection's max pacing rate to the limit less the headers, so TCP paces itself; a cgroup_skb "
               "token bucket is the aggregate limit) "
               "or by tc tbf set up as the CNI bandwidth plugin does for egress (ingress qdisc on the "
               "pod's host-side veth, u32 match-all mirred redirect to an ifb, tbf on the ifb, "
               "`limit = rate × 25 ms + burst`). Two tbf bursts: what containerd passes the plugin "
               "(`EgressBurst = MaxUint32` bits, with the plugin's uint32 tick arithmetic: the bucket "
               "starts with 193 MB of tokens at 10M and 537 MB at 100M and 1G, which drain at line rate "
               "inside the omitted seconds) and the same "
               "bucket depth as podtrace (250 ms at the rate, ≥ 128 KiB). A UDP probe "
               "(`tools/bench/udpprobe.c`, one 6-byte datagram every 10 ms, stop-and-wait, to echo-id "
               "in the server netns) runs from the same pod during the transfer; \"added RTT\" is "
               "its loaded p50/p99 minus the idle p50 measured just before. \"achieved\" is the "
               "receiver's mean over the whole window (a full bucket can add up to burst/window on "
               "top of the rate); the median and the worst of its 1-s intervals show how even the rate is. Retransmits: "
               "iperf3's (the sender's TCP retransmissions). Medians over %d interleaved "
               "repetitions." % (self.env.get("bw_t", "?"), self.env.get("tcp_cc") or "cubic", self.reps("bw")))
        self.w()
        rows = []
        for rate in rates:
            for m in ("pt", "tbf_cni", "tbf_matched"):
                rs = by(self.r, "bw", rate=rate, mode=m)
                if not rs:
                    continue
                lim = rs[0]["limit_bps"]
                ach = med([(x.get("bps") or float("nan")) / lim for x in rs])
                steady = med([(x.get("steady_bps") or float("nan")) / lim for x in rs])
                worst = med([(x.get("worst_bps") or float("nan")) / lim for x in rs])
                idle = med([x.get("idle_p50_us") for x in rs])
                l50 = med([x.get("p50_load_us") for x in rs])
                l99 = med([x.get("p99_load_us") for x in rs])
                loss = med([100.0 * (x.get("lost") or 0) / x["sent"] for x in rs if x.get("sent")])
                rows.append([rate, names[m], fmt(ach, 3), fmt(steady, 3), fmt(worst, 3), fmt(med([x.get("retr") for x in rs]), 0),
                             fmt(idle, 0), fmt(None if l50 is None or idle is None else l50 - idle, 0),
                             fmt(None if l99 is None or idle is None else l99 - idle, 0), fmt(loss, 1)])
        self.table(["limit", "limiter", "achieved / limit", "median 1 s / limit", "worst 1 s / limit", "retransmits", "idle RTT µs",
                    "added RTT p50 µs", "added RTT p99 µs", "probe loss %"], rows)
        # targets: per rate, pt in 0.95-1.02, fewer retransmits and less added RTT than each tbf
        notes, met = [], True
        for rate in rates:
            pt = by(self.r, "bw", rate=rate, mode="pt")
            if not pt:
                continue
            lim = pt[0]["limit_bps"]
            ach = med([(x.get("bps") or float("nan")) / lim for x in pt])
            retr = med([x.get("retr") for x in pt])
            add = med([(x.get("p50_load_us") or 0) - (x.get("idle_p50_us") or 0) for x in pt])
            ok = ach is not None and 0.95 <= ach <= 1.02
            for m in ("tbf_cni", "tbf_matched"):
                tb = by(self.r, "bw", rate=rate, mode=m)
                if not tb:
                    continue
                # "fewer": strictly, unless tbf has none either (0 vs 0 is not worse)
                tr = med([x.get("retr") for x in tb]) or 0
                ok = ok and retr is not None and (retr < tr or retr == tr == 0)
                ok = ok and add is not None and add < (med([(x.get("p50_load_us") or 0) - (x.get("idle_p50_us") or 0) for x in tb]) or 0)
            met = met and ok
            notes.append("%s: %s of the limit, %s retransmits, +%s µs RTT%s" % (
                rate, fmt(ach, 3), fmt(retr, 0), fmt(add, 0), "" if ok else " (missed)"))
        self.target("bw", "bandwidth 0.95–1.02 of the limit, fewer retransmits and less added RTT than tbf",
                    "; ".join(notes), met if notes else None)
        dat = os.path.join(self.tmp, "bw.dat")
        with open(dat, "w") as f:
            for i, rate in enumerate(rates):
                for j, m in enumerate(("pt", "tbf_cni", "tbf_matched")):
                    rs = by(self.r, "bw", rate=rate, mode=m)
                    if not rs:
                        continue
                    lim = rs[0]["limit_bps"]
                    ach = med([(x.get("bps") or float("nan")) / lim for x in rs])
                    add = med([(x.get("p50_load_us") or 0) - (x.get("idle_p50_us") or 0) for x in rs])
                    f.write('%d "%s %s" %s %s\n' % (i * 4 + j, rate, m.replace("_", "-"), ach or "NaN",
                                                   (add or 0) / 1000.0))
        png = os.path.join(self.outdir, "bench", "bandwidth.png")
        self.gnuplot(['set terminal pngcairo size 1000,560 font ",10"', 'set output "%s"' % png,
                      'set title "pod egress limit: achieved/limit (bars) and added RTT p50 (points)"',
                      "set style fill solid 0.6", "set boxwidth 0.8", "set xtics rotate by -30",
                      'set ylabel "achieved / limit"', 'set y2label "added RTT ms"', "set y2tics",
                      "set logscale y2", "set grid ytics", "set yrange [0:*]",
                      'plot "%s" using 1:3:xtic(2) with boxes t "achieved / limit", '
                      '"%s" using 1:($4>0?$4:NaN) axes x1y2 with points pt 7 ps 1.5 t "added RTT p50 (ms)"' % (dat, dat)])
        self.pngs.append(os.path.basename(png))

    # ---- 7. pod startup ------------------------------------------------------
    def startup(self):
        s = by(self.r, "startup")
        if not s:
            return
        ms = sorted(x["ms"] for x in s if x.get("ms") is not None)
        self.w("## 7. Pod startup")
        self.w()
        self.w("%d pods (one container, `sleep`, no probes: Ready when started), created one after "
               "the other through the control socket; each timed from the apply request to the "
               "first `get pod` (polled every 1 ms) that shows Ready=True. \"daemon\" is the "
               "`podtrace_pod_startup_duration_seconds` histogram (creation → first Ready, "
               "interpolated)." % len(ms))
        self.w()
        q = lambda p: ms[min(len(ms) - 1, int(round(p * (len(ms) - 1))))]
        h = by(self.r, "startuphist")
        h = h[0] if h else {}
        self.table(["pods", "p50 ms", "p99 ms", "min ms", "max ms", "daemon p50 ms", "daemon p99 ms"],
                   [[len(ms), fmt(q(0.5), 1), fmt(q(0.99), 1), fmt(ms[0], 1), fmt(ms[-1], 1),
                     fmt(None if h.get("p50_s") is None else h["p50_s"] * 1000, 1),
                     fmt(None if h.get("p99_s") is None else h["p99_s"] * 1000, 1)]])
        self.target("startup", "pod startup ≤ 50 ms p50", "%s ms (p99 %s ms)" % (fmt(q(0.5), 1), fmt(q(0.99), 1)),
                    q(0.5) <= 50)

    # ---- 8. metrics ------------------------------------------------------------
    def metrics(self):
        m = by(self.r, "metrics")
        if not m:
            return
        self.w("## 8. /metrics render time")
        self.w()
        self.w("`curl` of `/metrics` (time_total: request to last byte), %d scrapes each, with the "
               "pods only and then with the services added (%s endpoints each)." % (
                   self.reps("metrics"), self.env.get("ep", "10")))
        self.w()
        rows = []
        for st in ("pods", "pods+svcs"):
            rs = by(self.r, "metrics", state=st)
            if rs:
                rows.append([self.env.get("met_pods", "?") + " pods" + ("" if st == "pods" else " + %s services" % self.env.get("met_svcs", "?")),
                             fmt(med([x.get("time_s") for x in rs]) * 1000, 1),
                             fmt(max(x.get("time_s") or 0 for x in rs) * 1000, 1),
                             fmt(med([x.get("bytes") for x in rs]) / 1024, 0), fmt(med([x.get("series") for x in rs]), 0)])
        self.table(["state", "median ms", "max ms", "KiB", "series"], rows)
        p = by(self.r, "promtool")
        if p:
            self.w("`promtool check metrics` on the last scrape: %s." % p[0].get("result"))
            self.w()

    def reps(self, cmp):
        return len({r.get("rep") for r in by(self.r, cmp)}) or 0

    def gnuplot(self, lines):
        try:
            subprocess.run(["gnuplot"], input="\n".join(lines) + "\n", text=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        except Exception as e:
            print("report: gnuplot: %s" % e, file=sys.stderr)

    def render(self, outdir):
        self.outdir = outdir
        self.tmp = tempfile.mkdtemp(prefix="ptb-report-")
        self.pngs = []
        os.makedirs(os.path.join(outdir, "bench"), exist_ok=True)
        body_start = len(self.out)
        self.latency()
        self.throughput()
        self.programming()
        self.memory()
        self.tracing()
        self.bandwidth()
        self.startup()
        self.metrics()
        body = self.out[body_start:]
        self.out = self.out[:body_start]
        e = self.env
        self.w("# podtrace benchmarks")
        self.w()
        self.w("Generated by `make bench%s` (`tools/bench/run.sh`) on %s. Do not edit: rerun it." % (
            " QUICK=1" if e.get("quick") == "1" else "", e.get("date", "?")))
        self.w()
        self.table(["", ""], [["kernel", e.get("kernel", "?")], ["CPU", "%s × %s" % (e.get("cpus", "?"), e.get("cpu", "?"))],
                              ["memory", "%s GB" % e.get("mem_gb", "?")], ["podtrace", e.get("podtrace", "?")],
                              ["iptables", e.get("iptables", "?")], ["nftables", e.get("nft", "?")],
                              ["iperf3", e.get("iperf3", "?")],
                              ["run time", "%s s" % (by(self.r, "total")[0]["seconds"] if by(self.r, "total") else "?")]])
        if e.get("root_progs", "0") not in ("0", ""):
            self.w("Note: %s BPF programs were attached at the cgroup2 root during this run (another "
                   "agent on the box); they run for every client here, in every mode." % e["root_progs"])
            self.w()
        if e.get("quick") == "1":
            self.w("**QUICK run: smallest sizes only; it checks the harness, these are not the results.**")
            self.w()
        self.w("The machine is shared and noisy: every comparison runs interleaved (A B A B …), "
               "and **the ratios are the result**; absolute times are context. Method, layouts and "
               "caveats: [How it is measured](#how-it-is-measured).")
        self.w()
        self.w("## Targets")
        self.w()
        rows = []
        for key, text, val, met in self.targets:
            rows.append([text, val, "**met**" if met else "**MISSED**" if met is False else "not measured"])
        self.table(["target", "measured", ""], rows)
        missed = [k for k, _, _, met in self.targets if met is False]
        if missed:
            self.w("podtrace misses %d of %d targets here. Why, and what it would take: "
                   "[Missed targets](#missed-targets)." % (len(missed), len(self.targets)))
            self.w()
        if self.errors.strip():
            self.w("**Harness errors in this run** (the numbers they concern are missing or suspect):")
            self.w()
            for l in self.errors.strip().splitlines():
                self.w("- " + l)
            self.w()
        for p in self.pngs:
            self.w("![%s](bench/%s)" % (p, p))
        self.w()
        self.out.extend(body)
        self.w("## Missed targets")
        self.w()
        self.w(analysis(missed))
        self.w(method())
        with open(os.path.join(outdir, "benchmarks.md"), "w") as f:
            f.write("\n".join(self.out).rstrip() + "\n")
        shutil.rmtree(self.tmp, ignore_errors=True)


def sections(path):
    out, key = {}, None
    if not os.path.exists(path):
        return out
    for line in open(path):
        m = re.match(r"^<!-- target: (\w+) -->", line)
        if m:
            key = m.group(1)
            out[key] = ""
            continue
        if key:
            out[key] += line
    return out


def analysis(missed):
    s = sections(os.path.join(HERE, "analysis.md"))
    if not missed:
        return "None in this run.\n"
    parts = []
    for k in missed:
        parts.append(s.get(k, "(no analysis written for target `%s` yet)\n" % k).strip() + "\n")
    return "\n".join(parts)


def method():
    s = sections(os.path.join(HERE, "analysis.md"))
    return s.get("method", "").strip() + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--env", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--errors", default="")
    a = ap.parse_args()
    env = {}
    for line in open(a.env):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = v
    Report(load(a.results), env, a.errors).render(a.out)


if __name__ == "__main__":
    main()
