"""Benchmark: does a student predict a class that its training labels lack but its teacher knows?

A cross-validation fold can miss a rare class. With a teacher that knows every class (here a fitted
scikit-learn classifier), the distilled student still has that class in ``classes_`` and a column
for it in ``predict_proba``; this script measures whether it also *predicts* it, on held-out rows of
that class. The student never sees a row of the class: it meets the class only through the
teacher's probabilities on the rows of the other classes.

For every data set and split (``--seeds``): 30% of the rows are held out (stratified); one class is
the missing class (the smallest of the synthetic set; class ``seed`` of digits); its rows are
removed from the student's training rows. The teacher is fitted on all classes, either on the same
training rows as the student (``same rows``, where a forest is over-confident, in-sample) or on a
separate half of them (``own rows``, the student then training on the other half). Printed per
teacher and student: the share of held-out rows of the missing class that the student predicts as
that class (min, mean and max over splits), and the same share for the teacher, the ceiling.

Conditions: ``load_digits`` (1,797 rows, 10 classes, pixels / 16) and ``make_classification``
(2,000 rows, 20 features, 5 classes of weights 0.3 / 0.3 / 0.2 / 0.17 / 0.03, ``class_sep=2``).
Teachers: ``LogisticRegression`` and ``RandomForestClassifier(n_estimators=100)``. Students:
``LogisticRegression`` (exact soft cross-entropy), ``DecisionTreeClassifier(max_depth=6)`` (soft
Gini), ``MLPStudent((32,), max_iter=100)``. ``DistilledClassifier`` defaults: ``T=4``,
``alpha=0.1``. Run with ``OMP_NUM_THREADS=1``; about 40 s on one core.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier, MLPStudent

TEACHERS = {
    "logreg": lambda seed: LogisticRegression(max_iter=1000),
    "forest": lambda seed: RandomForestClassifier(n_estimators=100, random_state=seed),
}
STUDENTS = {
    "logreg": lambda seed: LogisticRegression(max_iter=1000),
    "tree6": lambda seed: DecisionTreeClassifier(max_depth=6, random_state=seed),
    "mlp32": lambda seed: MLPStudent(hidden_layer_sizes=(32,), max_iter=100, random_state=seed),
}


def datasets(seed):
    """(name, X, y, missing class) for one split."""
    X, y = load_digits(return_X_y=True)
    yield "digits", X / 16.0, y, seed % 10
    X, y = make_classification(
        n_samples=2000,
        n_features=20,
        n_informative=8,
        n_classes=5,
        n_clusters_per_class=1,
        weights=[0.3, 0.3, 0.2, 0.17, 0.03],
        class_sep=2.0,
        random_state=seed,
    )
    yield "synthetic", X, y, int(np.argmin(np.bincount(y)))


def main(seeds):
    shares = {}  # (data, setting, teacher, student) -> list of shares; student "(teacher)" is the ceiling
    for seed in range(seeds):
        for data_name, X, y, missing in datasets(seed):
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
            X_missing = X_test[y_test == missing]
            for setting in ("same rows", "own rows"):
                X_teacher, y_teacher, X_student, y_student = X_train, y_train, X_train, y_train
                if setting == "own rows":
                    X_teacher, X_student, y_teacher, y_student = train_test_split(
                        X_train, y_train, test_size=0.5, stratify=y_train, random_state=seed
                    )
                kept = y_student != missing
                for teacher_name, make_teacher in TEACHERS.items():
                    teacher = make_teacher(seed).fit(X_teacher, y_teacher)
                    key = (data_name, setting, teacher_name)
                    shares.setdefault((*key, "(teacher)"), []).append(np.mean(teacher.predict(X_missing) == missing))
                    for student_name, make_student in STUDENTS.items():
                        clf = DistilledClassifier(teacher, make_student(seed)).fit(X_student[kept], y_student[kept])
                        assert missing in clf.classes_
                        shares.setdefault((*key, student_name), []).append(np.mean(clf.predict(X_missing) == missing))

    print("share of held-out rows of the missing class predicted as that class (min / mean / max over splits)")
    print(f"{'data':10s} {'teacher fitted on':18s} {'teacher':8s} {'student':10s}   min   mean  max")
    for (data_name, setting, teacher_name, student_name), values in sorted(shares.items()):
        print(
            f"{data_name:10s} {setting:18s} {teacher_name:8s} {student_name:10s} "
            f"{min(values):5.2f} {np.mean(values):5.2f} {max(values):5.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="train/test splits per data set (default 5)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    main(args.seeds)
    print(f"{time.perf_counter() - start:.0f} s")
