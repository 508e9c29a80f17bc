"""Benchmark: peak extra memory of distilling, predicting and teacher scoring, relative to the size of X.

The data are ``--rows`` x ``--features`` float32 rows (1,000,000 x 50 = 200 MB by default), standard
normal, labelled by the argmax of their first 10 columns; the teacher is a randomly initialised torch
MLP ``features-width-width-10`` in eval mode. These measurements are taken:

(a) ``DistilledClassifier(teacher, MLPStudent(hidden_layer_sizes=(32,), max_iter=1, batch_size=1024),
    memory=False).fit(X, y)``: one teacher pass, soft targets, one epoch of student training.
(b) ``predict_proba(X)`` of such a fitted model. Its result, 1M x 10 float64 (80 MB), is unavoidable
    and reported in its own column. The model is the one fitted in the warm-up (on a slice): what
    prediction costs does not depend on how many rows the student was trained on.
(c) ``teacher_proba(X)`` of the fitted model (``memory=False``): the teacher's probabilities.
(t) ``TorchTeacher(teacher).fit_logits(X, y)``: the teacher pass exactly as ``fit`` runs it.
(d) ``DistilledClassifier(teacher, LogisticRegression(max_iter=5), memory=False).fit(X, y)``: a
    classical student (route "logistic"), teacher pass included.
(h) ``LogisticRegression(max_iter=5).fit(X, y)`` alone, on hard labels: what scikit-learn itself
    costs, as a reference for (d) (scikit-learn 1.9's lbfgs keeps float32 X as it is).
(m) as (a) with the default ``memory=None``: the in-process teacher-output cache keeps the logits.
(s) ``SklearnTeacher(forest).fit_logits(X, y)``: a scikit-learn teacher's scoring pass, in batches of
    its default ``batch_size``. The teacher, fitted on the first 20,000 rows before the baseline, is a
    ``HistGradientBoostingClassifier(max_iter=20)``: it scores a float64 copy of its input, so on all
    rows at once it would copy X (2 x X). Its result is the n x 10 float64 logits.
(u) as (s) with ``batch_size=None``: all rows in one ``predict_proba`` call, for reference.

The bounds (issues 4 and 12): (a) peak under 1 x X; (d) peak at most 1.5 x X; (t) and (s) the peak
beyond their output (the logits) under 0.5 x X. (h) and (u) are references, without a bound.

How peak memory is measured
---------------------------
Each measurement runs in a fresh Python process (this script, called with a hidden ``--measure``
option), so that no measurement inherits another's heap. The process builds X (row chunks written
into one preallocated float32 array, so building X does not itself spike memory), y and the teacher,
then runs a warm-up of the same call on the first ``--warm-up-rows`` rows, so that imports, lazy
initialisation and first-call allocations of torch and scikit-learn are not counted. It then
collects garbage, returns freed heap pages to the system (glibc ``malloc_trim``) and reads its
resident set size (``VmRSS``): the baseline. The kernel's record of the peak resident set size
(``VmHWM``, what ``getrusage(RUSAGE_SELF).ru_maxrss`` reports) is reset by writing ``5`` to
``/proc/self/clear_refs`` (Linux >= 4.0); after the call ``VmHWM - baseline`` is the peak extra
memory, exact to the page, with no sampling gaps. Where that reset is not available, a background
thread sampling ``psutil.Process().memory_info().rss`` every 5 ms is used instead (it can miss peaks
shorter than 5 ms); the output says which method ran. ``kept`` is the resident memory still added
after the call, while its result (and, for (m), the cache) is alive; it includes freed heap memory
that the allocator has not returned to the system, which the process does keep. (Before
``batched_forward`` filled one preallocated array, heap fragmentation made the teacher-scoring
peaks 4x larger and vary by +-15% between runs.)

Ratios are to ``X.nbytes``; MB are 2**20 bytes.

Usage
-----
Run from the repository root::

    python benchmarks/bench_memory.py
    python benchmarks/bench_memory.py --rows 200000 --only a,b,c   # quick run

Options: ``--rows`` (default 1000000), ``--features`` (default 50), ``--teacher-width`` (hidden width
of the teacher, default 256), ``--warm-up-rows`` (default 4096), ``--only`` (comma-separated
measurement keys, default all), ``--threads`` (``torch.set_num_threads``; default: torch's own choice,
which is what users get). The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import contextlib
import ctypes
import ctypes.util
import gc
import json
import platform
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import psutil
import sklearn
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skdistill import DistilledClassifier, MLPStudent, SklearnTeacher, TorchTeacher

N_CLASSES = 10
MB = 2**20
SKLEARN_TEACHER_ROWS = 20_000  # rows the scikit-learn teacher of (s) and (u) is fitted on, before the baseline

# key -> (what is bounded, bound as a multiple of X.nbytes): "peak" or "peak - result".
BOUNDS = {"a": ("peak", 1.0), "d": ("peak", 1.5), "t": ("peak - result", 0.5), "s": ("peak - result", 0.5)}

MEASUREMENTS = {
    "a": "fit, MLPStudent (32,), 1 epoch, memory=False",
    "b": "predict_proba(X) of a fitted model",
    "c": "teacher_proba(X), memory=False",
    "t": "TorchTeacher.fit_logits(X, y) alone",
    "d": "fit, LogisticRegression(max_iter=5), memory=False",
    "h": "LogisticRegression(max_iter=5).fit(X, y), no teacher",
    "m": "fit as (a), memory=None (cache keeps the logits)",
    "s": "SklearnTeacher(HGB).fit_logits(X, y), batched",
    "u": "as (s), batch_size=None (all rows at once)",
}


def make_data(n_rows, n_features, seed=0, chunk_rows=65536):
    """X (float32, standard normal) and y (argmax of the first 10 columns), built chunk by chunk in place."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_rows, n_features), dtype=np.float32)
    y = np.empty(n_rows, dtype=np.int64)
    for start in range(0, n_rows, chunk_rows):
        chunk = X[start : start + chunk_rows]
        rng.standard_normal(out=chunk, dtype=np.float32)
        y[start : start + chunk_rows] = chunk[:, : min(N_CLASSES, n_features)].argmax(axis=1)
    return X, y


def make_teacher(n_features, width, seed=1):
    """A ReLU MLP ``n_features-width-width-10`` initialised from a local generator, in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    widths = [n_features, width, width, N_CLASSES]
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        linear = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            bound = 1.0 / n_in**0.5
            linear.weight.uniform_(-bound, bound, generator=generator)
            linear.bias.uniform_(-bound, bound, generator=generator)
        layers += [linear, torch.nn.ReLU()]
    module = torch.nn.Sequential(*layers[:-1]).eval()
    module.requires_grad_(False)
    return module


def mlp_distiller(teacher, memory=False):
    student = MLPStudent(hidden_layer_sizes=(32,), max_iter=1, batch_size=1024, random_state=0)
    return DistilledClassifier(teacher, student, memory=memory)


def make_sklearn_teacher(X, y):
    """The fitted scikit-learn teacher of (s) and (u)."""
    rows = slice(0, SKLEARN_TEACHER_ROWS)
    return HistGradientBoostingClassifier(max_iter=20, early_stopping=False, random_state=0).fit(X[rows], y[rows])


def the_call(key, teacher, X, y, fitted, sklearn_teacher=None):
    """The call measured under ``key``; ``fitted`` is a model fitted (in the warm-up) for (b) and (c)."""
    if key == "a":
        return mlp_distiller(teacher).fit(X, y)
    if key == "b":
        return fitted.predict_proba(X)
    if key == "c":
        return fitted.teacher_proba(X)
    if key == "t":
        return TorchTeacher(teacher).fit_logits(X, y)
    if key == "d":
        return DistilledClassifier(teacher, LogisticRegression(max_iter=5), memory=False).fit(X, y)
    if key == "h":
        return LogisticRegression(max_iter=5).fit(X, y)
    if key == "m":
        return mlp_distiller(teacher, memory=None).fit(X, y)
    if key == "s":
        return SklearnTeacher(sklearn_teacher).fit_logits(X, y)
    if key == "u":
        return SklearnTeacher(sklearn_teacher, batch_size=None).fit_logits(X, y)
    raise ValueError(f"unknown measurement {key!r}")


def result_nbytes(result):
    return result.nbytes if isinstance(result, np.ndarray) else 0


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def _reset_peak():
    """Reset the kernel's peak-RSS record (VmHWM); False where the system does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return _status_kb("VmHWM") <= _status_kb("VmRSS") + 1024
    except OSError:
        return False


def _trim_heap():
    """Give freed heap pages back to the system (glibc), so a baseline does not hide reusable memory."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


class RssSampler:
    """Samples the process's RSS every ``interval`` seconds in a background thread; keeps the maximum."""

    def __init__(self, interval=0.005):
        self.interval = interval
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def measure(key, args):
    """Run measurement ``key`` in this process; return a dict of byte counts and seconds."""
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    X, y = make_data(args.rows, args.features)
    teacher = make_teacher(args.features, args.teacher_width)
    warm = min(args.warm_up_rows, args.rows)
    sklearn_teacher = make_sklearn_teacher(X, y) if key in ("s", "u") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = mlp_distiller(teacher).fit(X[:warm], y[:warm])
        the_call(key, teacher, X[:warm], y[:warm], fitted, sklearn_teacher)  # warm-up: first-call costs not measured
        gc.collect()
        _trim_heap()
        baseline = psutil.Process().memory_info().rss
        exact = sys.platform.startswith("linux") and _reset_peak()
        sampler = None if exact else RssSampler()
        with sampler or contextlib.nullcontext():
            start = time.perf_counter()
            result = the_call(key, teacher, X, y, fitted, sklearn_teacher)
            seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM") * 1024 if exact else sampler.peak
    kept = psutil.Process().memory_info().rss - baseline
    return {
        "peak": peak - baseline,
        "kept": kept,
        "result": result_nbytes(result),
        "seconds": seconds,
        "X": X.nbytes,
        "method": "VmHWM reset by clear_refs" if exact else "psutil RSS sampler, 5 ms",
        "baseline": baseline,
    }


def run_in_subprocess(key, args):
    command = [
        sys.executable,
        __file__,
        "--measure",
        key,
        "--rows",
        str(args.rows),
        "--features",
        str(args.features),
        "--teacher-width",
        str(args.teacher_width),
        "--warm-up-rows",
        str(args.warm_up_rows),
    ]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "failed"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of X (default 1000000)")
    parser.add_argument("--features", type=int, default=50, help="features (default 50)")
    parser.add_argument("--teacher-width", type=int, default=256, help="teacher's hidden width (default 256)")
    parser.add_argument("--warm-up-rows", type=int, default=4096, help="rows of the warm-up call (default 4096)")
    parser.add_argument("--only", default=",".join(MEASUREMENTS), help="measurement keys, comma-separated")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own, what users get)"
    )
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args)))
        return 0
    keys = [key.strip() for key in args.only.split(",") if key.strip() in MEASUREMENTS]
    x_bytes = args.rows * args.features * 4
    print("Peak extra memory of distillation, relative to the size of X")
    print(
        f"  X: {args.rows} x {args.features} float32 = {x_bytes / MB:.1f} MB; teacher MLP "
        f"{args.features}-{args.teacher_width}-{args.teacher_width}-{N_CLASSES} (random init, eval mode)"
    )
    print(
        f"  Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), psutil {psutil.__version__}"
    )
    print(
        f"  each measurement in a fresh process, after a warm-up on {min(args.warm_up_rows, args.rows)} rows; "
        "peak and kept are RSS increases over the baseline"
    )
    print()

    results = {}
    for key in keys:
        results[key] = run_in_subprocess(key, args)

    header = f"{'':4}{'measurement':<52}{'peak MB':>9}{'peak/X':>8}{'result MB':>11}{'(peak-result)/X':>17}"
    print(header + f"{'kept MB':>9}{'s':>7}")
    methods = set()
    for key in keys:
        row = results[key]
        label = MEASUREMENTS[key]
        if "error" in row:
            print(f"({key}) {label:<52}failed: {row['error']}")
            continue
        methods.add(row["method"])
        print(
            f"({key}) {label:<52}{row['peak'] / MB:>9.1f}{row['peak'] / x_bytes:>8.2f}{row['result'] / MB:>11.1f}"
            f"{(row['peak'] - row['result']) / x_bytes:>17.2f}{row['kept'] / MB:>9.1f}{row['seconds']:>7.1f}"
        )
    print()
    print(f"peak measured by: {', '.join(sorted(methods)) or 'n/a'}")
    print()
    print("Against the bounds (multiples of X):")
    for key, (what, bound) in BOUNDS.items():
        row = results.get(key)
        if row is None or "peak" not in row:
            continue
        measured = (row["peak"] - (row["result"] if what == "peak - result" else 0)) / x_bytes
        verdict = "meets" if measured <= bound else "MISSES"
        print(f"({key}) {what:<14} {measured:5.2f} x X   bound {bound:g} x X   {verdict} it")
    for key, reference in (("h", "d"), ("u", "s")):
        if key in results and "peak" in results[key]:
            print(f"({key}) reference for ({reference}): peak {results[key]['peak'] / x_bytes:.2f} x X")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
