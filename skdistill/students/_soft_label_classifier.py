"""What the classifiers that learn soft labels through ``fit_soft`` share: ``fit`` on hard labels and ``predict``."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data


class SoftLabelClassifier(ClassifierMixin, BaseEstimator):
    """A classifier trained by ``fit_soft(X, soft_labels, classes, sample_weight)``; subclasses define it
    and ``predict_proba``.

    ``fit`` on hard labels is ``fit_soft`` on their one-hot rows, so the class is a complete
    scikit-learn classifier too.
    """

    # Extra arguments of validate_data (a booster takes NaN and sparse input).
    _validation = {}
    # Whether fit refuses y of a single class (a booster cannot train a softmax on one class).
    _needs_two_classes = False

    def fit(self, X, y, sample_weight=None):
        """Fit on hard labels: :meth:`fit_soft` on their one-hot rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : estimator
            The fitted classifier.
        """
        X_checked, y = validate_data(self, X, y, **self._validation)
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X_checked)
        classes, y_index = np.unique(y, return_inverse=True)
        if self._needs_two_classes and len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes in y; it got {classes.tolist()!r}.")
        return self.fit_soft(as_given_or_checked(X, X_checked), np.eye(len(classes))[y_index], classes, sample_weight)

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]


def as_given_or_checked(X, X_checked):
    """A DataFrame as given (the model inside keeps its column names and categories), anything else as validated."""
    return X if hasattr(X, "iloc") else X_checked
