"""Benchmark: what float64 inference costs neural students, against float32 inference of the same module.

Neural students predict in float64 (float64 copies of the trained float32 parameters), so that a
row's prediction does not depend on the other rows of its batch (float32 matrix products are
blocked by batch size differently on each CPU). This prints, for a fitted ``MLPStudent``, the
median time of ``predict_proba`` (float64, what users get) and of the same module's forward pass in
float32 and in float64 through the same batching code without input validation, for one row and
for many rows, interleaved in one run, and the ratio float64 / float32 of the bare forward passes.

Usage
-----
Run from the repository root::

    python benchmarks/bench_predict_float64.py
    python benchmarks/bench_predict_float64.py --hidden 256 256 --rows 100000 --threads 1

The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from skdistill import MLPStudent
from skdistill._base import softmax_in_place
from skdistill._torch_utils import batched_forward


def forward_proba(student, X, *, float64):
    """The forward pass and softmax without input validation: float32 (the module's own dtype, the
    previous behaviour) or float64 (today's), through the same batching code."""
    logits = batched_forward(
        student.module_, X, batch_size=4096, device=torch.device("cpu"), dtype=torch.float32, float64=float64
    )
    return softmax_in_place(logits)


def median_seconds(function, X, repeats, inner):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            function(X)
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64])
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.RandomState(0)
    X = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    y = rng.randint(0, 10, size=args.rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = MLPStudent(hidden_layer_sizes=tuple(args.hidden), max_iter=1, random_state=0).fit(X[:2000], y[:2000])

    print(f"MLPStudent{tuple(args.hidden)}, {args.features} features, torch threads {torch.get_num_threads()}")
    print(f"{'batch':>8} {'float32 s':>12} {'float64 s':>12} {'float64/float32':>16} {'predict_proba s':>16}")
    for rows, inner in ((1, 200), (args.rows, 1)):
        part = X[:rows]
        forward_proba(student, part, float64=False), student.predict_proba(part)  # warm-up
        runs = []
        for _ in range(args.repeats):  # interleaved: the machine's noise hits all alike
            runs.append(
                (
                    median_seconds(lambda rows_: forward_proba(student, rows_, float64=False), part, 1, inner),
                    median_seconds(lambda rows_: forward_proba(student, rows_, float64=True), part, 1, inner),
                    median_seconds(student.predict_proba, part, 1, inner),
                )
            )
        f32, f64, full = (statistics.median(run[i] for run in runs) for i in range(3))
        ratios = sorted(run[1] / run[0] for run in runs)
        print(
            f"{rows:>8} {f32:>12.6f} {f64:>12.6f} {f64 / f32:>7.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
            f" {full:>16.6f}"
        )

if __name__ == "__main__":
    main()
