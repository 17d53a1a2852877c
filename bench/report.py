#!/usr/bin/env python3
"""bench/report.py: turns one run of bench/run.sh into its report.

Owns: the medians (of req/s, p50 and p99, each over the runs of a scenario), the ratios to
the nginx-static baseline of the same run, the Markdown tables, the result JSON, the
gnuplot charts, and the generated block of docs/performance.md (between the
`<!-- bench:begin -->` and `<!-- bench:end -->` markers; the prose around it is written by
hand). Does not own: measuring or deciding pass/fail (bench/run.sh and bench/lib/*.lua do).

usage: report.py --work DIR --results DIR [--docs docs/performance.md --img docs/img]
  DIR (work) holds meta.json, scenarios.jsonl and raw/<scenario>.<run>.json.
  Writes RESULTS/<stamp>.json and RESULTS/<stamp>.md; with --docs also RESULTS/latest.*,
  the charts in --img and the block in --docs. Without --docs the charts go next to the
  results (RESULTS/<stamp>-*.svg). Python 3 standard library only.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def load(work):
    with open(os.path.join(work, "meta.json")) as f:
        meta = json.load(f)
    scenarios = []
    with open(os.path.join(work, "scenarios.jsonl")) as f:
        for line in f:
            if line.strip():
                scenarios.append(json.loads(line))
    raw = os.path.join(work, "raw")
    for s in scenarios:
        s["runs"] = read_runs(raw, s["name"], s["runs_planned"])
        if s["name"] == "hol":
            s["hammer_runs"] = read_runs(raw, "hol-hammer", s["runs_planned"])
    return meta, scenarios


def read_runs(raw, name, planned):
    runs = []
    for i in range(1, planned + 1):
        p = os.path.join(raw, "%s.%d.json" % (name, i))
        if os.path.exists(p):
            with open(p) as f:
                runs.append(json.load(f))
    return runs


def medians(runs):
    """Median of each figure over the runs that passed (a failed scenario keeps what it has)."""
    ok = [r for r in runs if r.get("pass")] or runs
    if not ok:
        return None
    return {
        "rps": statistics.median(r["rps"] for r in ok),
        "p50_ms": statistics.median(r["latency_ms"]["p50"] for r in ok),
        "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in ok),
        "runs": len(ok),
    }


def totals(runs, field):
    out = {}
    for r in runs:
        for k, n in (r.get(field) or {}).items():
            out[k] = out.get(k, 0) + n
    return out


def summarise(meta, scenarios):
    by_name = {s["name"]: s for s in scenarios}
    for s in scenarios:
        s["median"] = medians(s["runs"])
    static = (by_name.get("static") or {}).get("median")
    for s in scenarios:
        m = s["median"]
        s["ratio_static"] = (m["rps"] / static["rps"]) if (m and static and static["rps"]) else None
        s["statuses"] = totals(s["runs"], "statuses")
        s["xcache"] = totals(s["runs"], "xcache")
        s["kinds"] = totals(s["runs"], "kinds")
        s["notes"] = totals(s["runs"], "notes")
        reads = sum(s["xcache"].values())
        s["hit_rate"] = (s["xcache"].get("HIT", 0) / reads) if reads else None
        if s["name"] == "hol":
            s["hammer"] = medians(s.get("hammer_runs", []))
            s["hammer_statuses"] = totals(s.get("hammer_runs", []), "statuses")
    return {"meta": meta, "scenarios": scenarios}


# ---- formatting ---------------------------------------------------------------------------

def f_rps(v):
    return "—" if v is None else "{:,.0f}".format(v)


def f_ms(v):
    if v is None:
        return "—"
    return "%.2f" % v if v < 10 else "%.1f" % v if v < 100 else "{:,.0f}".format(v)


def f_ratio(v):
    if v is None:
        return "—"
    return "%.3f" % v if v < 0.1 else "%.2f" % v


def f_counts(d):
    return " ".join("%s×%s" % (k, "{:,}".format(v)) for k, v in sorted(d.items())) or "—"


def cache_cell(s):
    x = s["xcache"]
    n = sum(x.values())
    if not n:
        return "—"
    top = max(x, key=x.get)
    if top == "HIT" or "HIT" in x:
        return "HIT %.1f%%" % (100.0 * x.get("HIT", 0) / n)
    return "%s %.0f%%" % (top, 100.0 * x[top] / n)


def result_cell(s):
    if s["status"] == "pass":
        return "ok"
    word = "FAIL" if s["status"] == "fail" else "SKIPPED"
    reason = s["reason"].replace("|", "/")
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return "**%s**: %s" % (word, reason)


def request_cell(s):
    path = s["path"]
    if s["name"].startswith("mix-"):
        return "read/write mix"
    if s["name"] == "user-zipf":
        path = "/api/users/{zipf id}"
    if s["name"] == "hol":
        return "`GET /ping` under load"
    return "`%s %s`" % (s["method"], path)


def accepts_cell(s):
    a = s["accepts"].replace(",", ", ")
    if s["tolerates"]:
        a += " (%s tolerated)" % s["tolerates"]
    return a


def markdown(report, chart_paths):
    meta, scen = report["meta"], report["scenarios"]
    st, m = meta["settings"], meta["machine"]
    by = {s["name"]: s for s in scen}
    out = []
    out.append("Run `%s` (commit `%s`%s), %s → %s." % (
        meta["stamp"], meta["git"]["commit"], ", uncommitted changes" if meta["git"]["dirty"] else "",
        meta["started_at"], meta["finished_at"]))
    out.append("")
    out.append("- machine: %d × %s, %s, %s, %s; load average %s at the start, %s at the end" % (
        m["nproc"], m["cpu"], m["memory"], m["os"], m["kernel"], m["loadavg_start"], m["loadavg_end"]))
    v = meta["versions"]
    out.append("- versions: nginx %s, MariaDB %s, Redis %s, wrk %s, libfcgi %s, json-c %s, libjwt %s, hiredis %s, gcc %s" % (
        v["nginx"], v["mariadb"], v["redis"], v["wrk"], v["libfcgi"], v["json-c"], v["libjwt"],
        v["hiredis"], v["gcc"]))
    out.append("- load: wrk -t%d -c%d, %d s per run, %d run%s per scenario (medians), timeout %d s; pool: %s" % (
        st["threads"], st["connections"], st["duration_s"], st["runs"], "" if st["runs"] == 1 else "s",
        st["timeout_s"], st.get("pool") or "%d responders" % st["fcgi_children"]))
    out.append("- data: {:,} users, {:,} progress rows (write pool: {:,} users); Zipf s = {}; cache off via: {}".format(
        st["users"], st["progress_rows"], st["write_pool_users"], st["zipf_s"], st["miss_via"]))
    out.append("- rate limits for the run: `%s` (the limiter runs on every request, never trips)" % st["bench_conf"].strip("; "))
    out.append("")
    out.append("| scenario | request | accepts | -c | req/s | × static | p50 ms | p99 ms | X-Cache | load | result |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---|---:|---|")
    for s in scen:
        md = s["median"] or {}
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s["name"], request_cell(s), accepts_cell(s), s.get("connections", "?"),
            f_rps(md.get("rps")), f_ratio(s["ratio_static"]),
            f_ms(md.get("p50_ms")), f_ms(md.get("p99_ms")), cache_cell(s), s.get("loadavg_at_start", "?"),
            result_cell(s)))
    out.append("")
    out.append("req/s counts only the accepted statuses (medians over the runs, like p50 and p99); "
               "× static is req/s over the `static` baseline's req/s in this run; -c is wrk's "
               "connection count (latency under a closed loop of -c clients includes queueing "
               "for the pool); load is the machine's 1-minute load average when the scenario "
               "started (%d cores: above that, something else competed for the CPU)." % m["nproc"])

    mixes = [s for s in scen if s["name"].startswith("mix-") and s["runs"]]
    if mixes:
        out.append("")
        out.append("Read/write mixes (totals over the runs):")
        out.append("")
        out.append("| scenario | reads answered | hit rate of reads | writes answered | statuses | writes sent (start / complete / update) | pool exhausted |")
        out.append("|---|---:|---:|---:|---|---|---:|")
        for s in mixes:
            k, n = s["kinds"], s["notes"]
            reads = sum(v for key, v in k.items() if key.startswith("read:"))
            writes = sum(v for key, v in k.items() if key.startswith("write:"))
            out.append("| %s | {:,} | %s | {:,} | %s | {:,} / {:,} / {:,} | {:,} |".format(
                reads, writes, n.get("sent_write_start", 0), n.get("sent_write_complete", 0),
                n.get("sent_write_update", 0), n.get("pool_exhausted", 0)) % (
                s["name"], "—" if s["hit_rate"] is None else "%.1f%%" % (100 * s["hit_rate"]),
                f_counts(s["statuses"])))

    hol = by.get("hol")
    if hol and hol["median"] and hol["status"] == "pass":
        h = hol.get("hammer") or {}
        p99 = hol["median"]["p99_ms"]
        out.append("")
        out.append("Head of line (`hol`): /ping p50 %s ms, p99 **%s ms** (target ≤ 20 ms: %s; not asserted) "
                   "while %d clients hammered `%s` with the cache Redis stopped (hammer: %s req/s, p99 %s ms; "
                   "statuses %s). The probe is closed-loop (2 connections; %s /ping answers in all), so "
                   "the tail is a lower bound." % (
                       f_ms(hol["median"]["p50_ms"]), f_ms(p99), "met" if p99 <= 20 else "**not met**",
                       hol["extra"].get("hammer_clients", 0), hol["extra"].get("hammer_path", "?"),
                       f_rps(h.get("rps")), f_ms(h.get("p99_ms")), f_counts(hol.get("hammer_statuses", {})),
                       "{:,}".format(sum(hol["statuses"].values()))))

    lim, hit = by.get("limiter-off"), by.get("stats-hit")
    if lim and hit and lim["status"] == hit["status"] == "pass":
        out.append("")
        out.append("Rate limiter on the cached users/stats: on %s req/s, off %s req/s (on/off = %.2f)." % (
            f_rps(hit["median"]["rps"]), f_rps(lim["median"]["rps"]),
            hit["median"]["rps"] / lim["median"]["rps"]))

    pools = [s for s in scen if s["name"].startswith("pool-") and s["status"] == "pass"]
    if pools:
        out.append("")
        out.append("Pool sweep on the cached users/stats: " + ", ".join(
            "%s responders %s req/s (p99 %s ms)" % (s["name"][5:], f_rps(s["median"]["rps"]),
                                                   f_ms(s["median"]["p99_ms"])) for s in pools) + ".")

    if chart_paths:
        out.append("")
        for title, path in chart_paths:
            out.append("![%s](%s)" % (title, path))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# ---- charts ------------------------------------------------------------------------------

def gnuplot(script):
    if shutil.which("gnuplot") is None:
        print("[bench] warning: gnuplot not installed: no charts", file=sys.stderr)
        return False
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        print("[bench] warning: gnuplot failed: " + r.stderr.strip(), file=sys.stderr)
        return False
    return True


def log_floor(values):
    """The power of ten at or below the smallest value: the bottom of a log axis that shows
    every bar (gnuplot draws log-scale boxes up from the axis' bottom)."""
    v = [x for x in values if x and x > 0]
    return 10 ** math.floor(math.log10(min(v))) if v else 0.01


def chart_latency(scen, data_path, svg_path):
    routes = []
    for s in scen:
        if s["chart_route"] and s["chart_route"] not in routes:
            routes.append(s["chart_route"])
    cells, conns = {}, {}
    for s in scen:
        if s["variant"]:
            conns[s["variant"]] = s.get("connections", "?")
        if s["chart_route"] and s["median"] and s["status"] == "pass":
            cells[(s["chart_route"], s["variant"])] = s["median"]
    if not cells:
        return False

    def cell(route, variant, key):
        m = cells.get((route, variant))
        return "%.4f" % m[key] if m else "?"

    with open(data_path, "w") as f:
        f.write("# route p50_hit p99_hit p50_miss p99_miss (ms, medians)\n")
        for r in routes:
            f.write('"%s" %s %s %s %s\n' % (r, cell(r, "HIT", "p50_ms"), cell(r, "HIT", "p99_ms"),
                                           cell(r, "MISS", "p50_ms"), cell(r, "MISS", "p99_ms")))
    return gnuplot("""
set terminal svg size 900,480 noenhanced font "sans,12" background "#ffffff"
set output '%s'
set title "Latency per route: cache HIT (-c%s) vs MISS, cache off (-c%s); medians of the runs"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [%g:*]
set ylabel "milliseconds (log scale)"
set grid ytics
set key top left
plot '%s' using 2:xtic(1) title "p50 HIT" lc rgb "#4c9f70", \
     '' using 3 title "p99 HIT" lc rgb "#1e5e3a", \
     '' using 4 title "p50 MISS" lc rgb "#e0a040", \
     '' using 5 title "p99 MISS" lc rgb "#b04a1a"
""" % (svg_path, conns.get("HIT", "?"), conns.get("MISS", "?"),
       log_floor(m[k] for m in cells.values() for k in ("p50_ms", "p99_ms")), data_path))


def chart_ratio(scen, data_path, svg_path):
    rows = [s for s in scen if s["ratio_static"] and s["status"] == "pass"
            and s["name"] not in ("static", "hol")]
    if not rows:
        return False
    with open(data_path, "w") as f:
        f.write("# scenario ratio_to_static rps\n")
        for s in rows:
            f.write('"%s" %.6f %.1f\n' % (s["name"], s["ratio_static"], s["median"]["rps"]))
    return gnuplot("""
set terminal svg size 1000,520 noenhanced font "sans,12" background "#ffffff"
set output '%s'
set title "req/s per scenario as a fraction of nginx serving the same bytes from a file (static = 1)"
set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.8
set logscale y
set yrange [%g:2]
set ylabel "req/s ÷ static req/s (log scale)"
set grid ytics
set xtics rotate by -45 left
set bmargin 7
unset key
plot '%s' using 2:xtic(1) lc rgb "#3a6ea5", \
     '' using 0:($2*1.15):(sprintf("%%.3g", $2)) with labels font "sans,9" notitle
""" % (svg_path, log_floor(s["ratio_static"] for s in rows), data_path))


# ---- docs --------------------------------------------------------------------------------

def update_docs(docs, block):
    with open(docs) as f:
        text = f.read()
    b, e = text.find(BEGIN), text.find(END)
    if b < 0 or e < b:
        sys.exit("report.py: %s has no %s ... %s block" % (docs, BEGIN, END))
    note = ("\n<!-- generated by bench/report.py from bench/results/latest.json; "
            "edit the prose outside the markers only -->\n\n")
    text = text[:b + len(BEGIN)] + note + block + "\n" + text[e:]
    with open(docs, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--docs")
    ap.add_argument("--img")
    a = ap.parse_args()

    meta, scenarios = load(a.work)
    report = summarise(meta, scenarios)
    stamp = meta["stamp"]
    os.makedirs(a.results, exist_ok=True)

    if a.docs:
        img = a.img or os.path.dirname(os.path.abspath(a.docs))
        os.makedirs(img, exist_ok=True)
        lat = os.path.join(img, "bench-latency-hit-miss.svg")
        rat = os.path.join(img, "bench-rps-vs-static.svg")
    else:
        lat = os.path.join(a.results, stamp + "-latency-hit-miss.svg")
        rat = os.path.join(a.results, stamp + "-rps-vs-static.svg")
    charts = []
    if chart_latency(scenarios, os.path.join(a.work, "latency.dat"), lat):
        charts.append(("p50/p99 HIT vs MISS per route", os.path.abspath(lat)))
    if chart_ratio(scenarios, os.path.join(a.work, "ratio.dat"), rat):
        charts.append(("req/s per scenario as a ratio to static", os.path.abspath(rat)))

    def linked(base):
        return [(t, os.path.relpath(p, os.path.abspath(base))) for t, p in charts]

    json_path = os.path.join(a.results, stamp + ".json")
    md_path = os.path.join(a.results, stamp + ".md")
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(md_path, "w") as f:
        f.write("# Guild API benchmark %s\n\n" % stamp)
        f.write(markdown(report, linked(a.results)))
    md = markdown(report, linked(os.path.dirname(os.path.abspath(a.docs))) if a.docs else [])
    if a.docs:
        shutil.copyfile(json_path, os.path.join(a.results, "latest.json"))
        shutil.copyfile(md_path, os.path.join(a.results, "latest.md"))
        update_docs(a.docs, md)
    print(md)
    print("[bench] wrote %s, %s%s" % (json_path, md_path, (", " + a.docs) if a.docs else ""))


if __name__ == "__main__":
    main()
