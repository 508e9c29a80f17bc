"""
Deploying a student: distil, prune, quantise, export, serve with ONNX Runtime
=============================================================================

A 256-256 network classifies handwritten digits (scikit-learn's bundled 8 x 8 images). We distil it
into an MLP with 64 hidden units, prune that student to half its units and fine-tune it on the
teacher (:func:`~skdistill.prune_student`), export it to ONNX (:func:`~skdistill.to_onnx`), with and
without int8 weights, and serve it with ONNX Runtime, which needs neither torch nor skdistill. The
table gives, at each step, the size (parameters and bytes of the exported file), the time to predict
one row and 1,024 rows, and the agreement with the teacher and the accuracy on held-out digits.

Needs the ``onnx`` extra: ``pip install "skdistill[onnx]"``.
"""

# %%
import time
import warnings

import numpy as np
import onnxruntime
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier, MLPStudent, prune_student, to_onnx

torch.set_num_threads(1)
warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)

# The teacher: a PyTorch MLP 256-256 (trained with skdistill's MLPStudent for brevity).
teacher = MLPStudent(hidden_layer_sizes=(256, 256), max_iter=60, random_state=0).fit(X_train, y_train).module_
with torch.inference_mode():
    teacher_labels = teacher(torch.from_numpy(X_test)).argmax(dim=1).numpy()

# %%
# Distil, then prune the student to half its hidden units and fine-tune it on the teacher.
student = MLPStudent(hidden_layer_sizes=(64,), max_iter=150, learning_rate_init=3e-3, random_state=0)
distilled = DistilledClassifier(teacher, student, T=2.0, alpha=0.1).fit(X_train, y_train)
pruned = prune_student(distilled, X_train, y_train, keep=0.5, max_iter=50)


def best_time(function, calls):
    """Seconds per call: the best of 5 rounds of ``calls`` calls."""
    function()
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        rounds.append((time.perf_counter() - start) / calls)
    return min(rounds)


def served(model):
    """An ONNX Runtime session for ``model``, and a function of X giving its labels."""
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return lambda rows: session.run(["label"], {"X": rows})[0]


def parameters(estimator):
    return sum(parameter.numel() for parameter in estimator.student_.module_.parameters())


rows = []
for name, estimator in [("distilled MLP(64)", distilled), ("pruned to MLP(32)", pruned)]:
    model = to_onnx(estimator, X_train[:1])
    for quantize in (None, "int8"):
        exported = model if quantize is None else to_onnx(estimator, X_train[:1], quantize="int8")
        predict = served(exported)
        labels = predict(X_test)
        rows.append(
            (
                f"{name}, ONNX {'int8' if quantize else 'float32'}",
                parameters(estimator),
                len(exported.SerializeToString()),
                best_time(lambda: predict(X_test[:1]), 2000) * 1e6,
                best_time(lambda: predict(X_test[:1024]), 50) * 1e6,
                np.mean(labels == teacher_labels),
                np.mean(labels == y_test),
            )
        )
    # The same estimator in Python, for comparison: the distiller's own predict.
    rows.append(
        (
            f"{name}, skdistill predict",
            parameters(estimator),
            None,
            best_time(lambda: estimator.predict(X_test[:1]), 2000) * 1e6,
            best_time(lambda: estimator.predict(X_test[:1024]), 50) * 1e6,
            np.mean(estimator.predict(X_test) == teacher_labels),
            estimator.score(X_test, y_test),
        )
    )

# %%
# One thread; times are the best of 5 rounds, in microseconds. "agreement" is the share of held-out
# digits where the model predicts the teacher's class.
print(f"{'model':<40}{'params':>8}{'file bytes':>12}{'1 row us':>10}{'1024 rows us':>14}{'agreement':>11}{'accuracy':>10}")
for name, n_params, n_bytes, one, many, agreement, accuracy in rows:
    size = "" if n_bytes is None else f"{n_bytes:,}"
    print(f"{name:<40}{n_params:>8,}{size:>12}{one:>10.1f}{many:>14.1f}{agreement:>11.3f}{accuracy:>10.3f}")
teacher_accuracy = np.mean(teacher_labels == y_test)
print(f"teacher (MLP 256-256): {sum(p.numel() for p in teacher.parameters()):,} parameters, accuracy {teacher_accuracy:.3f}")

# %%
# Reading the table: the exported model answers one row in microseconds where Python's predict, with
# its checks and its float64 arithmetic, takes over a hundred; pruning halves the parameters and the
# file; int8 weights make the file less than half its float32 size. On layers this small, int8 runs
# slower than float32 (dynamic quantisation converts the activations at every call): quantise to
# ship a smaller file, not a faster one, and measure on your own model. What each step costs in
# agreement with the teacher is in the last columns: judge it on your own held-out data.
