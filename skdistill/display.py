"""Plots in scikit-learn's ``Display`` style: fidelity, reliability (calibration), grid-search heatmaps.

Each display has ``from_estimator`` and/or ``from_predictions`` (or ``from_cv_results``) constructors,
keeps the numbers it drew as attributes, and exposes ``figure_`` and ``ax_``. matplotlib is an
optional dependency (``pip install "skdistill[plot]"``).
"""

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import confusion_matrix
from sklearn.utils.validation import check_is_fitted

from ._classifier import DistilledClassifier
from ._regressor import DistilledRegressor
from .metrics import _distiller_and_input

__all__ = ["FidelityDisplay", "GridSearchHeatmapDisplay", "ReliabilityDisplay"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skdistill's displays draw with matplotlib, which is not installed; "
            "pip install 'skdistill[plot]' (or matplotlib)."
        ) from exc
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def _fitted_classifier_and_input(estimator, X, display, *, draws):
    """The fitted ``DistilledClassifier`` in ``estimator`` (itself, or a Pipeline's last step) and its input.

    A ``DistilledRegressor`` is refused: its teacher and student predict values, not classes or
    probabilities.
    """
    check_is_fitted(estimator)
    distiller, X = _distiller_and_input(estimator, X)
    if isinstance(distiller, DistilledRegressor):
        raise ValueError(
            f"{display} draws {draws}, which a DistilledRegressor does not predict: it predicts values. To "
            "see how closely its student follows the teacher, plot one against the other: "
            "sklearn.metrics.PredictionErrorDisplay.from_predictions(distiller.teacher_predict(X), "
            "distiller.predict(X), kind='actual_vs_predicted')."
        )
    if not isinstance(distiller, DistilledClassifier):
        raise TypeError(
            f"{display}.from_estimator needs a fitted DistilledClassifier, or a Pipeline ending in one; got "
            f"{type(distiller).__name__}."
        )
    return distiller, X


class FidelityDisplay:
    """Agreement matrix: how often the student predicts class j where the teacher predicts class i.

    Rows are the teacher's predictions, columns the student's; each row is normalised to sum to 1,
    so the diagonal is the per-class fidelity. The title gives the overall agreement.

    Parameters
    ----------
    matrix : ndarray of shape (n_classes, n_classes)
        Row-normalised agreement matrix.
    labels : ndarray of shape (n_classes,)
    fidelity : float
        Share of rows where teacher and student agree.

    Attributes
    ----------
    im_ : matplotlib AxesImage
    text_ : ndarray of matplotlib Text, shape (n_classes, n_classes)
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> from skdistill.display import FidelityDisplay
    >>> display = FidelityDisplay.from_predictions([0, 1, 1, 2], [0, 1, 2, 2])
    >>> display.fidelity
    0.75
    """

    def __init__(self, matrix, labels, fidelity):
        self.matrix = matrix
        self.labels = labels
        self.fidelity = fidelity

    @classmethod
    def from_predictions(cls, teacher_labels, student_labels, *, labels=None, ax=None):
        """Draw the agreement matrix from teacher and student predictions.

        Parameters
        ----------
        teacher_labels, student_labels : array-like of shape (n_samples,)
        labels : array-like, default=None
            Class order; by default the sorted union of both.
        ax : matplotlib Axes, default=None

        Returns
        -------
        FidelityDisplay
        """
        teacher_labels, student_labels = np.asarray(teacher_labels), np.asarray(student_labels)
        labels = np.unique(np.concatenate([teacher_labels, student_labels])) if labels is None else np.asarray(labels)
        counts = confusion_matrix(teacher_labels, student_labels, labels=labels).astype(float)
        totals = counts.sum(axis=1, keepdims=True)
        matrix = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        display = cls(matrix, labels, float(np.mean(teacher_labels == student_labels)))
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, *, ax=None):
        """Draw the agreement matrix of a fitted ``DistilledClassifier`` on ``X`` (use held-out rows).

        Parameters
        ----------
        estimator : DistilledClassifier or Pipeline
            A fitted distiller, or a fitted pipeline ending in one (``X`` then goes through the
            pipeline's other steps first), as for :func:`~skdistill.metrics.fidelity_scorer`.
            A ``DistilledRegressor`` is refused with a ``ValueError`` that says how to plot its
            predictions against the teacher's instead.
        X : array-like of shape (n_samples, n_features)
        ax : matplotlib Axes, default=None

        Returns
        -------
        FidelityDisplay
        """
        distiller, X = _fitted_classifier_and_input(
            estimator, X, "FidelityDisplay", draws="how often student and teacher predict the same class"
        )
        teacher_labels = distiller.classes_[distiller.teacher_proba(X).argmax(axis=1)]
        return cls.from_predictions(teacher_labels, distiller.predict(X), labels=distiller.classes_, ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (a new figure when None).

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        FidelityDisplay
        """
        ax = _axes(ax)
        self.im_ = ax.imshow(self.matrix, vmin=0.0, vmax=1.0, cmap="Blues")
        n_classes = len(self.labels)
        self.text_ = np.empty((n_classes, n_classes), dtype=object)
        for i in range(n_classes):
            for j in range(n_classes):
                color = "white" if self.matrix[i, j] > 0.5 else "black"
                self.text_[i, j] = ax.text(j, i, f"{self.matrix[i, j]:.2f}", ha="center", va="center", color=color)
        ticks = np.arange(n_classes)
        ax.set_xticks(ticks, [str(label) for label in self.labels])
        ax.set_yticks(ticks, [str(label) for label in self.labels])
        ax.set_xlabel("student predicts")
        ax.set_ylabel("teacher predicts")
        ax.set_title(f"agreement {self.fidelity:.3f}")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ReliabilityDisplay:
    """Reliability (calibration) diagram of teacher and student side by side.

    For each model, rows are binned by the probability of the predicted class (its confidence); each
    point is a bin's mean confidence against the share of its rows predicted correctly. A calibrated
    model lies on the diagonal.

    Parameters
    ----------
    curves : dict
        ``{"teacher": (mean_confidence, accuracy), "student": (...)}``, arrays per bin.

    Attributes
    ----------
    lines_ : dict of matplotlib Line2D
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.display import ReliabilityDisplay
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> display = ReliabilityDisplay.from_predictions([0, 1, 1], {"teacher": proba, "student": proba})
    >>> sorted(display.lines_)
    ['student', 'teacher']
    """

    def __init__(self, curves):
        self.curves = curves

    @classmethod
    def from_predictions(cls, y_true, probabilities, *, labels=None, n_bins=10, ax=None):
        """Draw reliability curves from true labels and each model's probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
        probabilities : dict of str to ndarray of shape (n_samples, n_classes)
            Columns in the order of ``labels``.
        labels : array-like of shape (n_classes,), default=None
            Class of each column; by default ``0 .. n_classes - 1``.
        n_bins : int, default=10
            Equal-width confidence bins over [0, 1]; empty bins are skipped.
        ax : matplotlib Axes, default=None

        Returns
        -------
        ReliabilityDisplay
        """
        y_true = np.asarray(y_true)
        curves = {}
        for name, proba in probabilities.items():
            proba = np.asarray(proba)
            column_labels = np.arange(proba.shape[1]) if labels is None else np.asarray(labels)
            confidence = proba.max(axis=1)
            correct = column_labels[proba.argmax(axis=1)] == y_true
            bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
            occupied = np.flatnonzero(np.bincount(bins, minlength=n_bins))
            curves[name] = (
                np.array([confidence[bins == b].mean() for b in occupied]),
                np.array([correct[bins == b].mean() for b in occupied]),
            )
        return cls(curves).plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, n_bins=10, ax=None):
        """Draw the teacher's and the student's reliability on labelled rows ``X, y`` (held out).

        Parameters
        ----------
        estimator : DistilledClassifier or Pipeline
            A fitted distiller, or a fitted pipeline ending in one (``X`` then goes through the
            pipeline's other steps first). A ``DistilledRegressor`` is refused with a ``ValueError``:
            a reliability diagram needs probabilities.
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        n_bins : int, default=10
        ax : matplotlib Axes, default=None

        Returns
        -------
        ReliabilityDisplay
        """
        distiller, X = _fitted_classifier_and_input(
            estimator, X, "ReliabilityDisplay", draws="the calibration of predicted class probabilities"
        )
        probabilities = {"teacher": distiller.teacher_proba(X), "student": distiller.predict_proba(X)}
        return cls.from_predictions(y, probabilities, labels=distiller.classes_, n_bins=n_bins, ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (a new figure when None).

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        ReliabilityDisplay
        """
        ax = _axes(ax)
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        self.lines_ = {
            name: ax.plot(confidence, accuracy, marker="o", label=name)[0]
            for name, (confidence, accuracy) in self.curves.items()
        }
        ax.set_xlabel("confidence (probability of the predicted class)")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self


class GridSearchHeatmapDisplay:
    """Heatmap of a cross-validated score over two grid-search parameters (``T`` x ``alpha`` by default).

    When the search varied other parameters too, each cell shows the best score over them (the
    highest, as the search ranks candidates); the title names those parameters.

    A successive-halving search (:class:`~sklearn.model_selection.HalvingGridSearchCV`) scores a
    candidate once per iteration it survives, on more samples each time. Each cell then shows its
    candidates' last score (the one on the most resources), and of several candidates the one that
    went furthest (then the highest); each cell is annotated with its ``n_resources``, which differ
    between cells that were dropped at different iterations.

    Parameters
    ----------
    scores : ndarray of shape (n_y_values, n_x_values)
        Best score over the other parameters for each pair (NaN where a pair was not searched).
    x_values, y_values : ndarray
    x_label, y_label : str
    score_name : str, default=None
        The ``cv_results_`` key drawn (``"mean_test_accuracy"``); shown in the title when given.
    best_over : list of str, default=()
        The other searched parameters, each cell's best being taken over them; shown in the title.
    n_resources : ndarray of shape (n_y_values, n_x_values), default=None
        For a successive-halving search, the resources (``n_resources``) each cell's score was
        measured on; shown in each cell. NaN where a pair was not searched.

    Attributes
    ----------
    im_ : matplotlib AxesImage
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> from skdistill.display import GridSearchHeatmapDisplay
    >>> cv_results = {"param_T": [1, 1, 4, 4], "param_alpha": [0.0, 0.5, 0.0, 0.5],
    ...               "mean_test_score": [0.8, 0.7, 0.9, 0.6]}
    >>> GridSearchHeatmapDisplay.from_cv_results(cv_results).scores.tolist()
    [[0.8, 0.9], [0.7, 0.6]]
    """

    def __init__(
        self, scores, x_values, y_values, x_label, y_label, *, score_name=None, best_over=(), n_resources=None
    ):
        self.scores = scores
        self.x_values = x_values
        self.y_values = y_values
        self.x_label = x_label
        self.y_label = y_label
        self.score_name = score_name
        self.best_over = best_over
        self.n_resources = n_resources

    @classmethod
    def from_cv_results(cls, cv_results, *, x="T", y="alpha", score=None, ax=None):
        """Draw a score of a grid search over its parameters ``x`` and ``y``.

        Each cell is the best mean score (the highest) over the search's other parameters, if it
        varied any; the title then says so (``best over student__C``), and ``best_over`` lists them.
        For a successive-halving search (``cv_results_`` with ``n_resources``), a cell is its
        candidates' last score, of the candidate that went furthest, annotated with its ``n_resources``.

        Parameters
        ----------
        cv_results : dict or fitted search
            ``cv_results_`` of a fitted :class:`~sklearn.model_selection.GridSearchCV` (or any search
            with the same ``cv_results_``), or the fitted search itself.
        x, y : str, default="T", "alpha"
            Parameter names; a suffix is enough (``"T"`` finds ``distilledclassifier__T`` in a pipeline).
        score : str, default=None
            The score to draw: a name given in the search's ``scoring`` dict (``"fidelity"``) or a key of
            ``cv_results_`` (``"mean_test_fidelity"``). By default, ``"mean_test_score"`` for a search
            with one score; for a search with several, the one it refits on (``refit="accuracy"``) when
            the search itself is given. Otherwise a ``ValueError`` lists the scores to choose from.
        ax : matplotlib Axes, default=None

        Returns
        -------
        GridSearchHeatmapDisplay
        """
        refit = None
        if not isinstance(cv_results, Mapping):
            check_is_fitted(cv_results, "cv_results_")
            refit, cv_results = getattr(cv_results, "refit", None), cv_results.cv_results_
        score_key = _score_key(cv_results, score, refit)
        x_key, y_key = _param_key(cv_results, x), _param_key(cv_results, y)
        x_column, y_column = np.asarray(cv_results[x_key], dtype=object), np.asarray(cv_results[y_key], dtype=object)
        x_values = np.array(sorted(set(x_column.tolist())), dtype=object)
        y_values = np.array(sorted(set(y_column.tolist())), dtype=object)
        scores = np.full((len(y_values), len(x_values)), np.nan)
        # A halving search scores a candidate on more samples at each iteration it survives: a cell
        # takes the furthest candidate's last score (the search ranks on that), never a maximum over
        # scores measured on different numbers of samples.
        halving = "n_resources" in cv_results
        resources = np.asarray(cv_results["n_resources"], dtype=float) if halving else np.zeros(len(x_column))
        n_resources = np.full(scores.shape, np.nan)
        for x_value, y_value, value, used in zip(
            x_column, y_column, np.asarray(cv_results[score_key], dtype=float), resources
        ):
            i, j = y_values.tolist().index(y_value), x_values.tolist().index(x_value)
            if np.isnan(scores[i, j]) or (used, value) > (n_resources[i, j], scores[i, j]):
                scores[i, j], n_resources[i, j] = value, used
        best_over = [
            key.removeprefix("param_")
            for key in cv_results
            if key.startswith("param_") and key not in (x_key, y_key) and _varies(cv_results[key])
        ]
        display = cls(
            scores,
            x_values,
            y_values,
            x_key.removeprefix("param_"),
            y_key.removeprefix("param_"),
            score_name=score_key,
            best_over=best_over,
            n_resources=n_resources if halving else None,
        )
        return display.plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw on ``ax`` (a new figure when None).

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        GridSearchHeatmapDisplay
        """
        ax = _axes(ax)
        self.im_ = ax.imshow(self.scores, cmap="viridis", origin="lower", aspect="auto")
        for i in range(self.scores.shape[0]):
            for j in range(self.scores.shape[1]):
                if not np.isnan(self.scores[i, j]):
                    text = f"{self.scores[i, j]:.3f}"
                    if self.n_resources is not None:
                        text += f"\nn={self.n_resources[i, j]:g}"
                    ax.text(j, i, text, ha="center", va="center", color="white")
        ax.set_xticks(np.arange(len(self.x_values)), [str(v) for v in self.x_values])
        ax.set_yticks(np.arange(len(self.y_values)), [str(v) for v in self.y_values])
        ax.set_xlabel(self.x_label)
        ax.set_ylabel(self.y_label)
        title = [self.score_name] if self.score_name else []
        if self.best_over:
            title.append(f"best over {', '.join(self.best_over)}")
        if self.n_resources is not None:
            title.append("each cell's last halving iteration (n = its n_resources)")
        ax.set_title("\n".join(title))
        ax.figure.colorbar(self.im_, ax=ax)
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _score_key(cv_results, score, refit):
    """The ``cv_results`` key of the score to draw (see ``GridSearchHeatmapDisplay.from_cv_results``)."""
    names = [key.removeprefix("mean_test_") for key in cv_results if key.startswith("mean_test_")]
    if score is None:
        if "mean_test_score" in cv_results:
            return "mean_test_score"
        if isinstance(refit, str) and f"mean_test_{refit}" in cv_results:
            return f"mean_test_{refit}"
        raise ValueError(
            f"The search has several scores, {names}; pass score= one of them (or pass the fitted search "
            "itself with refit= naming one, to draw that one)."
        )
    for key in (score, f"mean_test_{score}"):
        if key in cv_results:
            return key
    raise ValueError(f"score={score!r} is not a score of this search; its scores are {names}.")


def _varies(column):
    """Whether a ``param_*`` column of ``cv_results`` takes more than one value (a masked entry counts as one)."""
    if isinstance(column, np.ma.MaskedArray):
        column = [None if masked else repr(value) for value, masked in zip(column.data, np.ma.getmaskarray(column))]
    else:
        column = [repr(value) for value in column]
    return len(set(column)) > 1


def _param_key(cv_results, name):
    """The ``param_*`` key of ``cv_results`` for ``name`` (exact, or ending in ``__name``)."""
    matches = [
        key for key in cv_results if key == f"param_{name}" or (key.startswith("param_") and key.endswith(f"__{name}"))
    ]
    if len(matches) != 1:
        searched = [key.removeprefix("param_") for key in cv_results if key.startswith("param_")]
        raise ValueError(f"Parameter {name!r} must match exactly one searched parameter; searched: {searched}.")
    return matches[0]
