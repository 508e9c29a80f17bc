"""partial_fit: distilling chunk by chunk, the teacher labelling each chunk as it arrives."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Perceptron, SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.tree import DecisionTreeClassifier

from conftest import CountingModule, assert_unchanged, make_teacher_module, snapshot
from skdistill import DistilledClassifier, MLPStudent, TorchStudent, TorchTeacher, teacher_cache_info
from skdistill.metrics import fidelity_score


def chunks(X, y, size):
    for start in range(0, len(X), size):
        yield X[start : start + size], y[start : start + size]


@pytest.fixture
def big_data():
    """(X, y, X_test): 1200 training rows and 600 held-out rows, 6 features, 3 classes, float32."""
    X, y = make_classification(
        n_samples=1800, n_features=6, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    return X[:1200], y[:1200], X[1200:]


def student(**params):
    return MLPStudent(**{"hidden_layer_sizes": (32,), "learning_rate_init": 0.01, "random_state": 0, **params})


def test_streamed_distillation_learns_the_teacher(big_data):
    X, y, X_test = big_data
    teacher = make_teacher_module()
    streamed = DistilledClassifier(teacher, student(), T=2.0, alpha=0.0)
    for _ in range(10):  # 10 passes over 12 chunks of 100 rows
        for X_chunk, y_chunk in chunks(X, y, 100):
            streamed.partial_fit(X_chunk, y_chunk, classes=[0, 1, 2])
    teacher_labels = streamed.teacher_proba(X_test).argmax(axis=1)
    untrained = DistilledClassifier(teacher, student(max_iter=1), T=2.0, alpha=0.0).fit(X[:100], y[:100])
    assert fidelity_score(teacher_labels, streamed.predict(X_test)) > 0.85
    assert (
        fidelity_score(teacher_labels, streamed.predict(X_test))
        > fidelity_score(teacher_labels, untrained.predict(X_test)) + 0.1
    )
    assert streamed.student_.n_iter_ == 120  # one epoch per call
    assert np.mean(streamed.student_.loss_curve_[-12:]) < np.mean(streamed.student_.loss_curve_[:12])


def test_the_teacher_scores_each_chunk_once_and_nothing_is_cached(big_data):
    X, y, _ = big_data
    counting = CountingModule(make_teacher_module())
    clf = DistilledClassifier(counting, student(), augment="noise", augment_size=10, random_state=0)
    for X_chunk, y_chunk in chunks(X, y, 300):
        clf.partial_fit(X_chunk, y_chunk, classes=[0, 1, 2])
    # Each chunk once, plus 10 synthetic rows per chunk, plus the one row that finds the output width.
    assert counting.rows_scored == len(X) + 4 * 10 + 1
    assert teacher_cache_info().entries == 0


def test_a_chunk_may_lack_classes_when_classes_are_given(big_data):
    X, y, _ = big_data
    only_zeros = y == 0
    clf = DistilledClassifier(make_teacher_module(), student(), alpha=0.5)
    clf.partial_fit(X[only_zeros][:50], y[only_zeros][:50], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.predict_proba(X[:5]).shape == (5, 3)


def test_a_bare_torch_teacher_needs_classes_on_the_first_call(big_data):
    X, y, _ = big_data
    clf = DistilledClassifier(make_teacher_module(), student())
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X[:50], y[:50])
    assert not hasattr(clf, "student_")
    # A teacher that names its labels needs none.
    named = DistilledClassifier(TorchTeacher(make_teacher_module(), classes=["a", "b", "c"]), student())
    named.partial_fit(X[:50], np.array(["a", "b", "c"])[y[:50]])
    assert named.classes_.tolist() == ["a", "b", "c"]


def test_labels_the_teacher_does_not_score_are_refused(big_data):
    X, y, _ = big_data
    clf = DistilledClassifier(make_teacher_module(), student())
    with pytest.raises(ValueError, match=r"y has labels the teacher does not score: \[3\]"):
        clf.partial_fit(X[:50], np.where(y[:50] == 2, 3, y[:50]), classes=[0, 1, 2])
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"y has labels the teacher does not score: \[7\]"):
        clf.partial_fit(X[50:100], np.full(50, 7))
    with pytest.raises(ValueError, match="labels the teacher does not score"):
        clf.partial_fit(X[50:100], y[50:100], classes=[0, 1, 2, 5])


def test_classes_the_teacher_does_not_score_are_named_as_classes(big_data):
    # The error blamed y (which had no such label) and added a hint about VotingClassifier's encoded y,
    # which concerns fit's y only.
    X, y, _ = big_data
    clf = DistilledClassifier(make_teacher_module(), student())
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"^classes has labels the teacher does not score: \[3\]") as error:
        clf.partial_fit(X[50:100], y[50:100], classes=np.arange(4))
    assert "VotingClassifier" not in str(error.value)
    named = DistilledClassifier(TorchTeacher(make_teacher_module(), classes=["a", "b", "c"]), student())
    with pytest.raises(ValueError, match=r"^classes has labels the teacher does not score: \['d'\]"):
        named.partial_fit(X[:50], np.array(["a", "b", "c"])[y[:50]], classes=["a", "b", "c", "d"])
    # y of 0..n-1 against a teacher of other labels: the hint is for fit only.
    with pytest.raises(ValueError, match=r"^y has labels the teacher does not score") as error:
        named.partial_fit(X[:50], y[:50])
    assert "VotingClassifier" not in str(error.value)
    with pytest.raises(ValueError, match=r"^y has labels the teacher does not score.*VotingClassifier"):
        DistilledClassifier(LogisticRegression().fit(X, np.array(["a", "b", "c"])[y]), student()).fit(X[:50], y[:50])


def test_a_chunk_with_other_features_is_refused(big_data):
    X, y, _ = big_data
    clf = DistilledClassifier(make_teacher_module(), student()).partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="X has 5 features, but DistilledClassifier is expecting 6"):
        clf.partial_fit(X[50:100, :5], y[50:100])


def test_multinomial_nb_streamed_equals_fitted_on_all_rows(big_data):
    """Naive Bayes counts add up: chunked soft-weighted updates give exactly the batch fit."""
    X, y, _ = big_data
    X = np.abs(X)  # MultinomialNB needs non-negative features
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    streamed = DistilledClassifier(teacher, MultinomialNB(), T=2.0, alpha=0.3)
    for X_chunk, y_chunk in chunks(X, y, 250):
        streamed.partial_fit(X_chunk, y_chunk)
    batch = DistilledClassifier(teacher, MultinomialNB(), T=2.0, alpha=0.3).fit(X, y)
    np.testing.assert_allclose(streamed.student_.feature_count_, batch.student_.feature_count_, rtol=1e-10)
    np.testing.assert_allclose(streamed.predict_proba(X), batch.predict_proba(X), rtol=1e-8)
    assert streamed.route_ == "sample_weight"


def test_sgd_student_is_updated_in_place_on_soft_weighted_rows(big_data):
    X, y, _ = big_data
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    clf = DistilledClassifier(teacher, SGDClassifier(loss="log_loss", random_state=0), T=2.0, alpha=0.2)
    manual = SGDClassifier(loss="log_loss", random_state=0)
    for i, (X_chunk, y_chunk) in enumerate(chunks(X, y, 400)):
        clf.partial_fit(X_chunk, y_chunk)
        # What the chunk's update must be: one row per (row, class), weighted by the soft label.
        tempered = teacher.predict_proba(X_chunk) ** (1 / 2.0)
        soft = 0.2 * np.eye(3)[y_chunk] + 0.8 * tempered / tempered.sum(axis=1, keepdims=True)
        rows, labels = np.nonzero(soft >= 1e-6)
        manual.partial_fit(X_chunk[rows], labels, classes=[0, 1, 2], sample_weight=soft[rows, labels])
        if i == 0:
            first_student = clf.student_
    assert clf.student_ is first_student
    assert clf.student_.classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(clf.student_.coef_, manual.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "teacher, student_, message",
    [
        (LogisticRegression(), student(), "partial_fit needs a trained teacher"),
        (make_teacher_module(), LogisticRegression(), "LogisticRegression has no partial_fit"),
        (make_teacher_module(), DecisionTreeClassifier(), "DecisionTreeClassifier has no partial_fit"),
    ],
)
def test_partial_fit_exists_only_when_it_can_work(teacher, student_, message):
    clf = DistilledClassifier(teacher, student_)
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as raised:
        clf.partial_fit
    assert message in str(raised.value)  # the reason is in the message users see
    assert message in str(raised.value.__cause__)  # and chained, as scikit-learn's available_if does


def test_a_student_that_cannot_stream_is_refused_before_the_teacher_runs(big_data):
    X, y, _ = big_data
    counting = CountingModule(make_teacher_module())
    clf = DistilledClassifier(counting, Perceptron())  # partial_fit, but no probabilities
    with pytest.raises(ValueError, match="Perceptron has no predict_proba"):
        clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    assert counting.rows_scored == 0


def test_partial_fit_continues_fit_and_fit_starts_afresh(big_data):
    X, y, _ = big_data
    clf = DistilledClassifier(make_teacher_module(), student(max_iter=5, tol=0.0)).fit(X[:300], y[:300])
    assert clf.student_.n_iter_ == 5
    weights_after_fit = [p.detach().clone() for p in clf.student_.module_.parameters()]
    clf.partial_fit(X[300:400], y[300:400])
    assert clf.student_.n_iter_ == 6
    assert any(not torch.equal(a, b) for a, b in zip(weights_after_fit, clf.student_.module_.parameters()))
    clf.fit(X[:300], y[:300])
    assert clf.student_.n_iter_ == 5
    for a, b in zip(weights_after_fit, clf.student_.module_.parameters()):
        assert torch.equal(a, b)  # the same seed gives the same fit


def test_streaming_is_reproducible_and_survives_pickling(big_data):
    X, y, X_test = big_data
    runs = []
    for pickled_midway in (False, True):
        clf = DistilledClassifier(make_teacher_module(), student(), T=2.0, random_state=0)
        for i, (X_chunk, y_chunk) in enumerate(chunks(X, y, 200)):
            clf.partial_fit(X_chunk, y_chunk, classes=[0, 1, 2])
            if pickled_midway and i == 2:
                clf = pickle.loads(pickle.dumps(clf))  # optimizer and seed stream travel with the model
        runs.append(clf.predict_proba(X_test))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_streaming_leaves_the_teacher_and_data_untouched(big_data):
    X, y, _ = big_data
    teacher = make_teacher_module()
    teacher.train()
    before, X_before, y_before = snapshot(teacher), X.copy(), y.copy()
    clf = DistilledClassifier(teacher, TorchStudent(torch.nn.Sequential(torch.nn.Linear(6, 3))))
    for X_chunk, y_chunk in chunks(X, y, 400):
        clf.partial_fit(X_chunk, y_chunk, classes=[0, 1, 2], sample_weight=np.ones(len(X_chunk)))
    assert_unchanged(teacher, before)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_unlabelled_chunks_with_alpha_zero(big_data):
    X, _, _ = big_data
    clf = DistilledClassifier(TorchTeacher(make_teacher_module(), classes=[0, 1, 2]), student(), alpha=0.0)
    clf.partial_fit(X[:100])
    clf.partial_fit(X[100:200])
    assert clf.student_.n_iter_ == 2
    with pytest.raises(ValueError, match="requires y to be passed"):
        DistilledClassifier(make_teacher_module(), student(), alpha=0.5).partial_fit(X[:10], classes=[0, 1, 2])


def test_zero_weight_rows_of_a_chunk_are_not_learned(big_data):
    X, y, X_test = big_data
    weights = np.ones(200)
    weights[100:] = 0
    # The float32 teacher scores a chunk of 200 rows in one call and of 100 in the other; a row's float32
    # logits depend on its batch size on some CPUs (AVX2 MKL: ~2e-6), so it scores one row at a time
    # here. Both calls then train on the same rows, logits and operations: bit-identical on any CPU.
    teacher = TorchTeacher(make_teacher_module(), batch_size=1)
    with_zeros = DistilledClassifier(teacher, student()).partial_fit(
        X[:200], y[:200], classes=[0, 1, 2], sample_weight=weights
    )
    without = DistilledClassifier(teacher, student()).partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    np.testing.assert_array_equal(with_zeros.predict_proba(X_test), without.predict_proba(X_test))


def test_a_fitted_neural_student_does_not_carry_its_optimizer(big_data):
    X, y, _ = big_data
    fitted = student(max_iter=2).fit(X, y)
    assert not hasattr(fitted, "_optimizer")  # a fitted model ships without Adam's moments
    streamed = student().partial_fit(X, y, classes=[0, 1, 2])
    assert hasattr(streamed, "_optimizer")  # a stream keeps them to resume
    fitted.partial_fit(X, y)
    assert fitted.n_iter_ == 3


def test_each_chunk_gets_its_own_synthetic_rows(big_data):
    X, y, _ = big_data
    drawn = []

    def record(X_train, n_samples, random_state):
        rows = X_train[random_state.randint(len(X_train), size=n_samples)] + random_state.normal(size=(n_samples, 6))
        drawn.append(rows)
        return rows

    clf = DistilledClassifier(make_teacher_module(), student(), augment=record, augment_size=20, random_state=0)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    clf.partial_fit(X[:100], y[:100])
    assert not np.allclose(drawn[0], drawn[1])
    # and the stream is reproducible
    again = DistilledClassifier(make_teacher_module(), student(), augment=record, augment_size=20, random_state=0)
    again.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    again.partial_fit(X[:100], y[:100])
    np.testing.assert_array_equal(drawn[1], drawn[3])


def test_a_failed_first_call_leaves_the_distiller_unfitted(big_data):
    from sklearn.exceptions import NotFittedError

    X, y, _ = big_data
    clf = DistilledClassifier(make_teacher_module(), student())
    with pytest.raises(ValueError, match="labels the teacher does not score"):
        clf.partial_fit(X[:50], np.full(50, 7), classes=[0, 1, 2])
    assert not hasattr(clf, "teacher_") and not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(X[:5])


def test_partial_fit_after_a_fit_that_dropped_a_class_says_so(big_data):
    X, y, _ = big_data
    X = np.abs(X)
    teacher = DecisionTreeClassifier(random_state=0).fit(X, y)  # certain: other classes get no soft weight
    clf = DistilledClassifier(teacher, MultinomialNB(), alpha=0.5).fit(X[y < 2], y[y < 2])
    assert clf.student_.classes_.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"knows the classes \[0, 1\] only"):
        clf.partial_fit(X[:50], y[:50])


def test_mlp_student_partial_fit_validates_its_parameters(big_data):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y, _ = big_data
    with pytest.raises(InvalidParameterError, match="batch_size"):
        student(batch_size="big").partial_fit(X[:50], y[:50], classes=[0, 1, 2])


class TestMLPStudentOnLabels:
    def test_classes_are_required_on_the_first_call(self, big_data):
        X, y, _ = big_data
        with pytest.raises(ValueError, match="classes must be passed on the first call"):
            student().partial_fit(X[:50], y[:50])

    def test_learns_over_calls(self, big_data):
        X, y, X_test = big_data
        model = student()
        for _ in range(5):
            for X_chunk, y_chunk in chunks(X, y, 200):
                model.partial_fit(X_chunk, y_chunk, classes=[0, 1, 2])
        assert model.n_iter_ == 30
        assert model.loss_curve_[-1] < model.loss_curve_[0]
        assert (model.predict(X) == y).mean() > 0.7

    def test_refuses_unknown_labels_and_changed_classes(self, big_data):
        X, y, _ = big_data
        model = student().partial_fit(X[:50], y[:50], classes=[0, 1, 2])
        with pytest.raises(ValueError, match=r"y has labels not in classes: \[4\]"):
            model.partial_fit(X[:50], np.full(50, 4))
        with pytest.raises(ValueError, match="differs from the first call"):
            model.partial_fit(X[:50], y[:50], classes=[0, 1])


def test_a_route_other_than_sample_weight_cannot_stream():
    from skdistill.students._routing import SoftLabelStudent, check_incremental

    check_incremental(SoftLabelStudent(SGDClassifier(loss="log_loss"), "sample_weight"))
    with pytest.raises(TypeError, match=r"SGDClassifier cannot learn incrementally \(route 'regression_proba'\)"):
        check_incremental(SoftLabelStudent(SGDClassifier(loss="log_loss"), "regression_proba"))


class FailingOnBatch(torch.nn.Module):
    """A small network that raises ``error`` on its ``fail_at``-th training batch (counted in a plain
    attribute, which is not part of its state)."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        torch.manual_seed(0)
        self.hidden = torch.nn.Linear(n_features, 8)
        self.norm = torch.nn.BatchNorm1d(8)  # running statistics: buffers a failed epoch would move too
        self.out = torch.nn.Linear(8, n_classes)
        self.batches, self.fail_at, self.error = 0, None, None

    def forward(self, x):
        if self.training:
            self.batches += 1
            if self.batches == self.fail_at:
                raise self.error
        return self.out(self.norm(torch.relu(self.hidden(x))))


@pytest.mark.parametrize("error", [RuntimeError("a batch failed"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_partial_fit_failing_mid_epoch_leaves_the_student_as_it_was(big_data, error):
    X, y, _ = big_data
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    n_classes = len(np.unique(y))

    def distiller():
        module = FailingOnBatch(X.shape[1], n_classes)
        return DistilledClassifier(teacher, TorchStudent(module, batch_size=50, random_state=0), random_state=0)

    streamed = distiller().partial_fit(X[:500], y[:500])
    student = streamed.student_
    weights = {name: value.clone() for name, value in student.module_.state_dict().items()}
    proba, n_iter = streamed.predict_proba(X), student.n_iter_
    student.module_.fail_at, student.module_.error = student.module_.batches + 5, error  # the 5th batch
    with pytest.raises(type(error)):
        streamed.partial_fit(X[500:1000], y[500:1000])
    after = student.module_.state_dict()
    assert all(torch.equal(weights[name], after[name]) for name in weights)
    assert student.n_iter_ == n_iter
    np.testing.assert_array_equal(streamed.predict_proba(X), proba)
    # Resuming gives the model of a stream that never failed (same optimizer and random states).
    student.module_.fail_at = None
    streamed.partial_fit(X[500:1000], y[500:1000])
    uninterrupted = distiller().partial_fit(X[:500], y[:500]).partial_fit(X[500:1000], y[500:1000])
    np.testing.assert_array_equal(streamed.predict_proba(X), uninterrupted.predict_proba(X))
