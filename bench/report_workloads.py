"""The "Real workloads" section of BENCHMARKS.md and its plots, from workloads.json (report.py calls it)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import matplotlib.pyplot as plt

IO_SHAPES = ("upstream-2ms", "upstream-20ms")  # issue 17: the image at least as fast as the best of
IO_PEERS = ("granian", "gthread")  # these, at req/s, p50 and p99
PLOTS = (("rps", "requests/s (median, bars: min–max; log scale)", "workloads_rps.png"),
         ("p99_ms", "p99 latency, ms (median, bars: min–max; log scale)", "workloads_p99.png"))


def order(wl: dict, key: str, present: Dict[str, object]) -> List[str]:
    """The names of PRESENT in the run's order (workloads.json's "order"; its JSON keys are sorted)."""
    listed = [n for n in wl.get("order", {}).get(key, []) if n in present]
    return listed + sorted(n for n in present if n not in listed)


def is_image(name: str) -> bool:
    """NAME is one of the image's contenders (image, image-threads=N)."""
    return name == "image" or name.startswith("image-")


def cell(stat: Optional[Dict[str, float]], digits: int) -> str:
    """'median (min–max)', or '–' where no request completed."""
    if not stat:
        return "–"
    f = "%%.%df" % digits
    return "%s (%s–%s)" % tuple(f % stat[k] for k in ("median", "min", "max"))


def median(result: Dict[str, object], key: str) -> Optional[float]:
    """The median of KEY in one contender's result, None if it has none."""
    stat = result.get(key)
    return stat["median"] if stat else None  # type: ignore[index]


def best(per: Dict[str, dict], names: List[str], key: str) -> Tuple[Optional[str], Optional[float]]:
    """Among NAMES, the best median of KEY (highest req/s, lowest latency) and whose it is."""
    values = [(median(per[n], key), n) for n in names if n in per and median(per[n], key) is not None]
    if not values:
        return None, None
    value, name = (max if key == "rps" else min)(values)  # type: ignore[type-var]
    return name, value


def ratio(a: Optional[float], b: Optional[float]) -> str:
    """A/B with two decimals, '–' when either is missing or B is 0."""
    return "%.2f" % (a / b) if a is not None and b else "–"


def result_table(per: Dict[str, dict], names: List[str]) -> List[str]:
    """One row per contender: req/s, p50, p99, socket errors, non-2xx."""
    lines = ["| contender | req/s | p50 (ms) | p99 (ms) | socket errors | non-2xx |", "| --- |" + " --- |" * 5]
    for name in names:
        r = per[name]
        lines.append("| %s | %s | %s | %s | %d | %d |" % (
            name, cell(r["rps"], 0), cell(r["p50_ms"], 2), cell(r["p99_ms"], 2), r["errors"], r["non2xx"]))
    return lines


def summary_table(wl: dict) -> List[str]:
    """Per shape and image contender: its medians against the best peer's, as ratios."""
    lines = [
        "| shape | contender | req/s | best peer (req/s) | req/s ratio | p50 ratio (best peer) "
        "| p99 ratio (best peer) |",
        "| --- |" + " --- |" * 6,
    ]
    for shape in order(wl, "shapes", wl["results"]):
        per = wl["results"][shape]
        names = order(wl, "contenders", per)
        peers = [n for n in names if not is_image(n)]
        for name in [n for n in names if is_image(n)]:
            top, top_rps = best(per, peers, "rps")
            p50_name, p50 = best(per, peers, "p50_ms")
            p99_name, p99 = best(per, peers, "p99_ms")
            lines.append("| %s | %s | %.0f | %s (%.0f) | **%s** | %s (%s) | %s (%s) |" % (
                shape, name, median(per[name], "rps") or 0, top, top_rps or 0,
                ratio(median(per[name], "rps"), top_rps), ratio(median(per[name], "p50_ms"), p50), p50_name,
                ratio(median(per[name], "p99_ms"), p99), p99_name))
    return lines


def io_targets(wl: dict) -> List[List[str]]:
    """Issue 17's goal on the upstream shapes: the image at least as fast as the best of granian and gthread,
    at req/s, p50 and p99 (rows for the targets table)."""
    rows = []
    for shape in [s for s in IO_SHAPES if s in wl["results"]]:
        per = wl["results"][shape]
        if "image" not in per or not any(p in per for p in IO_PEERS):
            continue
        peers = [p for p in IO_PEERS if p in per]
        _, rps = best(per, peers, "rps")
        _, p50 = best(per, peers, "p50_ms")
        _, p99 = best(per, peers, "p99_ms")
        i_rps, i_p50, i_p99 = (median(per["image"], k) for k in ("rps", "p50_ms", "p99_ms"))
        if not (i_rps and i_p50 and i_p99 and rps and p50 and p99):
            rows.append(["image >= best of %s on %s" % (" and ".join(peers), shape), "no latency", "**MISSED**"])
            continue
        speed = [i_rps / rps, p50 / i_p50, p99 / i_p99]  # >= 1: at least as fast
        worst = min(speed)
        rows.append([
            "image >= best of %s on %s (req/s, p50, p99)" % (" and ".join(peers), shape),
            "req/s %.2f, p50 %.2f, p99 %.2f (image/best; latencies best/image)" % tuple(speed),
            "met" if worst >= 1 else "**MISSED** by %.0f%%" % ((1 - worst) * 100),
        ])
    return rows


def plot(wl: dict, plots: Path) -> List[str]:
    """Grouped bars per shape (and the example), one bar per contender; returns the file names."""
    groups = [(shape, wl["results"][shape]) for shape in order(wl, "shapes", wl["results"])]
    if "example" in wl:
        groups.append(("examples/postgres", wl["example"]["results"]))
    names: List[str] = []
    for _, per in groups:
        names += [n for n in order(wl, "contenders", per) if n not in names]
    width = 0.8 / len(names)
    files = []
    for key, label, filename in PLOTS:
        fig, ax = plt.subplots(figsize=(10, 4.5))
        for index, name in enumerate(names):
            xs, meds, low, high = [], [], [], []
            for x, (_, per) in enumerate(groups):
                stat = per.get(name, {}).get(key)
                if stat:
                    xs.append(x - 0.4 + width * (index + 0.5))
                    meds.append(stat["median"])
                    low.append(stat["median"] - stat["min"])
                    high.append(stat["max"] - stat["median"])
            ax.bar(xs, meds, width, yerr=[low, high], capsize=2, label=name)
        ax.set_xticks(range(len(groups)), [g for g, _ in groups])
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.set_xlabel("wrk -t1 -c%d (load, PostgreSQL and upstream on CPU 0, servers on CPU 1)" % wl["connections"])
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, ncol=3)
        plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
        fig.tight_layout()
        fig.savefig(plots / filename, dpi=100)
        plt.close(fig)
        files.append(filename)
    return files


def built(name: str, app: Dict[str, Optional[float]]) -> str:
    """'NAME SECONDS (lock update SECONDS)' of one app of app_images.json."""
    update = app["requirements_update_seconds"]
    return "%s %s%s" % (name, app["build_seconds"], "" if update is None else " (lock update %s)" % update)


def section(
    wl: dict, command: str, plots: Path, images: Optional[dict] = None, images_command: Optional[str] = None
) -> Tuple[List[str], List[List[str]]]:
    """The section's lines and its rows for the targets table; IMAGES: app_images.json, how the images were built."""
    files = plot(wl, plots)
    lines = ["## Real workloads", ""]
    if images and images_command:
        lines += [
            "`%s`" % images_command,
            "",
            "The images, built as a user builds them: in one copy of the kit, each app's files in place of the "
            "user's, `./bazelw run //:requirements.update` (psycopg2 from its source archive against Debian's "
            "libpq), `./bazelw build //:image`. Seconds: "
            + "; ".join(built(name, app) for name, app in images["apps"].items()) + ".",
            "",
        ]
    lines += [
        "`%s`" % command,
        "",
        "wrk 4.1.0 (`-t1 -c%d --latency`, 5 s timeout) on CPU 0 with PostgreSQL %s (Debian's, from the build root, "
        "fsync off, on 127.0.0.1: `world` %d rows, `fortune` %d) and the upstream (`bench/upstream.py`, asyncio, "
        "answers after the delay asked); every server on CPU 1, 2 workers (bjoern: one process), access log off, "
        "the same app (`bench/apps/tfb`) with one database connection and one keep-alive upstream connection per "
        "thread (per greenlet on gevent). %d round%s of %d s per shape and contender, interleaved and rotated; each "
        "round starts fresh servers, checks every shape's answer of each (status and content), and warms each up "
        "for 1 s on /db at the measured connections (each thread a server uses opens its connections first). "
        "Figures: median (min–max) over the rounds; latencies of requests that completed (a request over the "
        "timeout counts as a socket error)."
        % (wl["connections"], wl.get("postgresql", "?"), wl.get("rows", {}).get("world", 0),
           wl.get("rows", {}).get("fortune", 0), wl["rounds"], "" if wl["rounds"] == 1 else "s", wl["seconds"]),
        "",
        "PostgreSQL and the upstream share CPU 0 with wrk (TechEmpower gives the database a machine of its own): "
        "where the database's work dominates, as in `queries` (20 round trips a request), CPU 0 can bound every "
        "contender alike, and the shape then says little about the servers. `plaintext` is sent without "
        "TechEmpower's pipelining. A contender that cannot overlap waits (bjoern; a server that runs one request "
        "at a time per worker) does at most workers/delay requests/s on the `upstream` shapes, whatever the CPU.",
        "",
        "| shape | path | one request |",
        "| --- | --- | --- |",
    ]
    shapes = order(wl, "shapes", wl["shapes"])
    contenders = order(wl, "contenders", wl["contenders"])
    lines += ["| %s | `%s` | %s |" % (s, wl["shapes"][s]["path"], wl["shapes"][s]["what"]) for s in shapes]
    lines += ["", "| contender | what |", "| --- | --- |"]
    lines += ["| %s | %s |" % (n, wl["contenders"][n]) for n in contenders]
    lines += [
        "",
        "The image against the best peer (of %s) per shape: ratios of medians, image/peer; above 1 is better for "
        "req/s, below 1 for latency (each latency against the peer with the lowest)."
        % ", ".join(n for n in contenders if not is_image(n)),
        "",
    ]
    lines += summary_table(wl) + [""]
    for shape in order(wl, "shapes", wl["results"]):
        per = wl["results"][shape]
        lines += ["### %s: `GET %s`" % (shape, wl["shapes"][shape]["path"]), ""]
        lines += result_table(per, order(wl, "contenders", per)) + [""]
    if "example" in wl:
        ex = wl["example"]
        per = ex["results"]
        names = order(wl, "example", per)
        lines += [
            "### The postgres example under load: `GET %s`" % ex["path"],
            "",
            "examples/postgres as it is: each request opens a connection, creates the table if needed and counts "
            "the visit of its path in one transaction (every request updates the same row). Same wrk, rounds and "
            "placement as above.",
            "",
            "| contender | what |",
            "| --- | --- |",
        ]
        lines += ["| %s | %s |" % (n, ex["contenders"][n]) for n in names]
        lines += [""] + result_table(per, names) + [""]
        if "gthread" in per:
            lines += ["Ratios of medians against gthread: " + "; ".join(
                "%s req/s %s, p50 %s, p99 %s" % (name, ratio(median(per[name], "rps"), median(per["gthread"], "rps")),
                                                 ratio(median(per[name], "p50_ms"), median(per["gthread"], "p50_ms")),
                                                 ratio(median(per[name], "p99_ms"), median(per["gthread"], "p99_ms")))
                for name in names if is_image(name)) + ".", ""]
    lines += ["![real workloads: requests/s](bench/plots/%s)" % files[0], "",
              "![real workloads: p99 latency](bench/plots/%s)" % files[1], ""]
    return lines, io_targets(wl)
