"""The rounds of an active transfer set (:class:`~skdistill.augment.ActiveSampler`): fit, propose, query, refit.

The distiller hands in what only it knows, as functions: how to fit the student on some synthetic rows
and the teacher's outputs on them, how to read the student's and the teacher's outputs as comparable
arrays (class probabilities, or values), and how to ask the teacher. This module decides which rows
to ask about.
"""

import numpy as np

from .metrics import _kl_per_row, _total_variation_per_row

# Probabilities are floored here in KL(teacher || student), so a student's hard 0 gives a large, finite score.
_SMALLEST_PROBABILITY = 1e-12


def disagreement(measure, teacher, student, scale=None):
    """Row-wise disagreement between ``teacher`` and ``student`` outputs of shape (n_rows, n_outputs).

    Parameters
    ----------
    measure : {"kl", "tv", "squared"}
    teacher, student : ndarray of shape (n_rows, n_outputs)
        Class probabilities (``"kl"``, ``"tv"``), or any outputs (``"squared"``).
    scale : ndarray of shape (n_outputs,), default=None
        ``"squared"`` divides each output's difference by it.

    Returns
    -------
    ndarray of shape (n_rows,)
        Non-negative.
    """
    if measure == "kl":
        return np.maximum(_kl_per_row(teacher, student, floor=_SMALLEST_PROBABILITY), 0.0)
    if measure == "tv":
        return _total_variation_per_row(teacher, student)
    difference = teacher - student if scale is None else (teacher - student) / scale
    return (difference**2).sum(axis=1)


def fit_in_rounds(sampler, budget, X_train, teacher_on_train, *, fit, student_view, teacher_view, query,
                  regression, random_state):
    """Run the sampler's rounds; return the last fitted student and the synthetic rows with their outputs.

    Parameters
    ----------
    sampler : ActiveSampler
    budget : int
        Teacher queries in all.
    X_train : ndarray of shape (n_rows, n_features)
        The training rows (of positive weight) candidates are made from.
    teacher_on_train : ndarray of shape (n_rows, n_outputs)
        ``teacher_view`` of the teacher's outputs on ``X_train``.
    fit : callable
        ``fit(rows, outputs)``: the student fitted on the training data plus these synthetic rows and
        the teacher's raw outputs on them (both None before the first round).
    student_view : callable
        ``student_view(fitted, rows)``: the fitted student's outputs, comparable with ``teacher_view``.
    teacher_view : callable
        ``teacher_view(outputs)``: the teacher's raw outputs as class probabilities, or values.
    query : callable
        ``query(rows, round_number, n_rounds)``: the teacher's raw outputs on ``rows``.
    regression : bool
    random_state : numpy.random.RandomState

    Returns
    -------
    fitted : the student fitted after the last round
    rows : ndarray of shape (budget, n_features)
    outputs : ndarray of shape (budget, n_raw_outputs)
    """
    sizes = sampler.round_sizes(budget)
    measure = sampler.measure(regression)
    scale = None
    if measure == "squared":
        scale = teacher_on_train.std(axis=0)
        scale[scale == 0] = 1.0  # an output the teacher never varies: differences count as they are
    rows, outputs = [], []
    fitted = fit(None, None)
    for round_number, size in enumerate(sizes, start=1):
        # Source rows: the more the student disagrees with the teacher on a training row, the likelier;
        # the mean added keeps every row possible (half the draws are as good as uniform).
        on_train = disagreement(measure, teacher_on_train, student_view(fitted, X_train), scale)
        seed_weight = on_train + (on_train.mean() if on_train.any() else 1.0)
        candidates, seeds, neighbours, swapped_share = sampler.propose(
            X_train, seed_weight, size * sampler.pool_size, random_state
        )
        # The teacher is not asked about candidates: its outputs at the two source rows, mixed as the
        # candidate's features were, stand in for them.
        share = swapped_share[:, None]
        teacher_guess = (1.0 - share) * teacher_on_train[seeds] + share * teacher_on_train[neighbours]
        estimated = disagreement(measure, teacher_guess, student_view(fitted, candidates), scale)
        chosen = candidates[_select(sampler.selection, estimated, size, random_state)]
        rows.append(chosen)
        outputs.append(query(chosen, round_number, len(sizes)))
        fitted = fit(np.concatenate(rows), np.concatenate(outputs))
    return fitted, np.concatenate(rows), np.concatenate(outputs)


def _select(selection, estimated, size, random_state):
    """Indices of ``size`` candidates to ask the teacher about, by their estimated disagreement."""
    if selection == "top":
        # Ties (e.g. all 0) are broken at random, not by position.
        return np.lexsort((random_state.uniform(size=len(estimated)), -estimated))[:size]
    # "proportional": drawn without replacement with probability growing with the disagreement; the
    # mean added keeps every candidate possible, so the rows also cover where the guess was wrong.
    weight = estimated + (estimated.mean() if estimated.any() else 1.0)
    return random_state.choice(len(estimated), size=size, replace=False, p=weight / weight.sum())
