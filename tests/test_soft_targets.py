"""Soft targets against their formula."""

import numpy as np
import pytest

from skdistill._soft_targets import UNLABELLED, soft_targets, tempered_softmax


def test_tempered_softmax():
    logits = np.array([[2.0, 0.0, -2.0]])
    np.testing.assert_allclose(tempered_softmax(logits, 1.0), np.exp(logits) / np.exp(logits).sum())
    flat = tempered_softmax(logits, 100.0)
    assert flat.max() - flat.min() < 0.05  # a high temperature flattens the distribution
    assert tempered_softmax(logits, 0.01)[0, 0] > 0.999


@pytest.mark.parametrize("alpha", [0.0, 0.25, 1.0])
def test_soft_targets_mix_labels_and_teacher(alpha):
    rng = np.random.RandomState(0)
    logits = rng.normal(size=(6, 4)) * 2
    y = np.array([0, 3, UNLABELLED, 1, 2, UNLABELLED])
    q = soft_targets(logits, y, T=3.0, alpha=alpha)
    teacher = tempered_softmax(logits, 3.0)
    for i, label in enumerate(y):
        expected = teacher[i] if label == UNLABELLED else alpha * np.eye(4)[label] + (1 - alpha) * teacher[i]
        np.testing.assert_allclose(q[i], expected, rtol=1e-12)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    np.testing.assert_allclose(soft_targets(logits, None, T=3.0, alpha=alpha), teacher)
