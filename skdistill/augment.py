"""Transfer-set augmentation: synthetic rows for the teacher to label, made from the training rows.

A teacher can label far more data than there are labels. ``DistilledClassifier(augment=...)``
generates rows inside ``fit`` (so under cross-validation only from the training fold), the teacher
labels them, and the student learns the teacher's function on and around the data, not only at the
training points.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval

__all__ = ["GaussianNoise", "Mixup", "Munge", "as_augmenter"]


class GaussianNoise(BaseEstimator):
    """Training rows plus Gaussian jitter scaled per feature.

    Parameters
    ----------
    scale : float, default=0.1
        Standard deviation of the noise, as a fraction of each feature's standard deviation.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.augment import GaussianNoise
    >>> X = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]])
    >>> GaussianNoise(scale=0.1).sample(X, 5, np.random.RandomState(0)).shape
    (5, 2)
    """

    _parameter_constraints = {"scale": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, scale=0.1):
        self.scale = scale

    def sample(self, X, n_samples, random_state):
        """``n_samples`` new rows: random training rows plus ``N(0, (scale * std_j)**2)`` on feature j.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        n_samples : int
        random_state : numpy.random.RandomState

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        self._validate_params()
        base = X[random_state.randint(len(X), size=n_samples)]
        return base + random_state.normal(size=base.shape) * (self.scale * X.std(axis=0))


class Munge(BaseEstimator):
    """MUNGE (Bucilă, Caruana & Niculescu-Mizil, 2006): swap-and-jitter with each row's nearest neighbour.

    For a random training row ``e`` and its nearest other row ``e'``, each feature ``a`` is, with
    probability ``p``, replaced by a draw from ``N(e'_a, |e_a - e'_a| / s)``; otherwise it keeps
    ``e_a``. Synthetic rows stay close to the data manifold.

    Parameters
    ----------
    p : float, default=0.5
        Probability of swapping each feature.
    s : float, default=1.0
        Local variance parameter: larger values give tighter jitter.

    References
    ----------
    .. [1] C. Bucilă, R. Caruana and A. Niculescu-Mizil, "Model Compression", KDD 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.augment import Munge
    >>> X = np.random.RandomState(0).normal(size=(20, 3))
    >>> Munge().sample(X, 7, np.random.RandomState(0)).shape
    (7, 3)
    """

    _parameter_constraints = {
        "p": [Interval(Real, 0, 1, closed="both")],
        "s": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, p=0.5, s=1.0):
        self.p = p
        self.s = s

    def sample(self, X, n_samples, random_state):
        """``n_samples`` MUNGE rows.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
            At least 2 rows.
        n_samples : int
        random_state : numpy.random.RandomState

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        self._validate_params()
        if len(X) < 2:
            raise ValueError(f"Munge needs at least 2 training rows to find neighbours; got {len(X)}.")
        # The nearest row other than itself (the first neighbour of a row is the row).
        neighbour = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X, return_distance=False)[:, 1]
        rows = random_state.randint(len(X), size=n_samples)
        base, other = X[rows], X[neighbour[rows]]
        swapped = random_state.uniform(size=base.shape) < self.p
        jitter = random_state.normal(size=base.shape) * (np.abs(base - other) / self.s)
        return np.where(swapped, other + jitter, base)


class Mixup(BaseEstimator):
    """Mixup (Zhang et al., 2018): convex combinations ``lam * x_i + (1 - lam) * x_j`` of random rows.

    Parameters
    ----------
    alpha : float, default=0.4
        ``lam`` is drawn from ``Beta(alpha, alpha)``: small values keep rows near the originals.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill.augment import Mixup
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> rows = Mixup().sample(X, 4, np.random.RandomState(0))
    >>> bool(((rows >= 0) & (rows <= 1)).all())
    True
    """

    _parameter_constraints = {"alpha": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, alpha=0.4):
        self.alpha = alpha

    def sample(self, X, n_samples, random_state):
        """``n_samples`` mixed rows.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        n_samples : int
        random_state : numpy.random.RandomState

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        self._validate_params()
        first = X[random_state.randint(len(X), size=n_samples)]
        second = X[random_state.randint(len(X), size=n_samples)]
        lam = random_state.beta(self.alpha, self.alpha, size=(n_samples, 1))
        return lam * first + (1.0 - lam) * second


class _CallableAugmenter:
    """A user's function ``f(X, n_samples, random_state) -> rows`` as an augmenter."""

    def __init__(self, function):
        self.function = function

    def sample(self, X, n_samples, random_state):
        return self.function(X, n_samples, random_state)


AUGMENTERS = {"noise": GaussianNoise, "munge": Munge, "mixup": Mixup}


def as_augmenter(augment):
    """An object with ``sample(X, n_samples, random_state)``, or None.

    Parameters
    ----------
    augment : {"noise", "munge", "mixup"}, augmenter, callable or None
        A name (default settings), an object with ``sample`` (cloned), or a function
        ``f(X, n_samples, random_state)`` returning an array of shape (n_samples, n_features).

    Returns
    -------
    object or None

    Examples
    --------
    >>> from skdistill.augment import as_augmenter
    >>> as_augmenter("munge")
    Munge()
    """
    if augment is None:
        return None
    if isinstance(augment, str):
        if augment not in AUGMENTERS:
            raise ValueError(f"augment={augment!r} is not one of {sorted(AUGMENTERS)}, an augmenter or a callable.")
        return AUGMENTERS[augment]()
    if hasattr(augment, "sample"):
        return clone(augment, safe=False)
    return _CallableAugmenter(augment)
