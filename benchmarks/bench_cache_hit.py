"""Benchmark: what a teacher-output cache hit costs, against running the teacher again.

With the default ``memory=None`` every fit hashes a key (the data, the teacher's parameters or fitted
state, its code; see the user guide, "Caching teacher outputs") before it runs the teacher, and a later
fit with the same key gets the stored outputs instead. For several teachers and sizes of ``X``
(``n`` x ``--features`` float32 rows, 10 classes), three things are timed, interleaved, in the same run:

(p) the teacher pass without the cache, ``fit_logits(..., memory=False)``. This is the baseline.
(h) a cache hit, ``fit_logits(..., memory=None)`` right after the same call stored the outputs: the
    key, and the lookup.
(k) the key alone, which a fit that misses pays too, on top of (p).

(p)/(h) above 1 means a hit is cheaper than running the teacher again, so caching pays; below 1, the
teacher is cheaper to run than its key is to hash. The teachers: two torch MLPs (``--features``-512-
512-10, about 300k parameters, and ``--features``-2048-2048-10, about 4.3M), a scikit-learn
``LogisticRegression`` and a ``HistGradientBoostingClassifier(max_iter=100)`` (1,000 trees), both
fitted on 5,000 rows beforehand.

Usage
-----
Run from the repository root::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_cache_hit.py
    python benchmarks/bench_cache_hit.py --rows 10000 --repeats 2   # quick run

Options: ``--rows`` (one or more sizes, default 10000 40000 160000), ``--features`` (default 64),
``--repeats`` (default 3). Threads are set by the environment. The exit code is always 0: this is a
benchmark, not a test.
"""

import argparse
import statistics
import sys
import time

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from skdistill import _cache, clear_teacher_cache
from skdistill.teachers import as_teacher

N_CLASSES = 10


def mlp(n_features, width):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(n_features, width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, N_CLASSES),
    ).eval()


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10000, 40000, 160000])
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X_fit = rng.normal(size=(5000, args.features)).astype(np.float32)
    y_fit = rng.integers(0, N_CLASSES, len(X_fit))
    teachers = {
        "MLP 512-512": mlp(args.features, 512),
        "MLP 2048-2048": mlp(args.features, 2048),
        "LogisticRegression": LogisticRegression(max_iter=50).fit(X_fit, y_fit),
        "HistGradientBoosting(100)": HistGradientBoostingClassifier(max_iter=100, early_stopping=False).fit(
            X_fit, y_fit
        ),
    }
    n_params = {
        name: sum(p.numel() for p in t.parameters()) for name, t in teachers.items() if hasattr(t, "parameters")
    }
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads); {args.repeats} repeats, medians (min-max)")
    print("MLP parameters: " + ", ".join(f"{name} {count:,}" for name, count in n_params.items()))
    print()
    print(
        f"{'rows':>8} {'MiB of X':>9}  {'teacher':<26}{'key ms':>18}{'hit ms':>18}"
        f"{'teacher pass ms':>22}{'pass/hit':>10}"
    )

    for n_rows in args.rows:
        X = rng.normal(size=(n_rows, args.features)).astype(np.float32)
        y = rng.integers(0, N_CLASSES, n_rows)
        for name, teacher in teachers.items():
            seconds = {"key": [], "hit": [], "pass": []}
            for _ in range(args.repeats):
                clear_teacher_cache()
                seconds["key"].append(timed(_cache._key, "fit_logits", as_teacher(teacher), X, y, None))
                seconds["pass"].append(timed(_cache.fit_logits, as_teacher(teacher), X, y, None, memory=False))
                _cache.fit_logits(as_teacher(teacher), X, y, None, memory=None)  # stores the outputs
                seconds["hit"].append(timed(_cache.fit_logits, as_teacher(teacher), X, y, None, memory=None))
            text = {
                key: f"{1000 * statistics.median(v):.1f} ({1000 * min(v):.0f}-{1000 * max(v):.0f})"
                for key, v in seconds.items()
            }
            ratio = statistics.median(seconds["pass"]) / statistics.median(seconds["hit"])
            print(
                f"{n_rows:>8} {X.nbytes / 2**20:>9.1f}  {name:<26}{text['key']:>18}{text['hit']:>18}"
                f"{text['pass']:>22}{ratio:>10.2f}",
                flush=True,
            )
    print()
    print("pass/hit > 1: a cache hit is cheaper than running the teacher again.")


if __name__ == "__main__":
    main()
    sys.exit(0)
