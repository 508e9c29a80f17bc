"""Benchmark: does distilling from an ensemble of teachers help the student, and what does a grid cost?

Part 1, the students. On each data set and train/test split (``--seeds``), two teachers are trained
on the training rows: ``net``, a PyTorch MLP (``MLPStudent((256, 256), max_iter=100)``, its
``module_`` used as the teacher, as the examples do) and ``hgb``, a
``HistGradientBoostingClassifier(max_iter=100)``. Each student is then trained five ways, all on
the same rows with the same seed:

- ``labels``: on the labels alone (the student's own ``fit``);
- ``net`` / ``hgb``: distilled from one teacher;
- ``ens-logits`` / ``ens-proba``: distilled from ``TeacherEnsemble([("net", ...), ("hgb", ...)])``
  with equal weights and ``combine="logits"`` / ``"proba"``.

Every distillation uses ``T=2`` and ``alpha=0.1``. Students: ``mlp16`` = ``MLPStudent((16,))``
(about 1/70 of the net teacher's parameters on digits), ``mlp128`` = ``MLPStudent((128,))`` (about
1/9) and ``logreg`` = ``LogisticRegression()`` (exact soft cross-entropy route); the MLP students
train for 100 epochs at ``learning_rate_init=0.01``. Measured on the held-out rows: accuracy
(against the true labels) and agreement of the student's predicted class with each teacher's:
``net``, ``hgb`` and the two ensembles. The teachers' own held-out accuracies are printed too.

Two settings (``--settings``): ``labelled``, every training row labelled, the teachers fitted on
them and the students distilled on the same rows; ``half-unlabelled``, half of the training rows
(stratified) labelled and used to fit the teachers and the students, the other half passed to the
distillers as ``X_unlabeled``: rows the teachers never saw, which the students learn from the
teachers alone (the ``labels`` student sees the labelled half only). Both teachers fit their own
training rows almost perfectly, so on those rows they seldom disagree, and an ensemble of them
says little the labels do not; the script prints how often ``net`` and ``hgb`` predict different
classes on the training, unlabelled and held-out rows.

Data sets: ``load_digits`` (1,797 rows, 64 features, 10 classes), ``load_breast_cancer`` (569 rows,
30 features, 2 classes), ``load_wine`` (178 rows, 13 features, 3 classes) and ``make_classification``
(2,000 rows, 20 features of which 8 informative, 4 classes, ``class_sep=0.8``, ``flip_y=0.05``: a
harder task on which the teachers make more errors and disagree more). Each split keeps 30% of the
rows out, stratified; features are standardised on the training rows.

Printed per data set and student: mean ± std over splits of each figure; then the paired
differences (same split, same student seed) of each ensemble student against the student distilled
from each teacher alone and against the student on labels: mean ± std and the number of splits in
which the ensemble student is better / equal / worse.

Part 2, the grid (``--grid``, on by default): ``GridSearchCV`` over ``teacher__weights`` (4
settings, ``cv=3``: 12 fits and the refit) of ``DistilledClassifier(TeacherEnsemble([("net",
trained module), ("hgb", unfitted HistGradientBoostingClassifier)]), MLPStudent((16,)))`` on
digits. The net counts the rows it scores and the boosting model counts its fits (counters kept in
objects' attributes, which the cache key does not read). The same search runs with the cache
(``memory=None``, the in-process cache emptied before each run) and without (``memory=False``),
interleaved, ``--grid-repeats`` times each; the ratio of the median wall times is measured in the
same run. The two searches must find the same scores.

Usage
-----
Run from the repository root, on one thread (about 6.5 minutes on a shared 2-core machine)::

    OMP_NUM_THREADS=1 python benchmarks/bench_ensemble.py
    OMP_NUM_THREADS=1 python benchmarks/bench_ensemble.py --seeds 2 --datasets wine --no-grid   # quick run
    OMP_NUM_THREADS=1 python benchmarks/bench_ensemble.py --settings labelled --no-grid

The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import statistics
import sys
import time
import types
import warnings
from collections import defaultdict

import numpy as np
import sklearn
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

import skdistill
from skdistill import DistilledClassifier, MLPStudent, TeacherEnsemble, clear_teacher_cache, teacher_cache_info

T = 2.0
ALPHA = 0.1
TEST_SIZE = 0.3


def _synthetic():
    return make_classification(
        n_samples=2000,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        n_classes=4,
        class_sep=0.8,
        flip_y=0.05,
        random_state=0,
    )


DATASETS = {
    "digits": lambda: load_digits(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "synthetic": _synthetic,
}
STUDENTS = {
    "mlp16": lambda seed: MLPStudent((16,), max_iter=100, learning_rate_init=0.01, random_state=seed),
    "mlp128": lambda seed: MLPStudent((128,), max_iter=100, learning_rate_init=0.01, random_state=seed),
    "logreg": lambda seed: LogisticRegression(max_iter=2000),
}
SETTINGS = {
    "labelled": "every training row labelled; teachers and students see the same rows",
    "half-unlabelled": (
        "half the training rows labelled (teachers fitted on them), the other half passed as X_unlabeled: "
        "rows the teachers never saw, which the students learn from the teachers alone"
    ),
}
CONDITIONS = ("labels", "net", "hgb", "ens-logits", "ens-proba")
REFERENCES = ("net", "hgb", "ens-logits", "ens-proba")  # the teachers a student's agreement is measured with
ENSEMBLES = ("ens-logits", "ens-proba")


def train_net(X, y, seed):
    return MLPStudent((256, 256), max_iter=100, random_state=seed).fit(X, y).module_


def train_boosting(X, y, seed):
    return HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(X, y)


def one_split(name, seed, students, setting):
    """Teachers' accuracies and every student's figures on one train/test split."""
    X, y = DATASETS[name]()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=seed)
    X_unlabeled = None
    if setting == "half-unlabelled":  # the labels of half the training rows are put aside
        X_train, X_unlabeled, y_train, _ = train_test_split(
            X_train, y_train, test_size=0.5, stratify=y_train, random_state=seed
        )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if X_unlabeled is not None:
        X_unlabeled = scaler.transform(X_unlabeled)
    net, boosting = train_net(X_train, y_train, seed), train_boosting(X_train, y_train, seed)
    teachers = {
        "net": net,
        "hgb": boosting,
        "ens-logits": TeacherEnsemble([("net", net), ("hgb", boosting)], combine="logits"),
        "ens-proba": TeacherEnsemble([("net", net), ("hgb", boosting)], combine="proba"),
    }
    # Trained teachers: every distiller below reads their outputs from the in-process cache after the
    # first, so the teachers run once per split whatever the number of students.
    distilled = {
        (student_name, condition): DistilledClassifier(teacher, STUDENTS[student_name](seed), T=T, alpha=ALPHA).fit(
            X_train, y_train, X_unlabeled=X_unlabeled
        )
        for student_name in students
        for condition, teacher in teachers.items()
    }
    def predicted_by(reference, X):
        clf = distilled[students[0], reference]
        return clf.classes_[clf.teacher_proba(X).argmax(axis=1)]

    teacher_predictions = {reference: predicted_by(reference, X_test) for reference in REFERENCES}
    teacher_accuracy = {reference: np.mean(teacher_predictions[reference] == y_test) for reference in REFERENCES}
    # Where the two teachers disagree: on the rows the students learn from, and on held-out rows.
    for part, rows in (("training", X_train), ("unlabelled", X_unlabeled), ("held-out", X_test)):
        if rows is not None:
            teacher_accuracy[f"disagree {part}"] = np.mean(predicted_by("net", rows) != predicted_by("hgb", rows))
    figures = {}
    for student_name in students:
        for condition in CONDITIONS:
            if condition == "labels":
                predicted = STUDENTS[student_name](seed).fit(X_train, y_train).predict(X_test)
            else:
                predicted = distilled[student_name, condition].predict(X_test)
            figures[student_name, condition] = [np.mean(predicted == y_test)] + [
                np.mean(predicted == teacher_predictions[reference]) for reference in REFERENCES
            ]
    return teacher_accuracy, figures


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std():.3f}"


def report_students(teacher_accuracies, figures, datasets, students, n_seeds):
    print(f"\nTeachers' held-out accuracy (mean ± std [min, max] over {n_seeds} splits)")
    print(f"{'data set':<14}" + "".join(f"{reference:>30}" for reference in REFERENCES))
    for name in datasets:
        cells = []
        for reference in REFERENCES:
            values = np.array([accuracy[reference] for accuracy in teacher_accuracies[name]])
            cells.append(f"{mean_std(values)} [{values.min():.3f}, {values.max():.3f}]")
        print(f"{name:<14}" + "".join(f"{cell:>30}" for cell in cells))
    parts = [key for key in teacher_accuracies[datasets[0]][0] if key.startswith("disagree")]
    print("\nShare of rows on which net and hgb predict different classes (mean ± std)")
    print(f"{'data set':<14}" + "".join(f"{part.replace('disagree ', 'on ') + ' rows':>22}" for part in parts))
    for name in datasets:
        cells = [mean_std([accuracy[part] for accuracy in teacher_accuracies[name]]) for part in parts]
        print(f"{name:<14}" + "".join(f"{cell:>22}" for cell in cells))

    print(
        "\nStudents on held-out rows: accuracy, then agreement with each teacher's predicted class "
        f"(mean ± std over {n_seeds} splits)"
    )
    header = f"{'data set':<14}{'student':<8}{'trained on':<12}{'accuracy':>15}" + "".join(
        f"{'agree ' + reference:>17}" for reference in REFERENCES
    )
    print(header)
    for name in datasets:
        for student_name in students:
            for condition in CONDITIONS:
                columns = np.array(figures[name, student_name, condition]).T
                print(
                    f"{name:<14}{student_name:<8}{condition:<12}{mean_std(columns[0]):>15}"
                    + "".join(f"{mean_std(column):>17}" for column in columns[1:])
                )

    print(
        "\nPaired differences, ensemble student minus another student (same split and seed): mean ± std over "
        "splits, then splits where the ensemble student is better/equal/worse"
    )
    for metric, index in (("accuracy", 0), ("agreement with ens-logits", 3)):
        print(f"\n{metric}")
        columns = "".join(f"{'minus ' + condition:>24}" for condition in CONDITIONS[:3])
        print(f"{'data set':<14}{'student':<8}{'ensemble':<12}" + columns)
        overall = defaultdict(list)
        for name in datasets:
            for student_name in students:
                for ensemble in ENSEMBLES:
                    mine = np.array([row[index] for row in figures[name, student_name, ensemble]])
                    cells = []
                    for other in CONDITIONS[:3]:
                        difference = mine - np.array([row[index] for row in figures[name, student_name, other]])
                        overall[student_name, ensemble, other].append(difference.mean())
                        counts = "/".join(
                            str(n) for n in ((difference > 0).sum(), (difference == 0).sum(), (difference < 0).sum())
                        )
                        cells.append(f"{difference.mean():+.3f} ± {difference.std():.3f} {counts:>6}")
                    print(f"{name:<14}{student_name:<8}{ensemble:<12}" + "".join(f"{cell:>24}" for cell in cells))
        print(f"{'mean of data sets':<22}")
        for student_name in students:
            for ensemble in ENSEMBLES:
                cells = [f"{np.mean(overall[student_name, ensemble, other]):+.3f}" for other in CONDITIONS[:3]]
                print(f"{'':<14}{student_name:<8}{ensemble:<12}" + "".join(f"{cell:>24}" for cell in cells))


# --- Part 2: teacher passes in a grid over the weights ----------------------------------------------------

# Counts kept in objects' attributes: the cache key reads a teacher's code and the numbers it reads,
# but of other objects only their type, so changing counts do not make every lookup miss.
COUNTS = types.SimpleNamespace(rows=0, fits=0)


class RowCountingModule(torch.nn.Module):
    """A trained module that adds the number of rows it scores to ``COUNTS.rows``."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        COUNTS.rows += x.shape[0]
        return self.module(x)


class FitCountingBoosting(HistGradientBoostingClassifier):
    """``HistGradientBoostingClassifier`` that adds one to ``COUNTS.fits`` per fit."""

    def fit(self, X, y, sample_weight=None):
        COUNTS.fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


GRID = {"teacher__weights": [[1, 0], [2, 1], [1, 1], [1, 2]]}
GRID_FOLDS = 3


def run_grid(net, X, y, memory):
    """One search; returns (seconds, rows the net scored, boosting fits, the fitted search)."""
    COUNTS.rows, COUNTS.fits = 0, 0
    clear_teacher_cache()
    teacher = TeacherEnsemble(
        [("net", RowCountingModule(net)), ("hgb", FitCountingBoosting(max_iter=100, random_state=0))]
    )
    student = MLPStudent((16,), max_iter=100, learning_rate_init=0.01, random_state=0)
    search = GridSearchCV(DistilledClassifier(teacher, student, T=T, alpha=ALPHA, memory=memory), GRID, cv=GRID_FOLDS)
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, COUNTS.rows, COUNTS.fits, search


def report_grid(repeats):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    net = train_net(X, y, 0)
    n_candidates = len(GRID["teacher__weights"])
    n_fits = n_candidates * GRID_FOLDS + 1
    print(
        f"\nGrid over teacher__weights {GRID['teacher__weights']}, cv={GRID_FOLDS}: {n_fits} fits "
        f"({n_candidates} candidates x {GRID_FOLDS} folds + refit) on digits ({len(X)} rows); teacher = "
        "TeacherEnsemble(net: trained MLP 64-256-256-10, hgb: unfitted HistGradientBoostingClassifier(max_iter=100)); "
        f"student MLPStudent((16,), max_iter=100); {repeats} repeats of each mode, interleaved"
    )
    run_grid(net, X[:300], y[:300], None)  # warm-up, untimed
    times, rows, fits, searches, cache = defaultdict(list), {}, {}, {}, None
    for _ in range(repeats):
        for mode, memory in (("cached", None), ("uncached", False)):
            seconds, rows[mode], fits[mode], searches[mode] = run_grid(net, X, y, memory)
            times[mode].append(seconds)
            if mode == "cached":
                cache = teacher_cache_info()
    print(f"{'mode':<10}{'net rows scored':>17}{'rows / n':>10}{'hgb fits':>10}{'median s':>10}   runs")
    for mode in ("cached", "uncached"):
        runs = ", ".join(f"{t:.1f}" for t in times[mode])
        print(
            f"{mode:<10}{rows[mode]:>17,}{rows[mode] / len(X):>10.1f}{fits[mode]:>10}"
            f"{statistics.median(times[mode]):>10.2f}   {runs}"
        )
    print(f"cache hits / misses in the cached run: {cache.hits} / {cache.misses}")
    ratio = statistics.median(times["uncached"]) / statistics.median(times["cached"])
    print(f"uncached / cached wall time: {ratio:.2f}x (medians of this run)")
    same = np.array_equal(
        searches["cached"].cv_results_["mean_test_score"], searches["uncached"].cv_results_["mean_test_score"]
    )
    print(f"identical mean test scores with and without the cache: {same}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="train/test splits per data set")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--students", nargs="+", default=list(STUDENTS), choices=list(STUDENTS))
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--no-grid", dest="grid", action="store_false", help="skip part 2")
    parser.add_argument("--grid-repeats", type=int, default=2)
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, skdistill {skdistill.__version__}, scikit-learn {sklearn.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    print(
        f"{args.seeds} splits (test_size={TEST_SIZE}, stratified) x {args.datasets}; students {args.students}; "
        f"T={T}, alpha={ALPHA}"
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for setting in args.settings:
            teacher_accuracies, figures = defaultdict(list), defaultdict(list)
            for name in args.datasets:
                for seed in range(args.seeds):
                    accuracy, split_figures = one_split(name, seed, args.students, setting)
                    teacher_accuracies[name].append(accuracy)
                    for key, row in split_figures.items():
                        figures[(name, *key)].append(row)
                print(f"  {setting}, {name}: done after {time.perf_counter() - start:.0f} s", flush=True)
            print(f"\n=== Setting {setting!r}: {SETTINGS[setting]}")
            report_students(teacher_accuracies, figures, args.datasets, args.students, args.seeds)
        if args.grid:
            report_grid(args.grid_repeats)
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
