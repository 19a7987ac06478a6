"""Forward+backward time and peak memory of the klviz losses against ``F.kl_div``.

One command::

    python benchmarks/run.py            # full grid (hours on a small CPU)
    python benchmarks/run.py --quick    # ~4 minutes on 2 shared cores
    python benchmarks/run.py --cells 2048:32000,8192:4000 --reps 10 --no-compile \
        --out benchmarks/results/large  # chosen (rows, C) cells only

Writes ``benchmarks/results/{bench.csv, summary.md, bench.png}`` (``--out`` changes the
folder). Method (also in ``book/performance.md``):

* baseline: ``F.kl_div(F.log_softmax(s/T,-1), F.log_softmax(t/T,-1), log_target=True,
  reduction="batchmean") * T**2``, log-softmaxes inside the timed region;
* every call is a forward and a backward; the student requires grad, the teacher is
  detached (the distillation setting), ``T = 4``;
* the methods of one grid cell are interleaved (a new random order every round) and the
  median of ``--reps`` (>= 10) warm runs is reported, all in one process (the naive
  pairwise form is timed in rounds of its own after them: its B×C×C buffers would slow
  whichever method ran next); ``--repeat``
  (default 3) independent timing runs per cell are pooled and the spread of their ratios
  is shown as the noise;
* peak memory: on CPU, the largest "Total Allocated" of the torch profiler's memory
  records (``profile_memory=True``) during one forward+backward, i.e. the peak of the
  bytes allocated by torch inside the call (the gradient included), not the RSS; on CUDA,
  ``torch.cuda.max_memory_allocated`` above the memory held before the call;
* ``torch.compile`` (inductor) is timed separately on a sub-grid; its compile time is the
  first call minus the eager median;
* a (method, cell) whose estimated peak exceeds ``--max-gib`` (16 GiB) is skipped and
  listed with the estimate.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from klviz.losses import REGISTRY, LossSpec, pairwise_wmse_bruteforce  # noqa: E402
from klviz.memory import peak_bytes  # noqa: E402

T = 4.0
BASELINE = "kl_div (baseline)"


def baseline(s, t, y=None):
    return F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), log_target=True,
                    reduction="batchmean") * T**2


def gkl_pairwise(s, t, y=None):
    """GKL (book convention, γ=1) with the B×C×C wMSE: the naive form."""
    os_, ot = s / T, t / T
    p = torch.softmax(ot, -1)
    wm = pairwise_wmse_bruteforce(ot, os_, p)
    ce = -(p * torch.log_softmax(os_, -1)).sum(-1)
    return (T * T * (0.25 * wm + ce)).mean()


def registered(spec: LossSpec, fn=None, **options):
    """``fn(s, t, y)`` calling a registered loss (or ``fn``, its compiled form) at ``T`` with
    its defaults; ``y`` (random labels) is passed only to a loss that needs a target (the
    registry says which). The result keeps ``spec`` and ``options`` for :func:`compiled`."""
    if "temperature" in spec.hyper_names():
        options["temperature"] = T
    f = spec.fn if fn is None else fn
    if spec.needs_target:
        def method(s, t, y):
            return f(s, t, y, **options)
    else:
        def method(s, t, y):
            return f(s, t, **options)
    method.spec, method.options = spec, options
    return method


def compiled(method):
    """``torch.compile`` of a method. A registered loss is compiled itself, not its wrapper:
    the wrappers share one code object, whose recompilations would hit dynamo's cache limit."""
    if hasattr(method, "spec"):
        return registered(method.spec, torch.compile(method.spec.fn, dynamic=False), **method.options)
    return torch.compile(method, dynamic=False)


#: every registered loss with its defaults, then the autograd forms of the fused ones
#: (``fused=False``) and the naive pairwise wMSE
METHODS = {BASELINE: baseline}
METHODS.update({spec.fn.__name__: registered(spec) for spec in REGISTRY.values()})
METHODS.update({f"{spec.fn.__name__} (unfused)": registered(spec, fused=False)
                for spec in REGISTRY.values() if spec.fused and spec.name != "ikl"})  # ikl = gkl, γ = 1
METHODS["gkl pairwise B×C×C"] = gkl_pairwise
COMPILED = [BASELINE, "kd_loss", "dkl_loss", "gkl_loss", "js_loss", "gkl_loss (unfused)"]


def estimate_bytes(method: str, rows: int, C: int, elem: int) -> float:
    """Rough peak: a few (R, C) float32 buffers, or (R, C, C) ones for the pairwise form."""
    if method == "gkl pairwise B×C×C":
        return 5.0 * rows * C * C * 4
    return 2 * rows * C * elem + 8.0 * rows * C * 4


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def fwd_bwd(fn, s, t, y):
    loss = fn(s, t, y)
    loss.backward()
    s.grad = None


def peak_memory(fn, s, t, y, device) -> float:
    """Peak bytes allocated during one forward+backward (see the module docstring)."""
    return peak_bytes(lambda: fwd_bwd(fn, s, t, y), device)


#: timed in rounds of their own after the interleaved ones: the B×C×C buffers (12 MiB at
#: C = 100) evict the caches and return their pages to the system, which slowed whichever
#: method ran next, most of all the ones that allocate several small temporaries
APART = {"gkl pairwise B×C×C"}


def time_cell(fns: dict, s, t, y, device, reps: int, warmup: int) -> dict[str, list[float]]:
    names = [n for n in fns if n not in APART]
    times: dict[str, list[float]] = {n: [] for n in fns}
    # short cells are noisy on a shared machine: give them more rounds (<= 60, ~0.3 s of baseline)
    sync(device)
    t0 = time.perf_counter()
    fwd_bwd(fns[BASELINE], s, t, y)
    sync(device)
    reps = max(reps, min(60, int(0.3 / max(time.perf_counter() - t0, 1e-6))))
    # A fresh random order every round: a fixed (even rotating) cyclic order always puts the
    # same method after the same neighbour, and the one after an autograd-heavy loss was
    # measured ~10 % slower (allocator and cache state), a bias that would never average out.
    rng = random.Random(len(names) * 7919 + reps)
    plan = [(r >= warmup, rng.sample(names, len(names))) for r in range(warmup + reps)]
    plan += [(r >= warmup, [n]) for n in fns if n in APART for r in range(warmup + reps)]  # after
    for timed, order in plan:
        for n in order:
            sync(device)
            t0 = time.perf_counter()
            fwd_bwd(fns[n], s, t, y)
            sync(device)
            if timed:
                times[n].append(time.perf_counter() - t0)
    return times


def make_inputs(rows: int, C: int, dtype, device, seed: int = 0):
    """Student logits (requiring grad), detached teacher logits and random labels."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    s = (2 * torch.randn(rows, C, generator=g)).to(device, dtype).requires_grad_(True)
    t = (2 * torch.randn(rows, C, generator=g)).to(device, dtype)
    y = torch.randint(0, C, (rows,), generator=g).to(device)
    return s, t, y


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small grid (~3 minutes on 2 cores)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--reps", type=int, default=None, help="timed runs per method (>= 10)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: least noise on a shared box)")
    ap.add_argument("--max-gib", type=float, default=16.0)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--repeat", type=int, default=3,
                    help="independent timing runs per cell; the tables show the pooled median and "
                         "the range of the per-run ratios (the noise)")
    ap.add_argument("--cells", default=None,
                    help="comma-separated ROWS:C cells to run instead of the grid, e.g. 2048:32000,8192:4000")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    reps = max(10, args.reps or (10 if args.quick else 15))
    warmup = 2 if args.quick else 3

    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    if args.quick:
        grid = [(64, C) for C in (10, 100, 1000, 4000, 32000, 128000)] + [(512, 1000), (512, 32000)]
        compile_grid = [(64, 100), (64, 1000)]
    else:
        grid = [(R, C) for R in (64, 512, 2048, 8192) for C in (10, 100, 1000, 4000, 32000, 128000)]
        compile_grid = [(R, C) for (R, C) in grid if R * C <= 2048 * 32000]
    if args.cells:
        try:
            grid = [tuple(int(v) for v in cell.split(":")) for cell in args.cells.split(",")]
        except ValueError:
            ap.error(f"--cells must look like 2048:32000,8192:4000, got {args.cells!r}")
        compile_grid = [cell for cell in grid if cell in compile_grid]
    quick_pairwise_limit = 1 * 2**30  # pairwise form: 1 GiB in --quick (time, not memory)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows_out: list[dict] = []
    skipped: list[str] = []
    compile_notes: list[str] = []
    t_start = time.perf_counter()

    for device in devices:
        dtypes = [torch.float32] if device.type == "cpu" else [torch.float32, torch.bfloat16]
        for dtype in dtypes:
            elem = torch.finfo(dtype).bits // 8
            for (R, C) in grid:
                fns = {}
                for name, fn in METHODS.items():
                    est = estimate_bytes(name, R, C, elem)
                    if est > args.max_gib * 2**30:
                        skipped.append(f"{device.type} {dtype} R={R} C={C} {name}: estimated peak "
                                       f"{est / 2**30:.1f} GiB > {args.max_gib:g} GiB")
                        continue
                    if args.quick and name == "gkl pairwise B×C×C" and est > quick_pairwise_limit:
                        skipped.append(f"{device.type} {dtype} R={R} C={C} {name}: estimated peak "
                                       f"{est / 2**30:.2f} GiB, over the --quick limit of 1 GiB")
                        continue
                    fns[name] = fn
                if BASELINE not in fns:
                    continue
                s, t, y = make_inputs(R, C, dtype, device)
                runs = [time_cell(fns, s, t, y, device, reps, warmup) for _ in range(max(1, args.repeat))]
                times = {n: [x for run in runs for x in run[n]] for n in fns}
                mems = {n: peak_memory(f, s, t, y, device) for n, f in fns.items()}
                base_ms = statistics.median(times[BASELINE]) * 1e3
                for n in fns:
                    med = statistics.median(times[n]) * 1e3
                    q = statistics.quantiles(times[n], n=4)
                    per_run = [statistics.median(run[n]) / statistics.median(run[BASELINE]) for run in runs]
                    rows_out.append(dict(device=device.type, dtype=str(dtype).replace("torch.", ""), mode="eager",
                                         rows=R, C=C, method=n, median_ms=round(med, 4),
                                         iqr_ms=round((q[2] - q[0]) * 1e3, 4),
                                         time_ratio=round(med / base_ms, 3),
                                         ratio_min=round(min(per_run), 3), ratio_max=round(max(per_run), 3),
                                         peak_mib=round(mems[n] / 2**20, 3),
                                         mem_ratio=round(mems[n] / max(mems[BASELINE], 1.0), 3),
                                         compile_s=""))
                print(f"[{time.perf_counter() - t_start:6.1f}s] {device.type} {dtype} R={R} C={C}: " +
                      ", ".join(f"{n}={statistics.median(times[n]) * 1e3 / base_ms:.2f}x" for n in fns),
                      flush=True)

                if args.no_compile or (R, C) not in compile_grid or dtype != torch.float32:
                    continue
                cfns, ctime = {}, {}
                for n in COMPILED:
                    try:
                        cf = compiled(METHODS[n])
                        t0 = time.perf_counter()
                        fwd_bwd(cf, s, t, y)
                        sync(device)
                        ctime[n] = time.perf_counter() - t0
                        cfns[n] = cf
                    except Exception as exc:  # record why, keep going
                        compile_notes.append(f"{device.type} R={R} C={C} {n}: torch.compile failed: "
                                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                if BASELINE not in cfns:
                    continue
                ctimes = time_cell(cfns, s, t, y, device, reps, warmup)
                cbase = statistics.median(ctimes[BASELINE]) * 1e3
                for n in cfns:
                    med = statistics.median(ctimes[n]) * 1e3
                    q = statistics.quantiles(ctimes[n], n=4)
                    rows_out.append(dict(device=device.type, dtype="float32", mode="compile", rows=R, C=C, method=n,
                                         median_ms=round(med, 4), iqr_ms=round((q[2] - q[0]) * 1e3, 4),
                                         time_ratio=round(med / cbase, 3), ratio_min="", ratio_max="",
                                         peak_mib="", mem_ratio="",
                                         compile_s=round(ctime[n] - med / 1e3, 2)))
                print(f"[{time.perf_counter() - t_start:6.1f}s]   compiled: " +
                      ", ".join(f"{n}={statistics.median(ctimes[n]) * 1e3 / cbase:.2f}x "
                                f"(compile {ctime[n]:.1f}s)" for n in cfns), flush=True)

    with open(out / "bench.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows_out[0]))
        w.writeheader()
        w.writerows(rows_out)
    write_markdown(out / "summary.md", rows_out, skipped, compile_notes, args, reps,
                   time.perf_counter() - t_start)
    plotted = write_plot(out / "bench.png", rows_out)
    print(f"wrote {out / 'bench.csv'}, {out / 'summary.md'}" + (f", {out / 'bench.png'}" if plotted else "") +
          f" in {time.perf_counter() - t_start:.0f}s")
    return 0


def machine_line(args) -> str:
    return (f"{platform.machine()} CPU, {os.cpu_count()} logical cores, torch {torch.__version__}, "
            f"{args.threads} torch thread(s)" + (f", CUDA {torch.cuda.get_device_name()}"
                                                 if torch.cuda.is_available() else ""))


def _ratio_cell(row: dict) -> str:
    if row["mode"] == "eager" and row["ratio_min"] != row["ratio_max"]:
        return f"{row['time_ratio']:.2f} ({row['ratio_min']:.2f}–{row['ratio_max']:.2f})"
    return f"{row['time_ratio']:.2f}"


def write_markdown(path: Path, rows: list[dict], skipped, compile_notes, args, reps, seconds) -> None:
    grid = f"--cells {args.cells}" if args.cells else ("--quick" if args.quick else "full")
    lines = [f"Machine: {machine_line(args)}. Grid: {grid}; "
             f"median of >= {reps} interleaved warm runs per timing run (up to 60 for short cells), "
             f"{args.repeat} timing run(s) per eager cell, pooled; in brackets the lowest and highest ratio "
             f"of the separate runs; T = {T:g}; run took {seconds:.0f} s.", ""]
    methods = [m for m in METHODS if m != BASELINE]
    for (device, dtype, mode) in sorted({(r["device"], r["dtype"], r["mode"]) for r in rows}):
        sel = [r for r in rows if (r["device"], r["dtype"], r["mode"]) == (device, dtype, mode)]
        present = [m for m in methods if any(r["method"] == m for r in sel)]
        cells = sorted({(r["rows"], r["C"]) for r in sel})
        def table(title: str, base_head: str, base_cell, cell) -> None:
            lines.extend([title, "", f"| rows B·N | C | {base_head} | " + " | ".join(present) + " |",
                          "|---:|---:|---:|" + "---:|" * len(present)])
            for (R, C) in cells:
                by = {r["method"]: r for r in sel if (r["rows"], r["C"]) == (R, C)}
                vals = [cell(by[m]) if m in by else "–" for m in present]
                lines.append(f"| {R} | {C} | {base_cell(by[BASELINE])} | " + " | ".join(vals) + " |")
            lines.append("")

        table(f"**Time ratio to `F.kl_div` baseline, fwd+bwd ({device}, {dtype}, {mode})**", "baseline ms",
              lambda b: f"{b['median_ms']:.3f}", _ratio_cell)
        if mode == "compile":
            lines.append("Compile time (s, first call minus a warm call): " + "; ".join(
                f"R={r['rows']} C={r['C']} {r['method']}: {r['compile_s']}" for r in sel))
            lines.append("")
            continue
        table(f"**Peak memory ratio to the baseline ({device}, {dtype}); baseline peak in MiB**", "baseline MiB",
              lambda b: f"{b['peak_mib']:.2f}", lambda r: f"{r['mem_ratio']:.2f}")
    if skipped:
        lines.append("Skipped (estimated peak memory):")
        lines.append("")
        lines += [f"- {s}" for s in skipped]
        lines.append("")
    if compile_notes:
        lines.append("torch.compile problems:")
        lines.append("")
        lines += [f"- {s}" for s in compile_notes]
        lines.append("")
    path.write_text("\n".join(lines))


def write_plot(path: Path, rows: list[dict]) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel = [r for r in rows if r["device"] == "cpu" and r["mode"] == "eager" and r["rows"] == 64]
    if not sel:  # e.g. --cells without B = 64: nothing to draw
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    markers = "os^vDP*X"
    for k, m in enumerate(m for m in METHODS if m != BASELINE):
        pts = sorted((r["C"], r["time_ratio"], r["mem_ratio"]) for r in sel if r["method"] == m)
        if not pts:
            continue
        Cs = [p[0] for p in pts]
        axes[0].plot(Cs, [p[1] for p in pts], marker=markers[k % len(markers)], label=m)
        axes[1].plot(Cs, [p[2] for p in pts], marker=markers[k % len(markers)], label=m)
    for ax, what in zip(axes, ("time", "peak memory")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xlabel("number of classes C")
        ax.set_ylabel(f"{what} / F.kl_div baseline")
        ax.set_title(f"fwd+bwd {what}, B = 64, CPU float32")
    axes[0].axhline(1.25, color="grey", ls="--", lw=0.8)
    axes[1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
