"""GPU readiness of the losses and the trainer, in one command and one table.

    make gpu-check                                    # = PYTHONPATH=. python3 benchmarks/gpu_check.py
    PYTHONPATH=. python3 benchmarks/gpu_check.py --device cpu --quick   # the same checks on the CPU, seconds

On a CUDA machine (under five minutes) it runs:

1. **precision**: every registered loss (:data:`klviz.losses.REGISTRY`, with its defaults and a
   target where the registry says it takes one) on float32, float16 and bfloat16 logits
   against float64 *of the same rounded logits* on the GPU: the relative error of the value
   and the max-norm relative error of the student and teacher gradients, each against a
   limit (float32 arithmetic inside, the gradient stored in the input's dtype);
2. **fused**: every loss with a fused kernel against its autograd form (``fused=False``), in
   float64 (value and gradients to 1e-10) and float32;
3. **trainer**: a one-epoch teacher and student run with automatic mixed precision, through
   the CLI in subprocesses (``python3 -m klviz.distill teacher|student --dataset digits
   --epochs 1 --amp auto``), both must exit 0 and write their metrics;
4. **bench**: forward+backward time of the fused losses against ``F.kl_div`` (the method of
   ``benchmarks/run.py``: interleaved, medians) for B = 64 and C up to 128,000, float32 and
   bfloat16.

It prints one table (check, what, dtype, measured, limit, ok) and exits 1 if a check fails.
Without a CUDA device it says so and exits 0 (``--device cpu`` runs everything on the CPU
instead). It creates no environment and installs nothing: the system ``python3`` with
numpy, torch and scikit-learn (the digits data ship with scikit-learn) and the working tree
on the import path.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import torch
except ImportError:  # reported by main(): this python has no torch
    torch = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the working tree, even without PYTHONPATH=.
    sys.path.insert(0, str(ROOT))

NO_CUDA = "no CUDA device: nothing run on a GPU"
DTYPES = ("float32", "float16", "bfloat16")
#: value: float32 arithmetic inside; gradient: also rounded once to the input's dtype
VALUE_LIMIT = 1e-4
GRAD_LIMIT = {"float32": 1e-4, "float16": 2e-3, "bfloat16": 1.6e-2}


def _registry():
    from klviz.losses import REGISTRY

    return REGISTRY


def _bench_module():
    spec = importlib.util.spec_from_file_location("klviz_bench_run", Path(__file__).with_name("run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _call(spec, s, t, y, **kw):
    return spec.fn(s, t, y, **kw) if spec.needs_target else spec.fn(s, t, **kw)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a − b| / max |b| (max-norm relative error; 0 when both vanish)."""
    den = float(b.abs().max())
    num = float((a.double() - b).abs().max())
    return num / den if den > 0 else num


def _value_and_grads(spec, s, t, y, **kw):
    s = s.detach().clone().requires_grad_(True)
    t = t.detach().clone().requires_grad_(True)
    v = _call(spec, s, t, y, **kw)
    gs, gt = torch.autograd.grad(v, (s, t), allow_unused=True)
    gt = torch.zeros_like(t) if gt is None else gt
    return v.detach(), gs, gt


def _inputs(seed: int, rows: int, C: int, device):
    """float32 student and teacher logits on the CPU (cast per check) and labels on ``device``."""
    g = torch.Generator().manual_seed(seed)
    s0 = 3 * torch.randn(rows, C, generator=g)
    t0 = 3 * torch.randn(rows, C, generator=g)
    return s0, t0, torch.randint(0, C, (rows,), generator=g).to(device)


def check_precision(device: torch.device, rows: int, C: int) -> list[tuple]:
    s0, t0, y = _inputs(0, rows, C, device)
    out = []
    for spec in _registry().values():
        for dt in DTYPES:
            dtype = getattr(torch, dt)
            s, t = s0.to(device, dtype), t0.to(device, dtype)
            v, gs, gt = _value_and_grads(spec, s, t, y)
            rv, rgs, rgt = _value_and_grads(spec, s.double(), t.double(), y)
            ev = abs(float(v) - float(rv)) / max(abs(float(rv)), 1e-30)
            eg = max(_rel(gs, rgs), _rel(gt, rgt))
            out.append(("precision", f"{spec.name}: value", dt, ev, VALUE_LIMIT))
            out.append(("precision", f"{spec.name}: gradients", dt, eg, GRAD_LIMIT[dt]))
    return out


def check_fused(device: torch.device, rows: int, C: int) -> list[tuple]:
    s0, t0, y = _inputs(1, rows, C, device)
    out = []
    for spec in (s for s in _registry().values() if s.fused):
        for dtype, limit in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
            s, t = s0.to(device, dtype), t0.to(device, dtype)
            a = _value_and_grads(spec, s, t, y)
            b = _value_and_grads(spec, s, t, y, fused=False)
            err = max(_rel(a[0].reshape(1), b[0].double().reshape(1)), _rel(a[1], b[1].double()),
                      _rel(a[2], b[2].double()))
            out.append(("fused", f"{spec.name}: fused vs autograd", str(dtype).replace("torch.", ""), err, limit))
    return out


def check_trainer(device: torch.device, timeout: float) -> list[tuple]:
    """One AMP epoch of a teacher and of a student, through the CLI (subprocesses)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    common = ["--dataset", "digits", "--model", "mlp", "--epochs", "1", "--amp", "auto",
              "--device", device.type, "--quiet"]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "teacher": ["teacher", *common, "--run-dir", f"{tmp}/teacher"],
            "student": ["student", *common, "--run-dir", f"{tmp}/student", "--loss", "gkl",
                        "--teacher", f"{tmp}/teacher/best.pt"],
        }
        for name, argv in runs.items():
            start = time.perf_counter()
            try:
                proc = subprocess.run([sys.executable, "-m", "klviz.distill", *argv], cwd=ROOT, env=env,
                                      capture_output=True, text=True, timeout=timeout)
                ok = proc.returncode == 0 and (Path(tmp) / name / "metrics.json").exists()
                note = "" if ok else (proc.stdout + proc.stderr).strip().splitlines()[-1:]
            except subprocess.TimeoutExpired:
                ok, note = False, [f"timed out after {timeout:g} s"]
            acc = float("nan")
            if ok:
                metrics = json.loads((Path(tmp) / name / "metrics.json").read_text())
                acc = _last_test_accuracy(metrics)
            what = f"{name}: 1 epoch, --amp auto, {time.perf_counter() - start:.1f} s; test accuracy"
            out.append(("trainer", what if ok else f"{what}: {' '.join(note)[:80]}", "amp", acc,
                        None, ok))
    return out


def _last_test_accuracy(metrics) -> float:
    """``last_test_acc`` of a run's metrics.json (written by klviz.distill.train), or NaN."""
    value = metrics.get("last_test_acc") if isinstance(metrics, dict) else None
    return float(value) if isinstance(value, (int, float)) else float("nan")


def check_bench(device: torch.device, cells, reps: int) -> list[tuple]:
    bench = _bench_module()
    names = [bench.BASELINE, "kd_loss"] + [f"{s.fn.__name__}" for s in _registry().values() if s.fused]
    fns = {n: bench.METHODS[n] for n in names}
    out = []
    dtypes = (torch.float32, torch.bfloat16) if device.type == "cuda" else (torch.float32,)
    for dtype in dtypes:
        for rows, C in cells:
            s, t, y = bench.make_inputs(rows, C, dtype, device)
            times = bench.time_cell(fns, s, t, y, device, reps, 2)
            base = statistics.median(times[bench.BASELINE])
            dt = str(dtype).replace("torch.", "")
            for n in names[1:]:
                out.append(("bench", f"{n} / F.kl_div, B={rows} C={C} ({base * 1e3:.2f} ms)", dt,
                            statistics.median(times[n]) / base, None, True))
            del s, t, y
    return out


def print_table(rows: list[tuple]) -> bool:
    head = ("check", "what", "dtype", "measured", "limit", "ok")
    body, all_ok = [], True
    for r in rows:
        check, what, dtype, value, limit = r[:5]
        ok = r[5] if len(r) > 5 else (value == value and value <= limit)  # NaN fails
        all_ok &= bool(ok)
        body.append((check, what, dtype, f"{value:.2e}" if check != "bench" else f"{value:.2f}x",
                     "" if limit is None else f"{limit:.0e}", "yes" if ok else "NO"))
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print(line)
    for b in body:
        print("  ".join(str(c).ljust(w) for c, w in zip(b, widths)))
    print(line)
    return all_ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="cuda (default; without one: say so, exit 0) or cpu")
    ap.add_argument("--quick", action="store_true", help="small sizes, no trainer runs (for the test suite)")
    ap.add_argument("--no-trainer", action="store_true", help="skip the one-epoch CLI runs")
    args = ap.parse_args(argv)
    if torch is None:
        print(f"{NO_CUDA} ({sys.executable} cannot import torch; run it with a python that has torch, "
              "numpy and scikit-learn, e.g. make gpu-check GPU_PYTHON=.venv/bin/python)")
        return 0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(NO_CUDA + f" (torch {torch.__version__}, torch.cuda.is_available() is False)")
        return 0
    device = torch.device(args.device)
    start = time.perf_counter()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"gpu_check on {device} ({name}), torch {torch.__version__}" + (", quick" if args.quick else ""))
    rows: list[tuple] = []
    if args.quick:
        rows += check_precision(device, 4, 50)
        rows += check_fused(device, 4, 50)
        rows += check_bench(device, [(64, 100)], reps=10)
    else:
        rows += check_precision(device, 64, 1000)
        rows += check_fused(device, 64, 1000)
        if not args.no_trainer:
            rows += check_trainer(device, timeout=120)
        rows += check_bench(device, [(64, C) for C in (1000, 32000, 128000)] + [(512, 32000)], reps=20)
    ok = print_table(rows)
    print(f"{'all checks passed' if ok else 'SOME CHECKS FAILED'} in {time.perf_counter() - start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
