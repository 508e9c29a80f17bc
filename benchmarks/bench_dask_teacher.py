"""Benchmark: a grid search on a Dask LocalCluster with the teacher sent once per worker, against
the teacher sent with every task.

The same ``GridSearchCV(DistilledClassifier(teacher, MLPStudent(...)), {"T": 4 values, "alpha": 2
values}, cv=3)`` (24 tasks and a refit) runs under ``joblib.parallel_backend("dask")`` on a
``LocalCluster`` of ``--workers`` worker processes of one thread each, interleaved, in the same process:

(a) inside ``skdistill.dask.teacher_on_workers(teacher)``: each worker unpickles the teacher once;
(b) as documented before it: every task's pickle carries the teacher.

The teacher is an MLP (``--features``-``--width``-``--width``-3, about 21 MB of float32 parameters
by default) with an attribute that counts, in a file, every unpickling by process. The script prints, per mode:
the bytes distributed pickles for one task's distiller, the unpicklings in this process (where the
LocalCluster's scheduler runs) and in the workers, and the median wall time of the search (for (a),
from entering the block to leaving it); then the ratios (b)/(a). It also checks that both searches
give the same scores (the block changes no result).

Usage
-----
Run from the repository root::

    python benchmarks/bench_dask_teacher.py
    python benchmarks/bench_dask_teacher.py --width 1024 --repeats 1   # quick run

Options: ``--rows`` (default 1500), ``--features`` (default 40), ``--width`` (teacher hidden width,
default 2300), ``--workers`` (default 2), ``--repeats`` (timed runs of each mode, default 3). The exit
code is always 0: this is a benchmark, not a test.
"""

import argparse
import collections
import contextlib
import os
import statistics
import sys
import tempfile
import time
import warnings

import joblib
import numpy as np
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import distributed
from distributed.protocol.pickle import dumps as distributed_dumps
from skdistill import DistilledClassifier, MLPStudent
from skdistill.dask import teacher_on_workers

GRID = {"T": [1.0, 2.0, 4.0, 8.0], "alpha": [0.0, 0.5]}
N_FOLDS = 3


class UnpickleCounter:
    """Appends the id of the process to the file ``path`` each time it is unpickled.

    Set as an attribute of the teacher, it counts the teacher's unpicklings, and only those: copies
    that skdistill makes of the teacher's structure (``copy.deepcopy``, to pickle or hash it) keep it.
    """

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return _unpickled_counter, (self.path,)

    def __deepcopy__(self, memo):
        return self


def _unpickled_counter(path):
    with open(path, "a") as log:
        log.write(f"{os.getpid()}\n")
    return UnpickleCounter(path)


def unpicklings(pid_log, pids):
    """How many times the teacher was unpickled in the processes ``pids``, and in all the others."""
    if not os.path.exists(pid_log):
        return 0, 0
    with open(pid_log) as log:
        counts = collections.Counter(int(line) for line in log)
    os.remove(pid_log)
    inside = sum(counts[pid] for pid in pids)
    return inside, sum(counts.values()) - inside


def run(distiller, X, y, block):
    """Seconds the search takes (sending the teacher to the workers when the block starts included), and the search."""
    start = time.perf_counter()
    with block, joblib.parallel_backend("dask"):
        search = GridSearchCV(distiller, GRID, cv=N_FOLDS).fit(X, y)
    return time.perf_counter() - start, search


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1500)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--width", type=int, default=2300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    X, y = make_classification(
        n_samples=args.rows, n_features=args.features, n_informative=10, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    torch.manual_seed(0)
    teacher = torch.nn.Sequential(
        torch.nn.Linear(args.features, args.width),
        torch.nn.ReLU(),
        torch.nn.Linear(args.width, args.width),
        torch.nn.ReLU(),
        torch.nn.Linear(args.width, 3),
    )
    pid_log = os.path.join(tempfile.mkdtemp(), "pids")
    teacher.unpickle_counter = UnpickleCounter(pid_log)
    teacher_mb = sum(p.numel() * p.element_size() for p in teacher.parameters()) / 2**20
    distiller = DistilledClassifier(teacher, MLPStudent(hidden_layer_sizes=(16,), max_iter=5, random_state=0))

    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, distributed {distributed.__version__}")
    print(
        f"teacher MLP {args.features}-{args.width}-{args.width}-3 ({teacher_mb:.1f} MB), {args.rows} rows, "
        f"{len(GRID['T']) * len(GRID['alpha']) * N_FOLDS} tasks, LocalCluster of {args.workers} worker "
        f"processes x 1 thread, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    with (
        distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        here = [os.getpid()]
        task_bytes = {"whole": len(distributed_dumps(clone(distiller)))}
        with teacher_on_workers(teacher):
            task_bytes["once"] = len(distributed_dumps(clone(distiller)))
        times = {"once": [], "whole": []}
        counts = {}
        scores = {}
        run(distiller, X, y, teacher_on_workers(teacher))  # warm-up: imports and caches in the workers
        run(distiller, X, y, contextlib.nullcontext())
        unpicklings(pid_log, here)
        for repeat in range(args.repeats):
            for mode, block in (("once", teacher_on_workers(teacher)), ("whole", contextlib.nullcontext())):
                seconds, search = run(distiller, X, y, block)
                times[mode].append(seconds)
                counts[mode] = unpicklings(pid_log, here)
                scores[mode] = search.cv_results_["mean_test_score"]
                print(f"  repeat {repeat + 1} {mode:>5}: {seconds:6.2f} s, unpicklings (here, workers) {counts[mode]}")

    print()
    print(f"{'mode':<40}{'bytes per task':>16}{'unpickled here':>16}{'in workers':>12}{'median s':>10}")
    labels = {"once": "(a) teacher_on_workers", "whole": "(b) teacher with every task"}
    for mode in ("once", "whole"):
        print(
            f"{labels[mode]:<40}{task_bytes[mode]:>16,}{counts[mode][0]:>16}{counts[mode][1]:>12}"
            f"{statistics.median(times[mode]):>10.2f}"
        )
    ratios = [whole / once for whole, once in zip(times["whole"], times["once"])]
    print(
        f"ratio (b)/(a): bytes per task {task_bytes['whole'] / task_bytes['once']:.0f}x, wall time "
        f"{statistics.median(times['whole']) / statistics.median(times['once']):.2f}x "
        f"(per repeat {min(ratios):.2f}x to {max(ratios):.2f}x)"
    )
    same = np.array_equal(scores["once"], scores["whole"])
    print(f"same scores with and without the block: {same}")


if __name__ == "__main__":
    main()
