"""Benchmark: active transfer sets (``augment="active"``) against MUNGE at the same number of teacher queries.

For each data set shipped with scikit-learn (breast cancer, wine, digits; standardised), each of
``--seeds`` stratified half/half splits, a ``RandomForestClassifier(n_estimators=200)`` teacher is fitted
on the training half. Students are distilled from it with ``T=1, alpha=0`` (pure imitation) and
``augment_size`` = ``--size`` times the training rows of synthetic rows, that is the same number of
teacher queries for every sampler:

- ``munge``: ``augment="munge"``, synthetic rows drawn once;
- ``active``: ``ActiveSampler()`` (4 rounds, pool 10, ``selection="proportional"``);
- ``active-top``: ``ActiveSampler(selection="top")``;
- ``none``: no synthetic rows (the training rows only), as a reference.

Students: ``DecisionTreeClassifier(max_depth=3)`` and ``(max_depth=6)``, and ``LogisticRegression``.
The figure reported is held-out fidelity (agreement of the student's and the teacher's predicted
classes on the other half), its mean over the splits, and for the active samplers the per-split
difference to ``munge``: mean, standard deviation, and in how many splits it was higher / lower. The
time column is the median over splits of the ratio of the active fit's wall time to the MUNGE fit's,
both measured in the same split (the active sampler fits the student ``n_rounds + 1 = 5`` times).
Every fit runs with ``memory=False``: with the cache, each fit hashes the 200-tree teacher for its
keys, which costs more than these students' fits and would hide what the rounds cost.

Usage
-----
Run from the repository root::

    python benchmarks/bench_active_transfer.py               # 10 splits, size 2
    python benchmarks/bench_active_transfer.py --seeds 3 --size 1 --data wine

Options: ``--seeds`` (splits, default 10), ``--size`` (``augment_size``, a multiple of the training
rows, default 2.0), ``--data`` (some of ``breast_cancer wine digits``, default all), ``--students``
(some of ``tree3 tree6 logistic``, default all). The exit code is always 0: this is a benchmark, not a
test.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier
from skdistill.augment import ActiveSampler

DATA = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}
STUDENTS = {
    "tree3": DecisionTreeClassifier(max_depth=3, random_state=0),
    "tree6": DecisionTreeClassifier(max_depth=6, random_state=0),
    "logistic": LogisticRegression(max_iter=500),
}
SAMPLERS = {
    "none": None,
    "munge": "munge",
    "active": ActiveSampler(),
    "active-top": ActiveSampler(selection="top"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--size", type=float, default=2.0)
    parser.add_argument("--data", nargs="+", default=list(DATA), choices=list(DATA))
    parser.add_argument("--students", nargs="+", default=list(STUDENTS), choices=list(STUDENTS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print(f"augment_size={args.size} x training rows, {args.seeds} splits, teacher RandomForest(200), T=1, alpha=0")
    for data in args.data:
        X, y = DATA[data](return_X_y=True)
        X = StandardScaler().fit_transform(X)
        for student_name in args.students:
            fidelity = {name: [] for name in SAMPLERS}
            seconds = {name: [] for name in SAMPLERS}
            for seed in range(args.seeds):
                X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
                teacher = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1).fit(X_train, y_train)
                for name, augment in SAMPLERS.items():
                    model = DistilledClassifier(
                        teacher, STUDENTS[student_name], T=1.0, alpha=0.0, augment=augment,
                        augment_size=args.size, random_state=seed, memory=False,
                    )
                    start = time.perf_counter()
                    model.fit(X_train, y_train)
                    seconds[name].append(time.perf_counter() - start)
                    fidelity[name].append(model.fidelity(X_test))
            means = "  ".join(f"{name} {np.mean(values):.3f}" for name, values in fidelity.items())
            print(f"\n{data:14s} {student_name:9s} fidelity: {means}")
            munge = np.array(fidelity["munge"])
            for name in ("active", "active-top"):
                difference = np.array(fidelity[name]) - munge
                time_ratio = np.median(np.array(seconds[name]) / np.array(seconds["munge"]))
                print(
                    f"{'':25s}{name:10s} - munge: {difference.mean():+.3f} +- {difference.std():.3f} "
                    f"(higher in {(difference > 0).sum()}, lower in {(difference < 0).sum()} of {len(difference)}); "
                    f"fit time {time_ratio:.1f}x munge's"
                )


if __name__ == "__main__":
    main()
