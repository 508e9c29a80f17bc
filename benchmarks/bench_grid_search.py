"""Benchmark: a grid search over T x alpha with the teacher-output cache, against the same search without it.

The same ``GridSearchCV(DistilledClassifier(teacher, student), {"T": 4 values, "alpha": 4 values},
cv=5)`` (80 fits and a refit) runs twice, interleaved, in the same process:

(a) with caching (``memory=None``, the default; the in-process cache is emptied before each run, so
    every run starts cold and pays for its own teacher passes);
(b) with caching disabled (``memory=False``): the teacher runs in every fit.

The teacher is an MLP (``--features``-``--width``-``--width``-10, about 4.3M parameters by default)
whose forward pass dominates a fit; the student is a small ``MLPStudent`` trained for a few epochs.
A teacher that counts the rows it scores reports the total per run: with the cache it is
(folds x training rows per fold + refit rows) = 5 x 0.8 n + n = 5 n; without, 16 times the folds' part
plus the refit, 65 n. The ratio (b)/(a) of the median wall times is the speed-up; the script also
checks that both searches chose the same parameters with the same scores (caching changes no
result).

Usage
-----
Run from the repository root::

    python benchmarks/bench_grid_search.py
    python benchmarks/bench_grid_search.py --rows 1000 --width 512 --repeats 1   # quick run

Options: ``--rows`` (default 5000), ``--features`` (default 64), ``--width`` (teacher hidden width,
default 2048), ``--repeats`` (timed runs of each mode, default 3). The exit code is always 0: this is
a benchmark, not a test.
"""

import argparse
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skdistill import DistilledClassifier, MLPStudent, clear_teacher_cache, teacher_cache_info

GRID = {"T": [1.0, 2.0, 4.0, 8.0], "alpha": [0.0, 0.1, 0.5, 0.9]}
N_FOLDS = 5
N_CLASSES = 10

class RowCounter:
    """Counts the rows the teacher scores. An object, not a global number: the cache key records the
    numbers a teacher's code reads (a global int that changed would make every lookup miss), but of
    other objects only their type."""

    rows = 0


counter = RowCounter()


class CountingMLP(torch.nn.Module):
    """An MLP teacher that adds the number of rows it scores to ``counter.rows``."""

    def __init__(self, n_features, width):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_features, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, width),
            torch.nn.ReLU(),
            torch.nn.Linear(width, N_CLASSES),
        )

    def forward(self, x):
        counter.rows += x.shape[0]
        return self.layers(x)


def run_search(teacher, X, y, memory):
    """One grid search; returns (seconds, rows the teacher scored, the fitted search)."""
    counter.rows = 0
    clear_teacher_cache()
    student = MLPStudent(hidden_layer_sizes=(32,), max_iter=5, batch_size=256, random_state=0)
    search = GridSearchCV(DistilledClassifier(teacher, student, memory=memory), GRID, cv=N_FOLDS)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    return time.perf_counter() - start, counter.rows, search


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    X, y = make_classification(
        n_samples=args.rows,
        n_features=args.features,
        n_informative=min(args.features, 16),
        n_classes=N_CLASSES,
        random_state=0,
    )
    X = X.astype(np.float32)
    torch.manual_seed(0)
    teacher = CountingMLP(args.features, args.width).eval()
    n_params = sum(p.numel() for p in teacher.parameters())
    print(
        f"python {sys.version.split()[0]}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"scikit-learn {sklearn.__version__}"
    )
    print(
        f"{args.rows} rows x {args.features} features, {N_CLASSES} classes; teacher MLP with {n_params:,} "
        f"parameters; grid {len(GRID['T'])} T x {len(GRID['alpha'])} alpha, cv={N_FOLDS} "
        f"({len(GRID['T']) * len(GRID['alpha']) * N_FOLDS} fits + refit); {args.repeats} repeats, interleaved"
    )

    run_search(teacher, X[:200], y[:200], None)  # warm-up, untimed: first-call costs of torch and sklearn
    times = {"cached": [], "uncached": []}
    rows = {}
    searches = {}
    for _ in range(args.repeats):
        for mode, memory in (("cached", None), ("uncached", False)):
            seconds, rows[mode], searches[mode] = run_search(teacher, X, y, memory)
            times[mode].append(seconds)
            if mode == "cached":
                info = teacher_cache_info()
                hits_misses = (info.hits, info.misses)

    print()
    print(f"{'mode':<10} {'teacher rows scored':>20} {'rows / n':>9} {'median s':>9}   runs")
    for mode in ("cached", "uncached"):
        runs = ", ".join(f"{t:.1f}" for t in times[mode])
        median = statistics.median(times[mode])
        print(f"{mode:<10} {rows[mode]:>20,} {rows[mode] / args.rows:>9.1f} {median:>9.2f}   {runs}")
    print(f"cache hits / misses in the cached run: {hits_misses[0]} / {hits_misses[1]}")
    ratio = statistics.median(times["uncached"]) / statistics.median(times["cached"])
    print(f"\n(b)/(a) uncached / cached wall time: {ratio:.2f}x")
    print(f"teacher rows scored, (b)/(a): {rows['uncached'] / rows['cached']:.1f}x")

    same_choice = searches["cached"].best_params_ == searches["uncached"].best_params_
    same_scores = np.array_equal(
        searches["cached"].cv_results_["mean_test_score"], searches["uncached"].cv_results_["mean_test_score"]
    )
    print(f"same best parameters: {same_choice}; identical mean test scores: {same_scores}")


if __name__ == "__main__":
    main()
