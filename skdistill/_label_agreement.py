"""Warnings when the teacher's outputs and ``y`` look like they are not about the same labels or scale.

Nothing in the data says which label a bare torch module's column stands for, or in which units a
regressor predicts: the distiller takes the module's columns to be the sorted labels of ``y``, and
the teacher's predictions to be in ``y``'s units. When that is wrong the fit succeeds and the student
learns the wrong thing, silently. Two ways users meet it:

- a network trained on ``y.cat.codes`` of a pandas Categorical whose categories are not in sorted
  order ("low", "medium", "high"), then distilled with ``y`` itself;
- a scikit-learn meta-estimator around the distiller that fits it on another ``y`` than the user's:
  ``VotingClassifier``, ``StackingClassifier`` and ``CalibratedClassifierCV`` pass their members ``y``
  encoded as 0..n_classes-1; ``TransformedTargetRegressor`` passes the transformed ``y``.

The checks compare the teacher with ``y`` on the training rows, which the teacher was (usually)
trained on: a teacher that merely predicts badly does not trigger them. They are skipped with
``teacher_cv``, whose out-of-fold outputs can point away from ``y`` (a heavily regularised teacher
under leave-one-out), and below 50 rows or 10 rows per class.
"""

import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

# Below this many labelled rows (per class, for classes) the agreements are too noisy to tell a
# permutation from a weak teacher.
_MIN_ROWS = 50
_MIN_ROWS_PER_CLASS = 10
# R² below this is far worse than predicting y's mean: beyond a weak teacher, a sign of other units.
_R2_OTHER_UNITS = -1.0


def warn_if_columns_look_permuted(teacher_logits, y_index, classes, *, columns_assumed):
    """Warn when the teacher's most probable class matches ``y`` far better under another labelling.

    That is: on at most half as many training rows as the best one-to-one relabelling of the teacher's
    classes, itself right on at least halfway between chance and every row (0.75 for two classes).

    Parameters
    ----------
    teacher_logits : ndarray of shape (n_samples, n_classes)
        Columns in the order of ``classes``.
    y_index : ndarray of shape (n_samples,) of int
        Each row's label, as its index in ``classes``.
    classes : ndarray of shape (n_classes,)
    columns_assumed : bool
        Whether the teacher's columns were taken to be the sorted labels (a torch module given no
        ``classes``): the warning then says how to name them.
    """
    n_rows, n_classes = teacher_logits.shape
    # With few rows per class the best relabelling fits noise: a correct 30-class teacher with one row
    # per class had one far better than the labels as given in 19 of 20 draws.
    if n_rows < max(_MIN_ROWS, _MIN_ROWS_PER_CLASS * n_classes) or n_classes < 2:
        return
    counts = np.zeros((n_classes, n_classes))
    np.add.at(counts, (y_index, np.argmax(teacher_logits, axis=1)), 1)
    as_given = np.trace(counts) / n_rows
    labels, columns = linear_sum_assignment(counts, maximize=True)
    best = counts[labels, columns].sum() / n_rows
    if best < (1 + 1 / n_classes) / 2 or as_given > best / 2:
        return
    names = np.asarray(classes).tolist()
    in_y = counts.sum(axis=1) > 0
    moved = [(names[label], names[column]) for label, column in zip(labels, columns) if label != column and in_y[label]]
    shown = ", ".join(f"y's {label!r} as the teacher's {column!r}" for label, column in moved[:5])
    how = (
        f"A torch module's columns are taken to be the sorted labels of y, {names!r}: give "
        "TorchTeacher(module, classes=[...]) the label of each column, in column order (for a network "
        "trained on the codes of a pandas Categorical y: classes=list(y.cat.categories)). "
        if columns_assumed
        else ""
    )
    warnings.warn(
        f"The teacher's most probable class is the row's label in y on {as_given:.1%} of the training rows, "
        f"but would be on {best:.1%} if its classes were other labels ({shown}{', ...' if len(moved) > 5 else ''}): "
        f"the teacher and y seem to name the classes differently. {how}A scikit-learn VotingClassifier, "
        "StackingClassifier or CalibratedClassifierCV fits the distiller on y encoded as 0..n_classes-1, which "
        "a trained teacher does not know: use the distiller outside it, or pass the teacher unfitted.",
        UserWarning,
        stacklevel=7,  # the user's call of fit (past _fit_context and unchanged_on_failure)
    )


def warn_if_predictions_look_in_other_units(teacher_predictions, y):
    """Warn when the teacher's predictions are far worse than ``y``'s mean (R² below -1) on some output.

    Parameters
    ----------
    teacher_predictions : ndarray of shape (n_samples, n_outputs)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(teacher_predictions), -1)
    if len(y) < _MIN_ROWS:
        return
    residual = ((y - teacher_predictions) ** 2).sum(axis=0)
    spread = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(spread > 0, 1.0 - residual / spread, 1.0)
    worst = int(np.argmin(r2))
    if not r2[worst] < _R2_OTHER_UNITS:
        return
    where = "" if y.shape[1] == 1 else f" (output {worst})"
    warnings.warn(
        f"The teacher's predictions on the training rows have R² = {r2[worst]:.3g} against y{where}, far worse than "
        f"predicting y's mean: the teacher and y seem to be in different units or scales (the teacher's "
        f"predictions range over [{teacher_predictions[:, worst].min():.3g}, {teacher_predictions[:, worst].max():.3g}], "
        f"y over [{y[:, worst].min():.3g}, {y[:, worst].max():.3g}]). A TransformedTargetRegressor around the "
        "distiller fits it on the transformed y, which a trained teacher does not know: transform inside "
        "the teacher too, or pass the teacher unfitted.",
        UserWarning,
        stacklevel=7,  # the user's call of fit (past _fit_context and unchanged_on_failure)
    )
