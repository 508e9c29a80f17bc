"""Benchmark: when do out-of-fold teacher labels (``teacher_cv``) help the student?

An unfitted teacher is fitted on the training rows and then labels those same rows. A random
forest is far more confident on the rows it was grown on than on new rows (each tree saw most of
them), so the student learns probabilities the teacher never gives on new data. ``teacher_cv=5``
labels each training row with a teacher fitted on the other 4/5 of the rows instead, as
``cross_val_predict`` does; the teacher the student is compared with afterwards is still the one
fitted on all training rows. For every data set, train/test split (``--seeds``), teacher, student
and temperature, both settings are fitted in the same run, on the same rows, and compared on
held-out rows:

- accuracy: agreement of the student with the true labels;
- fidelity: agreement of the student's argmax with the (full) teacher's, ``clf.fidelity(X_test)``;
- log-loss of the student's probabilities (lower is better).

Conditions: the data sets ``load_digits`` (1,797 rows, 10 classes), ``load_breast_cancer`` (569 rows,
2 classes) and ``load_wine`` (178 rows, 3 classes); each split keeps 30% of the rows out, stratified,
and features are standardised on the training rows. ``--label-noise 0.2`` moves 20% of the training
labels (teacher and student see the same) to another class drawn uniformly; held-out labels stay
true. Teachers: ``rf`` = ``RandomForestClassifier(n_estimators=100)`` (over-confident on its training
rows), ``hgb`` = ``HistGradientBoostingClassifier(max_iter=50)`` (also fitted closely to its training
rows) and ``lr`` = ``LogisticRegression(C=1)`` (a contrast: about as confident on its training rows as
on new rows). Students: ``logreg`` = ``LogisticRegression(C=1)`` (exact soft cross-entropy route),
``tree4`` = ``DecisionTreeClassifier(max_depth=4)`` (soft-Gini route), ``mlp`` =
``MLPStudent((16,), max_iter=100, learning_rate_init=0.01)``. ``alpha=0.1`` (the default); ``T`` is 1
and 4. The student trained on the labels alone is printed as a reference.

Also printed, per data set and teacher: the teacher's mean log-loss on its training rows as the
student sees them without ``teacher_cv`` (in-sample), with ``teacher_cv=5`` (out-of-fold), and on
the held-out rows. The closer the out-of-fold figure is to the held-out one, the more faithfully the
out-of-fold labels describe how the teacher behaves on new rows. These outputs are read through the
teacher-output cache with the folds ``teacher_cv=5`` uses, so the distillers find them there: each
teacher is fitted 6 times per split, whatever the number of students and temperatures (the cache
statistics printed at the end say so).

Printed for every teacher, student and ``T``, per data set: the mean over splits for
``teacher_cv=None``, the paired difference ``cv5 - None`` (mean and std over splits) and in how many
splits ``teacher_cv=5`` is better / equal / worse; then the difference averaged over data sets.
Nothing is compared with a figure from another run.

Usage
-----
Run from the repository root, on one core (about 3 minutes each)::

    OMP_NUM_THREADS=1 python benchmarks/bench_teacher_cv.py
    OMP_NUM_THREADS=1 python benchmarks/bench_teacher_cv.py --label-noise 0.2
    OMP_NUM_THREADS=1 python benchmarks/bench_teacher_cv.py --seeds 2 --teachers rf   # quick run

The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import time
import warnings
from collections import defaultdict

import numpy as np
import sklearn
from scipy.special import softmax
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import skdistill
from skdistill import DistilledClassifier, MLPStudent, teacher_cache_info
from skdistill._cache import out_of_fold_logits
from skdistill.teachers import as_teacher

ALPHA = 0.1  # DistilledClassifier's default
TEMPERATURES = (1.0, 4.0)
FOLDS = 5
DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}
TEACHERS = {
    "rf": lambda seed: RandomForestClassifier(n_estimators=100, random_state=seed),
    "hgb": lambda seed: HistGradientBoostingClassifier(max_iter=50, random_state=seed),
    "lr": lambda seed: LogisticRegression(max_iter=2000),
}
STUDENTS = {
    "logreg": lambda seed: LogisticRegression(max_iter=2000),
    "tree4": lambda seed: DecisionTreeClassifier(max_depth=4, random_state=seed),
    "mlp": lambda seed: MLPStudent((16,), max_iter=100, learning_rate_init=0.01, random_state=seed),
}


def one_split(name, seed, teachers, students, label_noise):
    """Every (teacher, student, T, teacher_cv) fit on one train/test split; returns result rows."""
    X, y = DATASETS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if label_noise:  # training labels only: the held-out rows keep their true labels
        rng = np.random.RandomState(seed)
        flipped = rng.rand(len(y_train)) < label_noise
        classes = np.unique(y)
        shift = rng.randint(1, len(classes), size=flipped.sum())  # another class, uniformly
        y_train = y_train.copy()
        y_train[flipped] = classes[(np.searchsorted(classes, y_train[flipped]) + shift) % len(classes)]
    rows, confidence = [], []
    for student_name in students:
        hard = STUDENTS[student_name](seed).fit(X_train, y_train)
        proba = hard.predict_proba(X_test)
        rows.append((name, "-", student_name, "-", "hard", hard.score(X_test, y_test), np.nan, log_loss(y_test, proba)))
    for teacher_name in teachers:
        teacher = TEACHERS[teacher_name](seed)
        # The teacher's in-sample and out-of-fold outputs, through the cache that the distillers below
        # read too (the same folds as teacher_cv=5): no extra teacher fit.
        adapter = as_teacher(teacher)
        splits = list(StratifiedKFold(FOLDS).split(X_train, y_train))
        out_of_fold = softmax(out_of_fold_logits(adapter, X_train, y_train, None, splits, memory=None), axis=1)
        labels = adapter.classes_
        confidence.append(
            (
                name,
                teacher_name,
                log_loss(y_train, adapter.predict_proba(X_train), labels=labels),
                log_loss(y_train, out_of_fold, labels=labels),
                log_loss(y_test, adapter.predict_proba(X_test), labels=labels),
                np.mean(adapter.predict(X_test) == y_test),
            )
        )
        for student_name in students:
            for T in TEMPERATURES:
                for teacher_cv in (None, FOLDS):
                    clf = DistilledClassifier(
                        teacher, STUDENTS[student_name](seed), T=T, alpha=ALPHA, teacher_cv=teacher_cv
                    ).fit(X_train, y_train)
                    setting = "none" if teacher_cv is None else f"cv{teacher_cv}"
                    accuracy, fidelity = clf.score(X_test, y_test), clf.fidelity(X_test)
                    loss = log_loss(y_test, clf.predict_proba(X_test), labels=clf.classes_)
                    rows.append((name, teacher_name, student_name, T, setting, accuracy, fidelity, loss))
    return rows, confidence


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std():.3f}"


def report(rows, confidence, teachers, students):
    print("\nTeacher log-loss on its training rows, in-sample vs out-of-fold, and on held-out rows")
    print("(mean ± std over splits; held-out accuracy of the teacher last)")
    print(f"{'data set':<14} {'teacher':<7} {'in-sample':>15} {'out-of-fold':>15} {'held-out':>15} {'accuracy':>15}")
    by_key = defaultdict(list)
    for name, teacher_name, *figures in confidence:
        by_key[name, teacher_name].append(figures)
    for (name, teacher_name), figures in by_key.items():
        columns = np.array(figures).T
        print(f"{name:<14} {teacher_name:<7} " + " ".join(f"{mean_std(column):>15}" for column in columns))

    results = defaultdict(list)
    for name, teacher_name, student_name, T, setting, *figures in rows:
        results[name, teacher_name, student_name, T, setting].append(figures)
    datasets = list(dict.fromkeys(row[0] for row in rows))

    print("\nStudents trained on the labels alone (held-out accuracy; log-loss)")
    for student_name in students:
        cells = [
            f"{name} {mean_std([r[0] for r in results[name, '-', student_name, '-', 'hard']])}; "
            f"{mean_std([r[2] for r in results[name, '-', student_name, '-', 'hard']])}"
            for name in datasets
        ]
        print(f"  {student_name:<7} " + "   ".join(cells))

    metrics = (("accuracy", 0, 1), ("fidelity", 1, 1), ("log-loss", 2, -1))  # (name, index, better sign)
    for metric, index, better in metrics:
        print(
            f"\nHeld-out {metric}: each cell is teacher_cv=None's mean, then cv{FOLDS} - None (mean ± std over "
            f"splits) and the splits where cv{FOLDS} is better/equal/worse"
        )
        print(f"{'teacher':<7} {'student':<7} {'T':>3}  " + "".join(f"{name:<30}" for name in datasets) + "mean diff")
        for teacher_name in teachers:
            for student_name in students:
                for T in TEMPERATURES:
                    cells, mean_differences = [], []
                    for name in datasets:
                        none = np.array([r[index] for r in results[name, teacher_name, student_name, T, "none"]])
                        cv = np.array([r[index] for r in results[name, teacher_name, student_name, T, f"cv{FOLDS}"]])
                        difference = cv - none
                        mean_differences.append(difference.mean())
                        counts = (
                            (better * difference > 0).sum(),
                            (difference == 0).sum(),
                            (better * difference < 0).sum(),
                        )
                        cells.append(
                            f"{none.mean():.3f} {difference.mean():+.3f}±{difference.std():.3f} {'/'.join(map(str, counts))}"
                        )
                    print(
                        f"{teacher_name:<7} {student_name:<7} {T:>3.0f}  "
                        + "".join(f"{cell:<30}" for cell in cells)
                        + f"{np.mean(mean_differences):+.3f}"
                    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="train/test splits per data set")
    parser.add_argument("--teachers", nargs="+", default=list(TEACHERS), choices=list(TEACHERS))
    parser.add_argument("--students", nargs="+", default=list(STUDENTS), choices=list(STUDENTS))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument(
        "--label-noise", type=float, default=0.0, help="fraction of training labels moved to another class"
    )
    args = parser.parse_args()
    print(
        f"skdistill {skdistill.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
        f"{args.seeds} splits (test_size=0.3, stratified) x {args.datasets}; teachers {args.teachers}; "
        f"students {args.students}; alpha={ALPHA}, T in {TEMPERATURES}, teacher_cv in (None, {FOLDS}); "
        f"training labels flipped: {args.label_noise:.0%}"
    )
    start = time.perf_counter()
    rows, confidence = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in args.datasets:
            for seed in range(args.seeds):
                split_rows, split_confidence = one_split(name, seed, args.teachers, args.students, args.label_noise)
                rows += split_rows
                confidence += split_confidence
            print(f"  {name}: done after {time.perf_counter() - start:.0f} s", flush=True)
    report(rows, confidence, args.teachers, args.students)
    info = teacher_cache_info()
    print(f"\nTeacher-output cache: {info.hits} hits, {info.misses} misses (the table above fitted each fold once)")
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
