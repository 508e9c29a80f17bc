"""The teacher-output cache: the teacher scores each dataset once, and a changed teacher or dataset never hits."""

import ctypes
import os
import pickle
import sys
import types
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skdistill import (
    DistilledClassifier,
    MLPStudent,
    TorchTeacher,
    clear_teacher_cache,
    set_teacher_cache_limits,
    teacher_cache_info,
)
from skdistill.metrics import fidelity_scorer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class RowLoggingTeacher(torch.nn.Module):
    """A linear teacher that appends the id (column 0) of every row it scores to a file.

    The log lives in a file, not in the module, so that logging does not change the module (and its
    cache key), and so that worker processes of a parallel grid search can log too.
    """

    def __init__(self, n_features, n_classes, log_path):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.log_path = str(log_path)

    def forward(self, x):
        ids = " ".join(str(int(i)) for i in x[:, 0].tolist())
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (ids + "\n").encode())  # one O_APPEND write: atomic across processes
        finally:
            os.close(fd)
        return self.linear(x)


def rows_scored(log_path, n_rows):
    """How many times the teacher scored each row id."""
    if not os.path.exists(log_path):
        return np.zeros(n_rows, dtype=int)
    with open(log_path) as log:
        ids = [int(i) for line in log for i in line.split()]
    return np.bincount(np.array(ids, dtype=int), minlength=n_rows)


@pytest.fixture
def id_data():
    """(X, y) whose column 0 is the row id, so a logging teacher can tell which rows it scored."""
    X, y = make_classification(n_samples=200, n_features=5, n_informative=4, n_redundant=0, random_state=0)
    X = np.column_stack([np.arange(len(X)), X]).astype(np.float32)
    return X, y


def logging_teacher(tmp_path, seed=0):
    torch.manual_seed(seed)
    return RowLoggingTeacher(6, 2, tmp_path / "scored.log")


GRID = {"T": [1.0, 2.0, 4.0, 8.0], "alpha": [0.0, 0.1, 0.5, 0.9]}
N_FOLDS = 5


def small_student():
    return MLPStudent(hidden_layer_sizes=(4,), max_iter=3, random_state=0)


@pytest.mark.parametrize("n_jobs, on_disk", [(1, False), (2, True)])
def test_a_grid_search_scores_each_training_row_at_most_once_per_fold_plus_the_refit(
    id_data, tmp_path, n_jobs, on_disk
):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    memory = str(tmp_path / "cache") if on_disk else None
    search = GridSearchCV(DistilledClassifier(teacher, small_student(), memory=memory), GRID, cv=N_FOLDS, n_jobs=n_jobs)
    search.fit(X, y)
    counts = rows_scored(teacher.log_path, len(X))
    # Each row is in the training part of 4 folds, plus the refit: 5 passes, at most folds + 1.
    assert counts.max() <= N_FOLDS + 1
    assert counts.min() == N_FOLDS  # and every row was scored for each of its fits
    assert len(search.cv_results_["params"]) == 16


def test_without_the_cache_the_same_grid_scores_each_row_once_per_candidate(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    GridSearchCV(DistilledClassifier(teacher, small_student(), memory=False), GRID, cv=N_FOLDS).fit(X, y)
    # 16 candidates x 4 training folds per row + the refit: what the cache saves.
    assert (rows_scored(teacher.log_path, len(X)) == 16 * (N_FOLDS - 1) + 1).all()


def test_cached_and_uncached_fits_give_the_same_model(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    uncached = DistilledClassifier(teacher, small_student(), memory=False).fit(X, y)
    first = DistilledClassifier(teacher, small_student()).fit(X, y)
    second = DistilledClassifier(teacher, small_student(), T=2.0).fit(X, y)
    again = DistilledClassifier(teacher, small_student()).fit(X, y)
    assert rows_scored(teacher.log_path, len(X)).tolist() == [2] * len(X)  # uncached, then the first miss
    np.testing.assert_array_equal(uncached.predict_proba(X), again.predict_proba(X))
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert not np.allclose(first.predict_proba(X), second.predict_proba(X))  # T still matters
    assert teacher_cache_info().hits == 2


def test_changing_the_teachers_weights_in_place_misses(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    before = DistilledClassifier(teacher, small_student()).fit(X, y).teacher_proba(X)
    with torch.no_grad():
        teacher.linear.weight.mul_(-1.0)
        teacher.linear.bias.mul_(-1.0)
    after = DistilledClassifier(teacher, small_student()).fit(X, y).teacher_proba(X)
    assert rows_scored(teacher.log_path, len(X)).min() == 4  # fit + teacher_proba, twice
    np.testing.assert_allclose(after, before[:, ::-1], atol=1e-6)  # the new teacher's outputs, not the old


def test_changing_a_buffer_misses(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    teacher.register_buffer("version", torch.zeros(1))
    DistilledClassifier(teacher, small_student()).fit(X, y)
    teacher.version += 1
    DistilledClassifier(teacher, small_student()).fit(X, y)
    assert rows_scored(teacher.log_path, len(X)).min() == 2


def test_changing_the_teachers_code_misses(id_data, tmp_path, monkeypatch):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    DistilledClassifier(teacher, small_student()).fit(X, y)
    original_forward = RowLoggingTeacher.forward

    def forward_with_other_code(self, x):
        return -original_forward(self, x)

    monkeypatch.setattr(RowLoggingTeacher, "forward", forward_with_other_code)
    DistilledClassifier(teacher, small_student()).fit(X, y)
    assert rows_scored(teacher.log_path, len(X)).min() == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda X, y: (X[::-1].copy(), y[::-1].copy()), id="rows reordered"),
        pytest.param(lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, 0.5, X), y), id="one value"),
        pytest.param(lambda X, y: (X.astype(np.float64), y), id="dtype"),
        pytest.param(lambda X, y: (X, 1 - y), id="labels"),
    ],
)
def test_changing_the_data_misses(id_data, tmp_path, change):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    DistilledClassifier(teacher, small_student()).fit(X, y)
    DistilledClassifier(teacher, small_student()).fit(*change(X, y))
    assert teacher_cache_info().hits == 0
    assert rows_scored(teacher.log_path, len(X)).sum() == 2 * len(X)


def test_changing_an_adapter_parameter_that_changes_the_outputs_misses(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    plain = DistilledClassifier(TorchTeacher(teacher), small_student()).fit(X, y)
    relabelled = DistilledClassifier(TorchTeacher(teacher, classes=[1, 0]), small_student()).fit(X, y)
    assert teacher_cache_info().hits == 0
    np.testing.assert_allclose(plain.teacher_proba(X), relabelled.teacher_proba(X)[:, ::-1], atol=1e-12)


# An object: its attributes are not part of the cache key (a class attribute or a module-level number
# the code reads would be, and a counter there would make every fit miss).
FIT_COUNTER = types.SimpleNamespace(fits=0)


class CountingLogisticRegression(LogisticRegression):
    """Counts its fits in an object's attribute, which the cache key does not read."""

    def fit(self, X, y, sample_weight=None):
        FIT_COUNTER.fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_an_unfitted_teacher_is_fitted_once_per_fold_and_shared_by_the_candidates(id_data):
    X, y = id_data
    FIT_COUNTER.fits = 0
    student = LogisticRegression()
    search = GridSearchCV(DistilledClassifier(CountingLogisticRegression(), student), GRID, cv=N_FOLDS).fit(X, y)
    assert FIT_COUNTER.fits == N_FOLDS + 1
    # The refit's teacher is a fitted clone, not the user's estimator.
    assert not hasattr(search.estimator.teacher, "coef_")
    assert hasattr(search.best_estimator_.teacher_.estimator_, "coef_")


def test_a_teacher_fit_depends_on_sample_weight(id_data):
    X, y = id_data
    FIT_COUNTER.fits = 0
    weights = np.linspace(0.5, 2.0, len(X))
    DistilledClassifier(CountingLogisticRegression(), LogisticRegression()).fit(X, y)
    DistilledClassifier(CountingLogisticRegression(), LogisticRegression()).fit(X, y, sample_weight=weights)
    DistilledClassifier(CountingLogisticRegression(), LogisticRegression()).fit(X, y, sample_weight=weights)
    assert FIT_COUNTER.fits == 2
    # A different teacher hyper-parameter is a different teacher.
    DistilledClassifier(CountingLogisticRegression(C=0.1), LogisticRegression()).fit(X, y)
    assert FIT_COUNTER.fits == 3


def test_a_fidelity_scorer_reuses_the_teachers_outputs_on_held_out_folds(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    GridSearchCV(DistilledClassifier(teacher, small_student()), GRID, cv=N_FOLDS, scoring=fidelity_scorer).fit(X, y)
    # 4 training folds + 1 held-out fold + the refit, whatever the number of candidates.
    assert rows_scored(teacher.log_path, len(X)).max() <= N_FOLDS + 1


def test_a_disk_cache_outlives_the_process_cache(id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path)
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    first = DistilledClassifier(teacher, small_student(), memory=memory).fit(X, y)
    clear_teacher_cache()  # as in a new Python session
    second = DistilledClassifier(pickle.loads(pickle.dumps(teacher)), small_student(), memory=memory).fit(X, y)
    assert rows_scored(teacher.log_path, len(X)).tolist() == [1] * len(X)
    assert teacher_cache_info().hits == 1
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # A disk hit restores the adapter around the user's own module, not an unpickled copy of it.
    clear_teacher_cache()
    third = DistilledClassifier(teacher, small_student(), memory=memory).fit(X, y)
    assert teacher_cache_info().hits == 1 and teacher_cache_info().misses == 0
    assert third.teacher_.module is teacher


def test_cached_outputs_are_read_only(id_data, tmp_path):
    from skdistill import _cache
    from skdistill.teachers import TorchTeacher as Adapter

    X, y = id_data
    logits = _cache.fit_logits(Adapter(logging_teacher(tmp_path)), X, y, None, memory=None)
    with pytest.raises(ValueError, match="read-only"):
        logits[0, 0] = 1.0


def y_of(rng):
    return rng.randint(0, 2, size=200)


def test_memory_stays_bounded_over_many_datasets(tmp_path):
    teacher = logging_teacher(tmp_path)
    rng = np.random.RandomState(0)
    DistilledClassifier(teacher, LogisticRegression()).fit(rng.normal(size=(200, 6)).astype(np.float32), y_of(rng))
    entry_nbytes = teacher_cache_info().nbytes  # the logits and the adapter's fitted state of one fit
    set_teacher_cache_limits(max_bytes=10 * entry_nbytes, max_entries=1000)
    try:
        for _ in range(30):
            X = rng.normal(size=(200, 6)).astype(np.float32)
            DistilledClassifier(teacher, LogisticRegression()).fit(X, y_of(rng))
            info = teacher_cache_info()
            assert info.nbytes <= info.max_bytes
        assert info.entries == 10
        set_teacher_cache_limits(max_bytes=2**20, max_entries=3)
        assert teacher_cache_info().entries == 3
        set_teacher_cache_limits(max_entries=0)  # off
        DistilledClassifier(teacher, LogisticRegression()).fit(X, rng.randint(0, 2, size=200))
        assert teacher_cache_info().entries == 0
    finally:
        set_teacher_cache_limits()


def test_the_least_recently_used_entry_goes_first(tmp_path):
    teacher = logging_teacher(tmp_path)
    rng = np.random.RandomState(0)
    datasets = [(rng.normal(size=(50, 6)).astype(np.float32), np.arange(50) % 2) for _ in range(3)]
    set_teacher_cache_limits(max_entries=2)
    try:
        fit = lambda X, y: DistilledClassifier(teacher, LogisticRegression()).fit(X, y)  # noqa: E731
        fit(*datasets[0]), fit(*datasets[1]), fit(*datasets[0])  # 0 is now the most recently used
        fit(*datasets[2])  # evicts 1
        hits = teacher_cache_info().hits
        fit(*datasets[0])
        assert teacher_cache_info().hits == hits + 1
        fit(*datasets[1])
        assert teacher_cache_info().hits == hits + 1
    finally:
        set_teacher_cache_limits()


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_bad_cache_limits_are_refused(bad):
    with pytest.raises(ValueError, match="max_bytes must be a non-negative int"):
        set_teacher_cache_limits(max_bytes=bad)


# A notebook cell (or a script run as ``python script.py``): its classes live in ``__main__``, which
# joblib's workers cannot import, so they receive the class pickled by value, as a new object. Its
# forward reads a global and tests membership in a set literal, whose order of iteration depends on
# the process's string-hash seed.
NOTEBOOK_CELL = """
import os
import torch

SIGN = 1.0


def write_ids(log_path, x):
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (" ".join(str(int(i)) for i in x[:, 0].tolist()) + "\\n").encode())
    finally:
        os.close(fd)


class NotebookTeacher(torch.nn.Module):
    def __init__(self, log_path, output="logits"):
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(6, 2)
        self.log_path = str(log_path)
        self.output = output

    def forward(self, x):
        write_ids(self.log_path, x)
        scores = SIGN * self.linear(x)
        return scores if self.output in {"logits", "scores", "raw"} else scores.softmax(1)
"""


def notebook_namespace():
    """The globals of a fresh notebook session (``__name__ == "__main__"``) that ran NOTEBOOK_CELL."""
    namespace = {"__name__": "__main__"}
    exec(compile(NOTEBOOK_CELL, "<notebook cell>", "exec"), namespace)
    return namespace


def notebook_teacher(tmp_path):
    teacher = notebook_namespace()["NotebookTeacher"](tmp_path / "scored.log")
    assert type(teacher).__module__ == "__main__"
    return teacher


def local_teacher(tmp_path, sign=1.0):
    """A teacher whose class is defined in this function: ``<locals>`` in its name, no module attribute."""

    class LocalTeacher(RowLoggingTeacher):
        def forward(self, x):
            return sign * super().forward(x)

    torch.manual_seed(0)
    return LocalTeacher(6, 2, tmp_path / "scored.log")


SMALL_GRID = {"T": [1.0, 2.0, 4.0, 8.0]}  # more candidates than workers, so that workers share folds
SMALL_FOLDS = 3


@pytest.mark.parametrize("make_teacher", [notebook_teacher, local_teacher])
def test_a_notebook_or_local_teacher_is_cached_in_worker_processes_on_disk(id_data, tmp_path, make_teacher):
    X, y = id_data
    teacher = make_teacher(tmp_path)
    memory = str(tmp_path / "cache")
    search = GridSearchCV(
        DistilledClassifier(teacher, small_student(), memory=memory), SMALL_GRID, cv=SMALL_FOLDS, n_jobs=2
    )
    search.fit(X, y)
    counts = rows_scored(teacher.log_path, len(X))
    # Once per fold a row trains in, plus the refit (and at most one more when both workers miss the
    # same fold at once); uncached, it would be once per candidate and fold: 4 x 2 + 1 = 9.
    assert counts.min() == SMALL_FOLDS
    assert counts.max() <= SMALL_FOLDS + 1
    # The parent's key equals the workers': a fit here on a fold they scored reads their outputs.
    clear_teacher_cache()
    train, _ = next(StratifiedKFold(SMALL_FOLDS).split(X, y))
    DistilledClassifier(teacher, small_student(), memory=memory).fit(X[train], y[train])
    assert (rows_scored(teacher.log_path, len(X)) == counts).all()
    assert teacher_cache_info().hits == 1


@pytest.mark.parametrize("make_teacher", [notebook_teacher, local_teacher])
def test_a_notebook_or_local_teacher_is_cached_in_each_worker_process(id_data, tmp_path, make_teacher):
    X, y = id_data
    teacher = make_teacher(tmp_path)
    search = GridSearchCV(DistilledClassifier(teacher, small_student()), SMALL_GRID, cv=SMALL_FOLDS, n_jobs=2)
    search.fit(X, y)
    # Each worker keeps its own in-process cache, so each scores a fold at most once: at most 2 x 2 + 1
    # passes over a row (uncached: 4 candidates x 2 training folds + 1 = 9).
    counts = rows_scored(teacher.log_path, len(X))
    assert counts.min() >= SMALL_FOLDS
    assert counts.max() <= 2 * (SMALL_FOLDS - 1) + 1


def test_a_local_teacher_is_cached_in_this_process(id_data, tmp_path):
    X, y = id_data
    teacher = local_teacher(tmp_path)
    GridSearchCV(DistilledClassifier(teacher, small_student()), SMALL_GRID, cv=SMALL_FOLDS).fit(X, y)
    # Exactly once per fold a row trains in, plus the refit.
    assert (rows_scored(teacher.log_path, len(X)) == SMALL_FOLDS).all()


def test_a_local_scikit_learn_teacher_is_fitted_once_per_fold_plus_the_refit(id_data):
    X, y = id_data

    # An object's attributes are not part of the key (a number, a list or a class attribute would be).
    counter = types.SimpleNamespace(fits=0)

    class LocalLogisticRegression(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            counter.fits += 1
            return super().fit(X, y, sample_weight=sample_weight)

    distiller = DistilledClassifier(LocalLogisticRegression(), LogisticRegression())
    GridSearchCV(distiller, SMALL_GRID, cv=SMALL_FOLDS).fit(X, y)
    # The fitted teacher, whose class pickle cannot find, is kept in the in-process cache all the same.
    assert counter.fits == SMALL_FOLDS + 1


def _teacher_with_class_attribute(bias):
    class Fixed:
        BIAS = bias  # read as self.BIAS: an attribute, not a global or a closure value

        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            positive = 1.0 / (1.0 + np.exp(-(np.asarray(X)[:, 1] + self.BIAS)))  # column 0 is the row id
            return np.column_stack([1.0 - positive, positive])

    return Fixed()


def test_local_teachers_whose_class_attributes_differ_miss(id_data):
    # The class attributes of a class pickled by value were left out of the key: a teacher from
    # make_teacher(+5) hit the outputs of make_teacher(-5), and its student learnt the wrong teacher.
    X, y = id_data
    low = DistilledClassifier(_teacher_with_class_attribute(-5.0), LogisticRegression(), alpha=0.0).fit(X)
    high = DistilledClassifier(_teacher_with_class_attribute(5.0), LogisticRegression(), alpha=0.0).fit(X)
    assert teacher_cache_info().hits == 0
    assert low.teacher_proba(X)[:, 1].mean() < 0.1 < 0.9 < high.teacher_proba(X)[:, 1].mean()
    assert (high.predict(X) == 1).mean() > 0.9


def test_a_local_teacher_with_another_closure_value_misses(id_data, tmp_path):
    X, y = id_data
    before = DistilledClassifier(local_teacher(tmp_path), LogisticRegression()).fit(X, y).teacher_proba(X)
    after = DistilledClassifier(local_teacher(tmp_path, sign=-1.0), LogisticRegression()).fit(X, y).teacher_proba(X)
    assert teacher_cache_info().hits == 0
    np.testing.assert_allclose(after, before[:, ::-1], atol=1e-6)


def test_a_notebook_teacher_misses_when_a_global_it_reads_changes(id_data, tmp_path):
    X, y = id_data
    namespace = notebook_namespace()
    teacher = namespace["NotebookTeacher"](tmp_path / "scored.log")
    before = DistilledClassifier(teacher, LogisticRegression()).fit(X, y).teacher_proba(X)
    namespace["SIGN"] = -1.0  # as when a notebook cell is edited and run again
    after = DistilledClassifier(teacher, LogisticRegression()).fit(X, y).teacher_proba(X)
    assert teacher_cache_info().hits == 0
    np.testing.assert_allclose(after, before[:, ::-1], atol=1e-6)


def test_a_set_literal_in_the_teachers_code_keys_alike_whatever_its_order_of_iteration():
    from skdistill._cache import _code_description

    def reads_a_set(x):
        return x in {1, 9}

    # 1 and 9 collide in a small hash table, so the order of insertion decides the order of iteration,
    # as the string-hash seed of each worker process does for strings.
    assert list(frozenset([1, 9])) != list(frozenset([9, 1]))
    code = reads_a_set.__code__
    ordered = [
        code.replace(co_consts=tuple(order if isinstance(c, frozenset) else c for c in code.co_consts))
        for order in (frozenset([1, 9]), frozenset([9, 1]))
    ]
    assert _code_description(ordered[0]) == _code_description(ordered[1])


def test_arrays_key_by_their_content_layout_and_place():
    from skdistill._cache import _key

    def key(data):
        return _key("logits", LogisticRegression(), data)

    grid = np.arange(12, dtype=np.int32).reshape(3, 4)
    other = grid + 1
    # The same bytes as grid, read otherwise; the last holds the same numbers in other bytes.
    other_readings = [
        grid,
        grid.view(np.float32),
        grid.reshape(4, 3),
        grid.reshape(-1),
        grid.reshape(4, 3).T,  # F-ordered, grid's shape: other values in grid's places
        grid[:, ::2],  # not contiguous
        grid.astype(">i4"),
    ]
    keys = [key(data) for data in other_readings]
    assert len(set(keys)) == len(keys)
    assert key(grid) == key(grid.copy())
    assert key(grid[:, ::2]) == key(grid[:, ::2].copy())  # the same numbers, laid out otherwise
    # Dtypes equal by ==, yet read otherwise by code that looks at them.
    tagged = grid.astype(np.dtype(np.int32, metadata={"unit": "mm"}))
    assert key([tagged, grid]) != key([tagged, tagged])
    assert key([grid, tagged]) != key([grid, grid])
    assert key([grid, other]) != key([other, grid])
    assert key([grid, 1]) != key([1, grid])
    assert key({"a": grid, "b": other}) != key({"a": other, "b": grid})
    assert key(grid) != key(np.where(grid == 11, 12, grid).astype(np.int32))


def test_a_fitted_booster_teacher_keys_alike_after_a_pickle_round_trip():
    """As in a worker process. Pickling changes the strides of arrays with an axis of length 0 or 1
    (a booster's empty category bitsets), which the key must not read."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from skdistill._cache import _key

    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4, random_state=0)
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    assert _key("logits", teacher, X) == _key("logits", pickle.loads(pickle.dumps(teacher)), X)


def test_a_fitted_booster_teacher_misses_when_one_leaf_changes():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from skdistill._cache import _key

    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4, random_state=0)
    teacher = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    before = _key("logits", teacher, X)
    assert _key("logits", teacher, X) == before
    nodes = teacher._predictors[7][2].nodes
    nodes["value"][np.flatnonzero(nodes["is_leaf"])[-1]] += 1e-9
    assert _key("logits", teacher, X) != before


@pytest.mark.parametrize("memory", [True, 3, object()])
def test_a_bad_memory_is_refused(id_data, memory):
    X, y = id_data
    with pytest.raises(InvalidParameterError, match="memory"):
        DistilledClassifier(LogisticRegression(), LogisticRegression(), memory=memory).fit(X, y)


SCALE = 1.0


def _scaled(scores):
    return scores * SCALE


class HelperCallingTeacher(torch.nn.Module):
    """Its forward calls a module-level helper that reads a module-level number."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(6, 2)

    def forward(self, x, sign=1.0):
        return sign * _scaled(self.linear(x))


def test_changing_a_global_that_the_teachers_code_reads_misses(id_data, monkeypatch):
    X, y = id_data
    teacher = HelperCallingTeacher()
    before = DistilledClassifier(teacher, LogisticRegression()).fit(X, y).teacher_proba(X)
    monkeypatch.setattr(sys.modules[__name__], "SCALE", -1.0)
    after = DistilledClassifier(teacher, LogisticRegression()).fit(X, y).teacher_proba(X)
    assert teacher_cache_info().hits == 0
    np.testing.assert_allclose(after, before[:, ::-1], atol=1e-6)


def test_changing_a_default_argument_of_forward_misses(id_data, monkeypatch):
    X, y = id_data
    teacher = HelperCallingTeacher()
    DistilledClassifier(teacher, LogisticRegression()).fit(X, y)
    monkeypatch.setattr(HelperCallingTeacher.forward, "__defaults__", (-1.0,))
    DistilledClassifier(teacher, LogisticRegression()).fit(X, y)
    assert teacher_cache_info().hits == 0


def test_a_fitted_teacher_in_the_cache_counts_towards_its_size(id_data):
    from sklearn.ensemble import RandomForestClassifier

    X, y = id_data
    DistilledClassifier(RandomForestClassifier(n_estimators=20, random_state=0), LogisticRegression()).fit(X, y)
    logits_nbytes = len(X) * 2 * 8
    assert teacher_cache_info().nbytes > 10 * logits_nbytes  # the fitted forest is counted, not only the logits


class PointerHoldingTeacher(torch.nn.Linear):
    """A module with an attribute that pickling refuses with a ValueError."""

    def __init__(self):
        super().__init__(6, 2)
        self.handle = ctypes.pointer(ctypes.c_int(0))


def test_a_teacher_whose_key_cannot_be_computed_runs_uncached_with_one_warning(id_data):
    X, y = id_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distiller = DistilledClassifier(PointerHoldingTeacher(), LogisticRegression())
        GridSearchCV(distiller, SMALL_GRID, cv=SMALL_FOLDS).fit(X, y)
    assert teacher_cache_info().entries == 0
    # The teacher's weights are random, so the logistic student may also warn that it did not converge.
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    assert len(messages) == 1, messages  # 13 fits, one warning
    assert "PointerHoldingTeacher" in messages[0]
    assert "ctypes objects containing pointers cannot be pickled" in messages[0]
    assert "memory=False" in messages[0]
    clear_teacher_cache()  # which forgets the warning too
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DistilledClassifier(PointerHoldingTeacher(), LogisticRegression(), memory=False).fit(X, y)
    assert not [w for w in caught if w.category is UserWarning]
