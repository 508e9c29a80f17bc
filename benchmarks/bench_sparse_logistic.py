"""Benchmark: a LogisticRegression student on sparse rows (TF-IDF-like), against a plain fit.

Sparse rows of ``--rows`` x ``--features`` with ``--per-row`` non-zeros each (non-negative, L2-normalised
as TF-IDF rows are), ``--classes`` classes from a linear score. The teacher is a fitted
``LogisticRegression(C=10)``, passed fitted. Timed in the same run, interleaved, ``--repeats`` times
after one untimed warm-up:

(h) ``LogisticRegression().fit(X, y)`` on the hard labels: the baseline.
(d) ``DistilledClassifier(teacher, LogisticRegression(), T=4, alpha=0.1).fit(X, y)``: route
    ``"logistic"``, the teacher's pass and the cache key included (the cache is emptied before each).
(w) the same with ``route="sample_weight"``: one expanded row per (row, class), the only route that took
    sparse rows before.

Printed: the median seconds of each, the ratios of the medians to (h) and the range of each repeat's
own ratio, and the training accuracy of each fit (a check that all trained, not a quality claim).

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_sparse_logistic.py [--rows 20000] [--repeats 5]``
"""

import argparse
import time

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from skdistill import DistilledClassifier, clear_teacher_cache


def sparse_rows(n_rows, n_features, per_row, n_classes, seed):
    rng = np.random.default_rng(seed)
    indices = np.sort(np.stack([rng.choice(n_features, per_row, replace=False) for _ in range(n_rows)]), axis=1)
    values = rng.random((n_rows, per_row))
    values /= np.linalg.norm(values, axis=1, keepdims=True)
    X = sparse.csr_matrix(
        (values.ravel(), indices.ravel(), np.arange(0, n_rows * per_row + 1, per_row)), shape=(n_rows, n_features)
    )
    score = X @ rng.normal(scale=20.0, size=(n_features, n_classes)) + rng.gumbel(size=(n_rows, n_classes))
    return X, np.argmax(score, axis=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=20_000)
    parser.add_argument("--per-row", type=int, default=50)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X, y = sparse_rows(args.rows, args.features, args.per_row, args.classes, args.seed)
    teacher = LogisticRegression(C=10, max_iter=1000).fit(X, y)
    fits = {
        "h": lambda rows, labels: LogisticRegression().fit(rows, labels),
        "d": lambda rows, labels: DistilledClassifier(teacher, LogisticRegression(), T=4.0, alpha=0.1).fit(rows, labels),
        "w": lambda rows, labels: DistilledClassifier(
            teacher, LogisticRegression(), T=4.0, alpha=0.1, route="sample_weight"
        ).fit(rows, labels),
    }
    print(
        f"{args.rows} x {args.features} CSR, {args.per_row} non-zeros a row ({X.nnz} in all), {args.classes} classes; "
        f"teacher LogisticRegression(C=10), training accuracy {teacher.score(X, y):.3f}"
    )
    for fit in fits.values():  # warm-up
        clear_teacher_cache()
        fit(X[:500], y[:500])
    seconds = {name: [] for name in fits}
    accuracy = {}
    for _ in range(args.repeats):
        for name, fit in fits.items():
            clear_teacher_cache()
            start = time.perf_counter()
            model = fit(X, y)
            seconds[name].append(time.perf_counter() - start)
            accuracy[name] = model.score(X, y)
    baseline = np.array(seconds["h"])
    for name in fits:
        times = np.array(seconds[name])
        ratios = times / baseline
        print(
            f"({name}) median {np.median(times):.3f} s  ratio to (h) {np.median(times) / np.median(baseline):.2f} "
            f"(each repeat {ratios.min():.2f} to {ratios.max():.2f})  training accuracy {accuracy[name]:.3f}"
        )


if __name__ == "__main__":
    main()
