"""scikit-learn's HistGradientBoostingClassifier trained on the soft cross-entropy, at the cost of one fit.

Gradient boosting needs only the gradient ``p - q`` and hessian ``p (1 - p)`` of the soft
cross-entropy. scikit-learn offers no public way to give them, so the options were:

1. **A loss object through the ``loss`` parameter (chosen).** ``HistGradientBoostingClassifier``
   accepts an instance of its private ``sklearn._loss.loss.BaseLoss`` as ``loss`` (its
   ``_parameter_constraints`` say so) and calls ``gradient_hessian`` and ``fit_intercept_only`` on it,
   with every training row in order when there is no validation split. A subclass of its own
   ``HalfBinomialLoss`` / ``HalfMultinomialLoss`` that reads the soft labels by row position gives
   the exact soft gradients, the intercept is the log of the soft class prior (as for hard labels),
   and everything else (binning, histograms, tree growing, parameters, threads) is scikit-learn's
   own fit: the cost is one fit. The labels passed to ``fit`` only fix ``classes_`` and the number
   of trees per iteration (every class appears once at least); the loss ignores them. After the
   fit the loss is swapped back for the standard one, so the student is a plain, picklable
   ``HistGradientBoostingClassifier`` (``loss="log_loss"``) whose ``predict_proba`` is the softmax
   of its raw scores. It touches private API (the loss classes, ``_loss``, ``_get_loss``), so it
   is guarded by the scikit-learn versions it was written against and by a check that ``loss``
   still takes a ``BaseLoss``; outside them the ``"sample_weight"`` route trains the student.
2. **A subclass overriding ``_get_loss`` (and ``_encode_y``).** The same private loss API plus two
   private methods, and the fitted student is our subclass rather than scikit-learn's class
   (pickles and skops files then name our class). More private surface for the same result.
3. **One ``HistGradientBoostingRegressor`` per class and round, fitted to ``-g / h`` with weights
   ``h``** (a Newton step with public API only). Each fit bins X again and pays its own start-up:
   ``max_iter * n_classes`` fits, far above the 2x budget (500 fits for 50 rounds of 10 classes).
4. **Expanded rows** (one per (row, class), weighted by ``q``): public API, but ``n_classes`` times
   the rows; this is the ``"sample_weight"`` route, kept as the fallback.

Early stopping would validate on a split whose rows the loss cannot find by position (and whose soft
labels it does not have): ``early_stopping="auto"`` is turned off and ``True`` refused, as on the
``"sample_weight"`` route. ``class_weight`` is folded exactly into the soft labels and row weights; ``"balanced"`` counts rows,
not their sample weights, as the estimator does for hard labels.
"""

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier

from ._soft_boosting import _version
from ._soft_class_weight import fold_class_weights, student_class_weights

try:
    from sklearn._loss.loss import BaseLoss, HalfBinomialLoss, HalfMultinomialLoss
except ImportError:  # moved in a later scikit-learn: the route refuses, "sample_weight" trains the student
    BaseLoss = None
    HalfBinomialLoss = HalfMultinomialLoss = object

__all__ = ["fit_soft_hist_boosting", "why_hist_boosting_refused"]

# The scikit-learn versions whose HistGradientBoostingClassifier.fit this module was written against:
# it passes every training row, in order, to loss.gradient_hessian(y_true, raw_prediction,
# sample_weight, gradient_out, hessian_out, n_threads) and takes loss.fit_intercept_only as the start.
_VERIFIED_SKLEARN = ((1, 6), (1, 9))


def why_hist_boosting_refused(estimator):
    """Why ``estimator`` cannot be trained on the soft loss by this module (a sentence), or None."""
    if not isinstance(estimator, HistGradientBoostingClassifier):
        return f"{type(estimator).__name__} is not a HistGradientBoostingClassifier"
    version = _version(sklearn.__version__)
    low, high = _VERIFIED_SKLEARN
    if not low <= version <= high or BaseLoss is None:
        return (
            f"scikit-learn {sklearn.__version__} is outside the versions ({'.'.join(map(str, low))} to "
            f"{'.'.join(map(str, high))}) whose private loss API it uses"
        )
    if BaseLoss not in HistGradientBoostingClassifier._parameter_constraints.get("loss", ()):
        return f"scikit-learn {sklearn.__version__}'s HistGradientBoostingClassifier takes no loss object"
    if estimator.get_params(deep=False).get("loss") != "log_loss":
        return f"its loss={estimator.loss!r} is not 'log_loss', the cross-entropy soft labels train"
    return None


def fit_soft_hist_boosting(estimator, X, soft_labels, classes, sample_weight=None):
    """Fit a clone of ``estimator`` on the soft cross-entropy of ``soft_labels``, in one fit.

    Parameters
    ----------
    estimator : HistGradientBoostingClassifier
        Accepted by :func:`why_hist_boosting_refused`, without early stopping.
    X : array-like of shape (n_samples, n_features)
        At least ``n_classes`` rows.
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
        At least two.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    HistGradientBoostingClassifier
        A fitted clone with ``loss="log_loss"``; its ``classes_`` are ``classes``, sorted.
    """
    order = np.argsort(classes, kind="stable")  # fit sorts the labels: the columns must follow
    classes, soft_labels = np.asarray(classes)[order], np.asarray(soft_labels, dtype=np.float64)[:, order]
    n_samples, n_classes = soft_labels.shape
    fitted = clone(estimator)
    multipliers = student_class_weights(fitted, soft_labels, classes, sample_weight)
    soft_labels, row_weight = fold_class_weights(multipliers, soft_labels, sample_weight)
    if row_weight is not None:
        row_weight = np.asarray(row_weight, dtype=np.float64)

    if n_classes == 2:
        loss = _SoftBinomialLoss(soft_labels[:, 1], row_weight)
    else:
        loss = _SoftMultinomialLoss(soft_labels, row_weight, n_classes)
    params = {"loss": loss, "class_weight": None}
    if fitted.early_stopping == "auto":
        params["early_stopping"] = False  # a validation split would take rows the loss finds by position
    fitted.set_params(**params)
    # Stand-in labels: every class at least once, so that classes_ and the trees per iteration are right.
    stand_in = np.asarray(classes)[np.arange(n_samples) % n_classes]
    fitted.fit(X, stand_in, sample_weight=row_weight)

    fitted.set_params(loss="log_loss")
    fitted._loss = fitted._get_loss(sample_weight=None)  # the standard loss: no soft labels kept
    return fitted


class _SoftBinomialLoss(HalfBinomialLoss):
    """scikit-learn's binomial loss, whose labels are the soft ones (its formulas take any y in [0, 1])."""

    def __init__(self, soft_positive, row_weight):
        super().__init__(sample_weight=row_weight)
        self.soft_positive = np.ascontiguousarray(soft_positive, dtype=np.float64)

    def fit_intercept_only(self, y_true, sample_weight=None):
        return super().fit_intercept_only(self.soft_positive, sample_weight)

    def gradient_hessian(self, y_true, raw_prediction, sample_weight=None, gradient_out=None, hessian_out=None, n_threads=1):
        _check_rows(raw_prediction, self.soft_positive)
        return super().gradient_hessian(
            self.soft_positive, raw_prediction, sample_weight, gradient_out, hessian_out, n_threads
        )


class _SoftMultinomialLoss(HalfMultinomialLoss):
    """scikit-learn's multinomial loss with soft labels: gradient ``w (p - q)``, hessian ``w p (1 - p)``.

    scikit-learn's own (compiled, threaded) code computes ``w (p - onehot(0))`` and ``w p (1 - p)``
    for stand-in labels 0; the gradient is then corrected to ``w (p - q)``.
    """

    def __init__(self, soft_labels, row_weight, n_classes):
        super().__init__(sample_weight=row_weight, n_classes=n_classes)
        self.soft_labels = soft_labels
        self.first_class = np.zeros(len(soft_labels))

    def fit_intercept_only(self, y_true, sample_weight=None):
        prior = np.average(self.soft_labels, axis=0, weights=sample_weight)
        log_prior = np.log(np.clip(prior, np.finfo(np.float64).eps, None))  # as scikit-learn clips, for hard labels
        return log_prior - log_prior.mean()

    def gradient_hessian(self, y_true, raw_prediction, sample_weight=None, gradient_out=None, hessian_out=None, n_threads=1):
        _check_rows(raw_prediction, self.soft_labels)
        gradient, hessian = super().gradient_hessian(
            self.first_class, raw_prediction, sample_weight, gradient_out, hessian_out, n_threads
        )
        if sample_weight is None:
            gradient[:, 0] += 1.0
            gradient -= self.soft_labels
        else:
            gradient[:, 0] += sample_weight
            gradient -= self.soft_labels * sample_weight[:, None]
        return gradient, hessian


def _check_rows(raw_prediction, soft_labels):
    if len(raw_prediction) != len(soft_labels):
        raise RuntimeError(
            f"HistGradientBoostingClassifier passed {len(raw_prediction)} rows to the soft loss, which has soft "
            f"labels for {len(soft_labels)}: this scikit-learn version splits the rows differently. Use "
            "route='sample_weight'."
        )
