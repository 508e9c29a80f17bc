"""Benchmark: which regression route a regressor student should take by default.

A regressor student learns the soft targets ``q = alpha * onehot(y) + (1 - alpha) * softmax(t / T)``
either as they are (``route="regression_proba"``, ``predict_proba`` clips and renormalises) or as
``log q`` centred per row (``route="regression_logits"``, ``predict_proba`` is a softmax). For every
data set, train/test split (``--seeds``), teacher, temperature and regressor, both routes are fitted
in the same run, on the same rows and the same teacher, and compared on held-out rows:

- fidelity: agreement of the student's argmax with the teacher's (what distillation aims at);
- accuracy: agreement with the true labels.

The data sets are four shipped with scikit-learn (iris, wine, breast cancer, digits) and two
``make_classification`` problems (4 and 8 classes). Features are standardised on the training rows
(so that Ridge and k-nearest neighbours see comparable scales); each split keeps 30% of the rows
out, stratified. Teachers (``--teachers``): ``hgb`` = ``HistGradientBoostingClassifier(max_iter=100)``
(smooth probabilities), ``rf`` = ``RandomForestClassifier(n_estimators=100)`` (many exact zeros),
``mlp`` = ``MLPClassifier(hidden_layer_sizes=(64,))``; each is fitted on the training rows and passed
fitted. ``alpha`` is the default, 0.1; ``T`` is 1 and 4. The teacher's logits on the training rows are
computed once per split and teacher; each student is then trained as ``DistilledClassifier.fit``
trains it, ``as_student(student, route).fit_distill(X, targets)``, and predicts at ``T=1``.

Printed: for every regressor and ``T``, the mean held-out fidelity of each route over all
(data set, split, teacher) runs, the paired difference proba - logits (mean, std and min/max over
runs), how many runs each route wins, and how many data sets each route wins on average over splits;
then the same difference per data set (mean and std over splits and teachers), and a summary on
accuracy. Nothing is compared with a figure from another run.

Usage
-----
Run from the repository root, on one core (about 2 minutes of CPU time)::

    OMP_NUM_THREADS=1 python benchmarks/bench_regressor_route.py
    OMP_NUM_THREADS=1 python benchmarks/bench_regressor_route.py --seeds 2 --teachers hgb   # quick run

The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import time
import warnings
from collections import defaultdict

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from skdistill._base import DistillationTargets
from skdistill.students import as_student
from skdistill.teachers import as_teacher

ALPHA = 0.1  # DistilledClassifier's default
TEMPERATURES = (1.0, 4.0)
ROUTES = ("regression_proba", "regression_logits")

DATA_SETS = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "blobs4": lambda: make_classification(
        n_samples=1500, n_features=20, n_informative=8, n_classes=4, n_clusters_per_class=2, random_state=0
    ),
    "blobs8": lambda: make_classification(
        n_samples=2000, n_features=20, n_informative=10, n_classes=8, n_clusters_per_class=1, random_state=1
    ),
}

TEACHERS = {
    "hgb": lambda seed: HistGradientBoostingClassifier(max_iter=100, random_state=seed),
    "rf": lambda seed: RandomForestClassifier(n_estimators=100, random_state=seed),
    "mlp": lambda seed: MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=seed),
}

STUDENTS = {
    "tree(depth=3)": lambda: DecisionTreeRegressor(max_depth=3, random_state=0),
    "tree(depth=5)": lambda: DecisionTreeRegressor(max_depth=5, random_state=0),
    "tree(depth=8)": lambda: DecisionTreeRegressor(max_depth=8, random_state=0),
    "Ridge()": lambda: Ridge(),
    "KNeighbors(5)": lambda: KNeighborsRegressor(n_neighbors=5),
    "forest(20 trees)": lambda: RandomForestRegressor(n_estimators=20, random_state=0),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="train/test splits per data set (default 5)")
    parser.add_argument(
        "--teachers", default="hgb,rf,mlp", help=f"comma-separated, from {sorted(TEACHERS)} (default all)"
    )
    return parser.parse_args(argv)


def run(seeds, teachers):
    """``results[student, T, route, metric]`` -> list of (data set, seed, teacher, value), in run order."""
    results = defaultdict(list)
    teacher_accuracy = defaultdict(list)
    for data_name, load in DATA_SETS.items():
        X_all, y_all = load()
        for seed in range(seeds):
            X, X_test, y, y_test = train_test_split(X_all, y_all, test_size=0.3, stratify=y_all, random_state=seed)
            scaler = StandardScaler().fit(X)
            X, X_test = scaler.transform(X), scaler.transform(X_test)
            classes, y_index = np.unique(y, return_inverse=True)
            for teacher_name in teachers:
                teacher = TEACHERS[teacher_name](seed).fit(X, y)
                teacher_labels = teacher.predict(X_test)
                teacher_accuracy[data_name, teacher_name].append(float((teacher_labels == y_test).mean()))
                # The teacher's one pass over the training rows, as DistilledClassifier.fit runs it.
                teacher_logits = as_teacher(teacher).fit_logits(X, y)
                for student_name, make_student in STUDENTS.items():
                    for T in TEMPERATURES:
                        targets = DistillationTargets(
                            teacher_logits=teacher_logits, y=y_index, classes=classes, T=T, alpha=ALPHA
                        )
                        for route in ROUTES:
                            predicted = as_student(make_student(), route).fit_distill(X, targets).predict(X_test)
                            run_key = (data_name, seed, teacher_name)
                            fidelity, accuracy = (predicted == teacher_labels).mean(), (predicted == y_test).mean()
                            results[student_name, T, route, "fidelity"].append((*run_key, fidelity))
                            results[student_name, T, route, "accuracy"].append((*run_key, accuracy))
    return results, teacher_accuracy


def paired_differences(results, student, T, metric):
    """(data set, teacher, value of proba - logits) for every run, paired on data set, split and teacher."""
    proba = results[student, T, "regression_proba", metric]
    logits = results[student, T, "regression_logits", metric]
    return [(p[0], p[2], p[3] - l[3]) for p, l in zip(proba, logits, strict=True)]


def print_summary(results, metric, teachers):
    header = (
        f"{'student':<18}{'T':>3}{'proba':>8}{'logits':>8}{'diff mean':>11}{'std':>7}{'min':>8}{'max':>7}"
        f"{'runs won p/l/tie':>18}{'sets won p/l':>14}"
        + "".join(f"{'diff ' + name:>15}" for name in teachers)
    )
    print(header)
    print("-" * len(header))
    for student in STUDENTS:
        for T in TEMPERATURES:
            pairs = paired_differences(results, student, T, metric)
            diff = np.array([d for _, _, d in pairs])
            per_set = {name: np.mean([d for n, _, d in pairs if n == name]) for name in DATA_SETS}
            means = {route: np.mean([r[3] for r in results[student, T, route, metric]]) for route in ROUTES}
            runs_won = f"{(diff > 0).sum()}/{(diff < 0).sum()}/{(diff == 0).sum()}"
            sets_won = f"{sum(v > 0 for v in per_set.values())}/{sum(v < 0 for v in per_set.values())}"
            by_teacher = ""
            for name in teachers:
                teacher_diff = np.array([d for _, t, d in pairs if t == name])
                by_teacher += f"{f'{teacher_diff.mean():+.3f}±{teacher_diff.std():.3f}':>15}"
            print(
                f"{student:<18}{T:>3g}{means['regression_proba']:>8.3f}{means['regression_logits']:>8.3f}"
                f"{diff.mean():>+11.3f}{diff.std():>7.3f}{diff.min():>+8.3f}{diff.max():>+7.3f}"
                f"{runs_won:>18}{sets_won:>14}{by_teacher}"
            )


def print_per_data_set(results, metric):
    print(f"{'student':<18}{'T':>3}" + "".join(f"{name:>15}" for name in DATA_SETS))
    for student in STUDENTS:
        for T in TEMPERATURES:
            pairs = paired_differences(results, student, T, metric)
            cells = []
            for name in DATA_SETS:
                diff = np.array([d for n, _, d in pairs if n == name])
                cells.append(f"{diff.mean():+.3f}±{diff.std():.3f}")
            print(f"{student:<18}{T:>3g}" + "".join(f"{cell:>15}" for cell in cells))


def main(argv=None):
    args = parse_args(argv)
    teachers = [name.strip() for name in args.teachers.split(",") if name.strip()]
    unknown = sorted(set(teachers) - set(TEACHERS))
    if unknown:
        raise SystemExit(f"unknown teacher(s) {unknown}; expected names from {sorted(TEACHERS)}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    results, teacher_accuracy = run(args.seeds, teachers)
    elapsed = time.perf_counter() - start

    n_runs = len(DATA_SETS) * args.seeds * len(teachers)
    print("Regressor students: route regression_proba (q) versus regression_logits (log q), held out")
    print(
        f"  {len(DATA_SETS)} data sets x {args.seeds} splits (70/30, stratified) x teachers {teachers} = "
        f"{n_runs} runs per (student, T); alpha={ALPHA}; T in {list(TEMPERATURES)}; "
        f"scikit-learn {sklearn.__version__}; {elapsed:.0f} s"
    )
    print(
        "  teacher held-out accuracy (mean over splits): "
        + ", ".join(
            f"{data}/{teacher} {np.mean(values):.3f}" for (data, teacher), values in teacher_accuracy.items()
        )
    )
    print()
    print("Fidelity (held-out agreement with the teacher's argmax); diff = proba - logits, paired per run")
    print_summary(results, "fidelity", teachers)
    print()
    print("Fidelity diff (proba - logits) per data set: mean ± std over splits and teachers")
    print_per_data_set(results, "fidelity")
    print()
    print("Accuracy (held-out agreement with the true labels); diff = proba - logits, paired per run")
    print_summary(results, "accuracy", teachers)


if __name__ == "__main__":
    main()
