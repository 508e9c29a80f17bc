"""Transfer-set augmentation: synthetic rows for the teacher to label, made from the training rows.

A teacher can label far more data than there are labels. ``DistilledClassifier(augment=...)``
generates rows inside ``fit`` (so under cross-validation only from the training fold), the teacher
labels them, and the student learns the teacher's function on and around the data, not only at the
training points. :class:`ActiveSampler` spends the same number of teacher queries in rounds, on
rows near the training rows where the student still seems to disagree with the teacher.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["ActiveSampler", "GaussianNoise", "Mixup", "Munge", "as_augmenter"]


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
        neighbour = nearest_other_row(X, "Munge")
        rows = random_state.randint(len(X), size=n_samples)
        return munge_rows(X, rows, neighbour[rows], self.p, self.s, random_state)[0]


def nearest_other_row(X, who):
    """For each row of ``X``, the index of its nearest other row (Euclidean)."""
    if len(X) < 2:
        raise ValueError(f"{who} needs at least 2 training rows to find neighbours; got {len(X)}.")
    # The first neighbour of a row is the row itself.
    return NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X, return_distance=False)[:, 1]


def munge_rows(X, rows, neighbours, p, s, random_state):
    """MUNGE rows from ``X[rows]`` and their neighbours ``X[neighbours]``, and the share of features swapped.

    Returns
    -------
    synthetic : ndarray of shape (len(rows), n_features)
    swapped_share : ndarray of shape (len(rows),)
        The share of each row's features drawn around the neighbour rather than kept from the row.
    """
    base, other = X[rows], X[neighbours]
    swapped = random_state.uniform(size=base.shape) < p
    jitter = random_state.normal(size=base.shape) * (np.abs(base - other) / s)
    return np.where(swapped, other + jitter, base), swapped.mean(axis=1)


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


class ActiveSampler(BaseEstimator):
    """Active transfer set: synthetic rows where the student still disagrees with the teacher.

    ``DistilledClassifier(augment=ActiveSampler())`` (or ``augment="active"``) spends the budget of
    ``augment_size`` teacher queries over ``n_rounds`` rounds. Before the first round the student is
    fitted on the training rows. Each round then:

    1. draws ``pool_size`` times the round's queries as MUNGE candidates (see :class:`Munge`) around
       training rows, each row drawn with a probability that grows with the student's disagreement
       with the teacher on it;
    2. estimates the disagreement at each candidate without asking the teacher: between the student's
       prediction there and the teacher's known outputs at the candidate's two source rows, mixed in
       the proportion of features the candidate took from each;
    3. asks the teacher about the round's share of the budget, chosen among the candidates by their
       estimated disagreement (see ``selection``), adds them to the transfer set and refits the
       student on everything.

    The teacher is therefore asked about ``augment_size`` synthetic rows in all, as with the other
    augmenters, and the student is fitted ``n_rounds + 1`` times. Everything happens inside ``fit``,
    from the training rows of positive weight only, so under cross-validation a fold's synthetic rows
    come from its own training rows; ``random_state`` of the distiller makes it reproducible.

    Parameters
    ----------
    n_rounds : int, default=4
        Rounds of query-and-refit. ``augment_size`` must give each round at least one query.
    pool_size : int, default=10
        Candidates drawn per query: each round keeps the best ``1 / pool_size`` of its candidates.
        ``1`` makes it plain MUNGE with re-weighted source rows.
    selection : {"proportional", "top"}, default="proportional"
        Which candidates the teacher is asked about: ``"top"``, those of highest estimated
        disagreement; ``"proportional"``, a draw without replacement with probability proportional
        to the estimated disagreement plus its mean, so that candidates where the estimate is wrong
        are also asked about. ``"proportional"`` gave higher fidelity than ``"top"`` in most of the
        cases measured (see the user guide).
    disagreement : {"auto", "kl", "tv", "squared"}, default="auto"
        How disagreement is measured: ``"kl"``, ``KL(teacher || student)`` of the class probabilities
        (the teacher's at the distiller's temperature ``T``); ``"tv"``, their total variation
        distance; ``"squared"``, the squared difference, each output scaled by the teacher's standard
        deviation on the training rows. ``"auto"`` is ``"kl"`` for classification and
        ``"squared"`` for regression, where ``"kl"`` and ``"tv"`` do not apply.
    p : float, default=0.5
        MUNGE's probability of swapping each feature (see :class:`Munge`).
    s : float, default=1.0
        MUNGE's local variance parameter (see :class:`Munge`).

    See Also
    --------
    Munge : The candidates' generator, used alone by ``augment="munge"``.

    Notes
    -----
    Related to adversarial distillation, which searches for inputs that maximise the student's
    disagreement with the teacher (for example by gradient ascent through both networks). This form
    needs no gradient, so it serves every teacher and student. It concentrates queries near the
    student's errors; where the student already matches the teacher everywhere near the data (a
    student as flexible as the teacher), it gains nothing over ``"munge"`` and costs
    ``n_rounds`` extra student fits.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.augment import ActiveSampler
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = RandomForestClassifier(random_state=0).fit(X, y)
    >>> model = DistilledClassifier(
    ...     teacher, DecisionTreeClassifier(max_depth=3), augment=ActiveSampler(n_rounds=3),
    ...     augment_size=300, random_state=0,
    ... ).fit(X, y)
    >>> model.fidelity(X) > 0.9
    True
    """

    _parameter_constraints = {
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "selection": [StrOptions({"proportional", "top"})],
        "disagreement": [StrOptions({"auto", "kl", "tv", "squared"})],
        "p": [Interval(Real, 0, 1, closed="both")],
        "s": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_rounds=4, pool_size=10, selection="proportional", disagreement="auto", p=0.5, s=1.0):
        self.n_rounds = n_rounds
        self.pool_size = pool_size
        self.selection = selection
        self.disagreement = disagreement
        self.p = p
        self.s = s

    def round_sizes(self, budget):
        """The number of teacher queries of each round: ``budget`` split as evenly as it goes.

        Parameters
        ----------
        budget : int
            Teacher queries in all (the distiller's ``augment_size``, in rows).

        Returns
        -------
        list of int
            ``n_rounds`` sizes summing to ``budget``, each at least 1.
        """
        self._validate_params()
        if budget < self.n_rounds:
            raise ValueError(
                f"ActiveSampler(n_rounds={self.n_rounds}) needs a budget of at least one teacher query per round, "
                f"but augment_size gives {budget} synthetic row(s) in all. Raise augment_size to at least "
                f"{self.n_rounds} rows, or lower n_rounds."
            )
        return [len(part) for part in np.array_split(np.arange(budget), self.n_rounds)]

    def measure(self, regression):
        """The name of the disagreement measure used for this task.

        Parameters
        ----------
        regression : bool
            Whether the distiller is a regressor.

        Returns
        -------
        {"kl", "tv", "squared"}
        """
        self._validate_params()
        if self.disagreement == "auto":
            return "squared" if regression else "kl"
        if regression and self.disagreement in ("kl", "tv"):
            raise ValueError(
                f"ActiveSampler(disagreement={self.disagreement!r}) compares class probabilities, but a regressor's "
                "teacher and student predict values. Use disagreement='squared' (or 'auto')."
            )
        return self.disagreement

    def propose(self, X, seed_weight, n_candidates, random_state):
        """MUNGE candidates around training rows drawn with probability proportional to ``seed_weight``.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
            The training rows.
        seed_weight : ndarray of shape (n_rows,)
            Non-negative; at least one positive.
        n_candidates : int
        random_state : numpy.random.RandomState

        Returns
        -------
        candidates : ndarray of shape (n_candidates, n_features)
        seeds, neighbours : ndarray of shape (n_candidates,)
            The two training rows each candidate was made from.
        swapped_share : ndarray of shape (n_candidates,)
            The share of each candidate's features taken around ``neighbours`` rather than ``seeds``.
        """
        self._validate_params()
        neighbour = nearest_other_row(X, "ActiveSampler")
        seeds = random_state.choice(len(X), size=n_candidates, p=seed_weight / seed_weight.sum())
        candidates, swapped_share = munge_rows(X, seeds, neighbour[seeds], self.p, self.s, random_state)
        return candidates.astype(X.dtype, copy=False), seeds, neighbour[seeds], swapped_share


class _CallableAugmenter:
    """A user's function ``f(X, n_samples, random_state) -> rows`` as an augmenter."""

    def __init__(self, function):
        self.function = function

    def sample(self, X, n_samples, random_state):
        return self.function(X, n_samples, random_state)


AUGMENTERS = {"noise": GaussianNoise, "munge": Munge, "mixup": Mixup, "active": ActiveSampler}


def as_augmenter(augment):
    """An object with ``sample(X, n_samples, random_state)``, or None.

    Parameters
    ----------
    augment : {"noise", "munge", "mixup", "active"}, augmenter, ActiveSampler, callable or None
        A name (default settings), an object with ``sample`` or an :class:`ActiveSampler` (cloned), or a function
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
    if hasattr(augment, "sample") or isinstance(augment, ActiveSampler):
        return clone(augment, safe=False)
    return _CallableAugmenter(augment)
