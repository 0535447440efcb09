"""Writes BENCHMARKS.md and its plots (PNG) from the JSON results of one bench/run_all.sh run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common import BENCH  # noqa: E402
from memory import WARM_UP_SECONDS  # noqa: E402
import report_workloads  # noqa: E402

MB = 1e6
SIZE_MB = 50  # the goal: the image at most 50 MB uncompressed
FIRST_200_SECONDS = 0.1  # the goal: the first 200 within 0.1 s of process start
SMALL_PART_MB = 0.1  # the parts table sums the parts smaller than this in every image


def load(results: Path, name: str) -> Optional[dict]:
    """The JSON result NAME.json, or None when that step did not run."""
    path = results / (name + ".json")
    return json.loads(path.read_text()) if path.is_file() else None


def fmt_range(stat: Dict[str, float], scale: float = 1.0, digits: int = 0) -> str:
    """'median (min–max)' of a summary."""
    f = "%%.%df" % digits
    return "%s (%s–%s)" % tuple(f % (stat[k] * scale) for k in ("median", "min", "max"))


def verdict(ok: bool) -> str:
    """'met' or 'MISSED'."""
    return "met" if ok else "**MISSED**"


def plot_throughput(tp: dict, plots: Path) -> List[str]:
    """requests/s and p99 latency against connections, one line per contender; returns file names."""
    conns = tp["connections"]
    names = []
    for key, label, filename in (
        ("rps", "requests/s (median, bars: min–max)", "throughput.png"),
        ("p99_ms", "p99 latency, ms (median, bars: min–max)", "latency_p99.png"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for name, per_conn in tp["results"].items():
            med = [per_conn[str(c)][key]["median"] for c in conns]
            low = [m - per_conn[str(c)][key]["min"] for m, c in zip(med, conns)]
            high = [per_conn[str(c)][key]["max"] - m for m, c in zip(med, conns)]
            ax.errorbar(conns, med, yerr=[low, high], marker="o", capsize=3, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(conns, [str(c) for c in conns])
        if key == "p99_ms":
            ax.set_yscale("log")
        ax.set_xlabel("wrk connections (1 thread, load on CPU 0, server on CPU 1)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(plots / filename, dpi=100)
        plt.close(fig)
        names.append(filename)
    return names


def plot_timeline(plots: Path, mem: dict) -> str:
    """Each worker's VmRSS over the load, one line per worker; returns the file name."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, m in mem.items():
        pids = sorted({pid for _, workers in m["timeline_kib"] for pid in workers})
        for index, pid in enumerate(pids):
            points = [(t, workers[pid] / 1024) for t, workers in m["timeline_kib"] if pid in workers]
            ax.plot([t for t, _ in points], [v for _, v in points], label="%s worker %d" % (name, index + 1))
    ax.set_xlabel("seconds into the wrk run")
    ax.set_ylabel("VmRSS, MiB")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / "memory_over_time.png", dpi=100)
    plt.close(fig)
    return "memory_over_time.png"


def plot_bars(
    plots: Path,
    filename: str,
    labels: List[str],
    values: List[float],
    ylabel: str,
    errors: Optional[List[List[float]]] = None,
    log: bool = False,
) -> str:
    """A simple bar chart; returns its file name."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.bar(labels, values, yerr=errors, capsize=4, color="#4C72B0")
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
    fig.tight_layout()
    fig.savefig(plots / filename, dpi=100)
    plt.close(fig)
    return filename


def parts_table(sz: dict) -> List[str]:
    """Where the uncompressed bytes go: one row per part of size.py, one column per image."""
    names = [n for n in ("pyc", "previous") if n in sz]
    rows = sorted({p for n in names for p in sz[n]["parts"]}, key=lambda p: -sz["pyc"]["parts"].get(p, 0))
    lines = [
        "Where the uncompressed bytes go (`size.py` PARTS: every file once, in its first matching part; shared "
        "libraries one by one):",
        "",
        "| part | " + " | ".join("%s (MB)" % n for n in names) + (" | difference (MB) |" if len(names) == 2 else " |"),
        "| --- |" + " --- |" * (len(names) + (len(names) == 2)),
    ]
    small = [0.0] * len(names)
    for part in rows:
        values = [sz[n]["parts"].get(part, 0) / MB for n in names]
        if max(values) < SMALL_PART_MB:
            small = [a + b for a, b in zip(small, values)]
            continue
        extra = " | %+.3f" % (values[0] - values[1]) if len(values) == 2 else ""
        lines.append("| %s | %s%s |" % (part, " | ".join("%.3f" % v for v in values), extra))
    extra = " | %+.3f" % (small[0] - small[1]) if len(small) == 2 else ""
    lines.append("| parts under %g MB each | %s%s |" % (SMALL_PART_MB, " | ".join("%.3f" % v for v in small), extra))
    return lines + [""]


def ratio_target(res: dict, other: str, target: float, conns: List[int]) -> List[str]:
    """The target row 'image/OTHER >= TARGET at CONNS': worst median ratio, its spread, the verdict."""
    worst = min(conns, key=lambda c: res["image"][str(c)]["rps"]["median"] / res[other][str(c)]["rps"]["median"])
    image, rival = res["image"][str(worst)]["rps"], res[other][str(worst)]["rps"]
    ratio, low, high = image["median"] / rival["median"], image["min"] / rival["max"], image["max"] / rival["min"]
    if ratio >= target:
        word = "met" if low >= target else "met by the medians, inconclusive (spread spans %g)" % target
    else:
        word = "**MISSED** by %.0f%%" % ((1 - ratio / target) * 100)
        word += "" if high < target else ", inconclusive (spread spans %g)" % target
    where = "every concurrency" if conns[0] == 1 else ">= %d connections" % conns[0]
    return [
        "image/%s >= %g at %s" % (other, target, where),
        "worst %.2f at %d conn (spread %.2f–%.2f)" % (ratio, worst, low, high),
        word,
    ]


def throughput_section(tp: dict, lines: List[str], targets: List[List[str]], command: str) -> None:
    """Tables of requests/s and latency, the ratios and their targets."""
    conns = tp["connections"]
    res = tp["results"]
    lines += [
        "## Throughput and latency",
        "",
        "`%s`" % command,
        "",
        "wrk 4.1.0 (`-t1 --latency`, the build root's) pinned to CPU 0 (`taskset -c 0`); every server pinned to "
        "CPU 1 (`taskset -c 1`, podman `--cpuset-cpus 1`), 2 workers (bjoern: one process), access log off, `GET /` of "
        "`app.main:app` on 127.0.0.1. %d rounds of %d s per contender and connection count, interleaved and "
        "rotated (round 1: 1 connection A B C D E, 16 connections A B C D E, ...; round 2: B C D E A, ...). "
        "Each round starts fresh servers (all idle but the one under load) and warms each up for 1 s. "
        "Figures: median (min–max) over the rounds." % (tp["rounds"], tp["seconds"]),
        "",
    ]
    lines += ["| contender | what |", "| --- | --- |"]
    lines += ["| %s | %s |" % (name, desc) for name, desc in tp["contenders"].items()]
    for key, title, scale, digits in (
        ("rps", "requests/s", 1, 0),
        ("p50_ms", "p50 latency (ms)", 1, 2),
        ("p99_ms", "p99 latency (ms)", 1, 2),
    ):
        lines += [
            "",
            "%s:" % title,
            "",
            "| contender | " + " | ".join("%d conn" % c for c in conns) + " |",
            "| --- |" + " --- |" * len(conns),
        ]
        for name, per_conn in res.items():
            lines.append(
                "| %s | " % name + " | ".join(fmt_range(per_conn[str(c)][key], scale, digits) for c in conns) + " |"
            )
    errors = {name: sum(per_conn[str(c)]["errors"] for c in conns) for name, per_conn in res.items()}
    lines += [
        "",
        "Socket errors + non-2xx responses over all runs: "
        + ", ".join("%s %d" % item for item in errors.items())
        + ".",
        "",
    ]
    if "image" in res:
        lines += [
            "Ratios of medians (requests/s):",
            "",
            "| ratio | " + " | ".join("%d conn" % c for c in conns) + " |",
            "| --- |" + " --- |" * len(conns),
        ]
        for other in [n for n in res if n != "image"]:
            ratios = [res["image"][str(c)]["rps"]["median"] / res[other][str(c)]["rps"]["median"] for c in conns]
            lines.append("| image/%s | " % other + " | ".join("%.2f" % r for r in ratios) + " |")
        lines += [
            "",
            "A ratio's spread, image min/other max to image max/other min, tells whether the rounds "
            "settle a target: where it spans the target, the verdict is inconclusive on this run.",
            "",
        ]
        for other, target, at in (("bare", 0.95, conns), ("gthread", 5.0, [c for c in conns if c >= 16]),
                                  ("granian", 1.5, [c for c in conns if c in (16, 64)])):
            if other in res:
                targets.append(ratio_target(res, other, target, at))
        lines.append("")
    lines += ["![requests/s](bench/plots/throughput.png)", "", "![p99 latency](bench/plots/latency_p99.png)", ""]


def remote_section(rb: dict, lines: List[str], command: str) -> None:
    """The cold //:image builds, locally and on remote/cluster.py's workers (bench/remote_build.py)."""
    local = rb["local"]["seconds"]
    lines += [
        "## Remote execution",
        "",
        "`%s` (on %s; load average %s at its end)" % (command, rb["date"], rb["loadavg_end"]),
        "",
        "Cold builds of `//:image`, one run each, in one clone of HEAD: each in a fresh output base with the "
        "repository cache shared (the repository rules that unpack the Debian packages and build wheels run on "
        "the client every time); each cluster fresh, with an empty CAS; on this one 2-core machine, so the "
        "client, BuildGrid and the workers share its cores.",
        "",
        "| build | seconds | / local | Bazel's processes |",
        "| --- | --- | --- | --- |",
    ]
    for key, name in [
        ("local", "local"),
        ("remote_1", "remote, 1 worker"),
        ("remote_2", "remote, 2 workers"),
        ("second_client", "a second client of the 2-worker cluster"),
    ]:
        run = rb[key]
        lines.append("| %s | %.1f | %.2f | %s |" % (name, run["seconds"], run["seconds"] / local, run["summary"]))
    lines += [
        "",
        "Most of a cold build here is the client's repository rules, which no cluster takes over, and the "
        "image's few actions mostly wait on one another (layers, then bytecode, then the image): a second worker "
        "has little to run beside the first, and each remote action adds its upload and staging. What the "
        "cluster gives is the second client's build: it executes nothing.",
        "",
    ]


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=BENCH / "results", help="directory of the JSON results")
    parser.add_argument("--out", type=Path, default=BENCH.parent / "BENCHMARKS.md")
    parser.add_argument("--plots", type=Path, default=BENCH / "plots", help="where the PNG plots go")
    args = parser.parse_args(argv)
    meta = load(args.results, "meta")
    if meta is None:
        parser.error("no meta.json in %s: run bench/run_all.sh" % args.results)
    plots = args.plots
    plots.mkdir(exist_ok=True)
    commands = meta["commands"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `%s` on %s (UTC). Every figure below names the command that produced it; rerun "
        "`bench/run_all.sh` (or `bench/run_all.sh --quick` for a short smoke version) to regenerate this file, "
        "the plots in `bench/plots/` and the raw results in `bench/results/`." % (meta["invocation"], meta["date"]),
        "",
        "Machine: %s, %d cores, %.1f GiB memory, Linux %s. Load average (1 min) %s at the start, %s at the "
        "end of the run. %s"
        % (
            meta["cpu"],
            meta["cores"],
            meta["mem_kib"] / 2**20,
            meta["kernel"],
            meta["loadavg_start"],
            meta["loadavg_end"],
            meta["note"],
        ),
        "",
    ]
    targets: List[List[str]] = []
    body: List[str] = []
    tp = load(args.results, "throughput")
    if tp:
        plot_throughput(tp, plots)
        throughput_section(tp, body, targets, commands["throughput"])
    wl = load(args.results, "workloads")
    if wl:
        section, rows = report_workloads.section(wl, commands["workloads"], plots, load(args.results, "app_images"),
                                                 commands.get("app_images"))
        body += section
        targets += rows
    st = load(args.results, "startup")
    if st:
        f2 = st["first_200"]
        body += [
            "## Start-up",
            "",
            "`%s`" % commands["startup"],
            "",
            "%d interleaved rounds; seconds, median (min–max). The container runs on CPU 1 with the "
            "image/settings.json security flags, from a private podman store (overlay driver, runc)." % st["rounds"],
            "",
            "| what | seconds |",
            "| --- | --- |",
            "| container runtime's own cost: `podman run --rm --entrypoint /usr/bin/python3 IMAGE -c pass`, "
            "start to exit and removal | %s |" % fmt_range(st["noop"]["container_noop"], 1, 3),
            "| the host's interpreter: `python3 -c pass` | %s |"
            % fmt_range(st["noop"]["host_noop"], 1, 3),
        ]
        for variant, label in (
            ("pyc", "image with bytecode"),
            ("nopyc", "image without bytecode (pyc=false)"),
            ("previous", "previous image (run_all.sh --previous)"),
            ("bare", "bare host venv (pip-compiled bytecode)"),
        ):
            if variant not in f2:
                continue
            body.append(
                "| %s: process start to first 200 | %s |" % (label, fmt_range(f2[variant]["process_to_200"], 1, 3))
            )
            if variant != "bare":
                body.append(
                    "| %s: `podman run` to first 200 | %s |" % (label, fmt_range(f2[variant]["spawn_to_200"], 1, 3))
                )
        before = f2["pyc"]["spawn_to_200"]["median"] - f2["pyc"]["process_to_200"]["median"]
        body.append(
            "| podman's share before the server process starts (pyc image, difference of the medians) | %.3f |" % before
        )
        pyc, nopyc = f2["pyc"]["process_to_200"], f2["nopyc"]["process_to_200"]
        ratio = pyc["median"] / nopyc["median"]
        previous = (
            " Image/previous start-up ratio (medians): **%.2f**."
            % (pyc["median"] / f2["previous"]["process_to_200"]["median"])
            if "previous" in f2
            else ""
        )
        body += [
            "",
            "Process start is the container's `State.StartedAt` (podman inspect); first 200 is the first "
            "`GET /` answered 200 while polling every 5 ms. pyc/no-pyc start-up ratio (medians): **%.2f**.%s"
            % (ratio, previous),
            "",
            "![start-up](bench/plots/startup.png)",
            "",
        ]
        plot_bars(
            plots,
            "startup.png",
            ["container no-op", "host no-op", "pyc image", "no-pyc image"]
            + (["previous image"] if "previous" in f2 else [])
            + ["bare host"],
            [st["noop"]["container_noop"]["median"], st["noop"]["host_noop"]["median"]]
            + [f2[v]["process_to_200"]["median"] for v in ("pyc", "nopyc", "previous", "bare") if v in f2],
            "seconds (median); images: process start to first 200",
        )
        targets.append(
            [
                "first 200 within %g s of process start (pyc image)" % FIRST_200_SECONDS,
                "%.3f s" % pyc["median"],
                verdict(pyc["median"] <= FIRST_200_SECONDS)
                + ("" if pyc["median"] <= FIRST_200_SECONDS else " by %.3f s" % (pyc["median"] - FIRST_200_SECONDS)),
            ]
        )
        measurable = pyc["max"] < nopyc["min"]
        targets.append(
            [
                "pyc image measurably faster than no-pyc",
                "ratio %.2f; ranges %s" % (ratio, "disjoint" if measurable else "overlap"),
                verdict(measurable) if ratio < 1 else "**MISSED**",
            ]
        )
    sz = load(args.results, "size")
    if sz:
        cited = json.loads((BENCH / "cited_sizes.json").read_text())
        body += [
            "## Size",
            "",
            "`%s`" % commands["size"],
            "",
            "Measured from the OCI layout: compressed = the layer blobs' sizes in the manifest (gzip); "
            "uncompressed = the layer tars' sizes once decompressed.",
            "",
        ]
        for name, image in sz.items():
            body += [
                "%s (manifest `%s`):" % (name, image["manifest"][:19]),
                "",
                "| layer | compressed (MB) | uncompressed (MB) |",
                "| --- | --- | --- |",
            ]
            for layer in image["layers"]:
                body.append(
                    "| `%s` `%s` | %.3f | %.3f |"
                    % (layer["label"], layer["digest"][7:19], (layer["compressed"] or 0) / MB, layer["uncompressed"] / MB)
                )
            body += [
                "| **total** | **%.2f** | **%.2f** |"
                % ((image["total_compressed"] or 0) / MB, image["total_uncompressed"] / MB),
                "",
            ]
        body += parts_table(sz)
        total = sz["pyc"]["total_uncompressed"] / MB
        targets.append(
            [
                "image at most %g MB uncompressed" % SIZE_MB,
                "%.1f MB" % total,
                verdict(total <= SIZE_MB)
                + ("" if total <= SIZE_MB else " by %.1f MB (%.0f%%)" % (total - SIZE_MB, (total / SIZE_MB - 1) * 100)),
            ]
        )
        if "previous" in sz:
            targets.append(
                [
                    "smaller than the previous image",
                    "image/previous %.2f (uncompressed)" % (sz["pyc"]["total_uncompressed"] / sz["previous"]["total_uncompressed"]),
                    verdict(sz["pyc"]["total_uncompressed"] < sz["previous"]["total_uncompressed"]),
                ]
            )
        body += [
            "Cited, **not measured** (no container registry is reachable here; secondary sources):",
            "",
            "| image | size | kind | source |",
            "| --- | --- | --- | --- |",
        ]
        body += ["| %s | %s | %s | %s |" % (c["image"], c["size"], c["kind"], c["source"]) for c in cited["images"]]
        body += ["", "![size](bench/plots/size.png)", ""]
        plot_bars(
            plots,
            "size.png",
            [n + " compressed" for n in sz] + [n + " uncompressed" for n in sz],
            [sz[n]["total_compressed"] / MB for n in sz] + [sz[n]["total_uncompressed"] / MB for n in sz],
            "MB",
        )
    bd = load(args.results, "build")
    if bd:
        body += [
            "## Build",
            "",
            "`%s`" % commands["build"],
            "",
            "In a temporary `git clone` of HEAD with a fresh Bazel output base (repository cache: %s), "
            "build root present. Seconds, one run each." % bd["repository_cache"],
            "",
            "| build | seconds |",
            "| --- | --- |",
            "| cold `//:image` | %.1f |" % bd["cold_seconds"],
            "| warm no-op rebuild | %.1f |" % bd["warm_noop_seconds"],
            "| after editing `app/app/main.py` | %.1f |" % bd["edit_seconds"],
            "| `--//python/layers:pyc=false` (for the start-up comparison) | %.1f |" % bd["nopyc_build_seconds"],
            "",
            "Layers whose digest changed after the edit: %s of %d (only the app layer: %s)."
            % (bd["changed_layer_indexes"], bd["layers"], bd["only_app_layer_changed"]),
            "",
        ]
        ok = bd["edit_seconds"] < 10
        targets.append(
            [
                "rebuild after an app edit under 10 s",
                "%.1f s" % bd["edit_seconds"],
                verdict(ok) + ("" if ok else " by %.1f s" % (bd["edit_seconds"] - 10)),
            ]
        )
        targets.append(
            [
                "the edit changes only the app layer",
                str(bd["changed_layer_indexes"]),
                verdict(bd["only_app_layer_changed"]),
            ]
        )
    rb = load(args.results, "remote_build")
    if rb:
        remote_section(rb, body, commands.get("remote_build", "bench/remote_build.py --out bench/results/remote_build.json"))
    mem = load(args.results, "memory")
    if mem:
        body += [
            "## Memory",
            "",
            "`%s`" % commands["memory"],
            "",
            "VmRSS from `/proc/PID/status` (MiB): idle 2 s after the first 200; the largest sample (every 0.25 s) "
            "during a wrk run of %d connections, %g s; and 2 s after that run."
            % (mem["image"]["load_connections"], mem["image"]["load_seconds"]),
            "",
            "| server | process | idle | under load (peak) | after load |",
            "| --- | --- | --- | --- | --- |",
        ]
        labels, values = [], []
        for name, m in mem.items():
            rows = [
                ("master", m["idle_kib"]["master"], m["load_peak_kib"]["master"], m["after_load_kib"]["master"]),
                (
                    "largest worker",
                    max(m["idle_kib"]["workers"].values()),
                    m["load_peak_kib"]["worker"],
                    max(m["after_load_kib"]["workers"].values()),
                ),
            ]
            for proc, idle, peak, after in rows:
                body.append("| %s | %s | %.1f | %.1f | %.1f |" % (name, proc, idle / 1024, peak / 1024, after / 1024))
                labels += ["%s %s idle" % (name, proc), "%s %s load" % (name, proc)]
                values += [idle / 1024, peak / 1024]
        body.append("")
        for name, m in mem.items():
            body.append(
                "- %s: %d requests in the run; %d workers retired and were replaced; the largest worker grew "
                "%.1f MiB from %g s into the load to its end." % (
                    name, m["load_requests"], m["workers_replaced"], m["growth_after_warm_up_kib"] / 1024,
                    WARM_UP_SECONDS)
            )
        body += ["", "![memory](bench/plots/memory.png)", "", "![memory over time](bench/plots/memory_over_time.png)", ""]
        plot_bars(plots, "memory.png", labels, values, "VmRSS, MiB")
        plot_timeline(plots, mem)
    lines += ["## Targets", "", "| target | measured | verdict |", "| --- | --- | --- |"]
    lines += ["| %s |" % " | ".join(row) for row in targets]
    notes = BENCH / "notes.md"
    lines += [""] + ([notes.read_text().strip(), ""] if notes.is_file() else []) + body
    args.out.write_text("\n".join(lines).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
