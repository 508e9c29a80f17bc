"""Benchmark: what dynamic int8 quantization (``to_onnx(..., quantize="int8")``) saves and what it costs.

For each student width and split, one distilled ``MLPStudent`` is exported twice, in float32 and with
int8 weights (ONNX Runtime's dynamic quantization of the ``Gemm`` / ``MatMul`` weights), and both
files are run by ONNX Runtime on the same held-out rows. Printed per width, over ``--seeds`` splits:

- the sizes of the serialised models (bytes) and their ratio;
- label agreement of the int8 model with the float32 model on held-out rows (the fidelity it costs),
  and the largest difference of a probability;
- held-out accuracy of both (against the true labels).

Conditions: ``load_digits`` (1,797 rows, 64 features, 10 classes), 25% held out (450 rows),
stratified; the teacher is an ``MLPStudent((256, 128), max_iter=100)`` trained on the labels, the
students ``MLPStudent((width,), max_iter=200, learning_rate_init=0.01)`` with ``T=4``, ``alpha=0.1``.
Features are scaled to [0, 1] (divided by 16). Both models are measured in the same run.

Usage
-----
Run from the repository root, on one core (about a minute)::

    OMP_NUM_THREADS=1 python benchmarks/bench_onnx_quantize.py
    OMP_NUM_THREADS=1 python benchmarks/bench_onnx_quantize.py --widths 32 --seeds 1   # quick run

The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import warnings

import numpy as np
import onnxruntime
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier, MLPStudent, to_onnx


def run(model, X):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    rows = {width: [] for width in args.widths}
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        teacher = MLPStudent((256, 128), max_iter=100, random_state=seed).fit(X_train, y_train)
        for width in args.widths:
            student = MLPStudent((width,), max_iter=200, learning_rate_init=0.01, random_state=seed)
            clf = DistilledClassifier(teacher, student, T=4.0, alpha=0.1).fit(X_train, y_train)
            model, quantized = to_onnx(clf, X_train[:2]), to_onnx(clf, X_train[:2], quantize="int8")
            labels, probabilities = run(model, X_test)
            quantized_labels, quantized_probabilities = run(quantized, X_test)
            rows[width].append(
                (
                    len(model.SerializeToString()),
                    len(quantized.SerializeToString()),
                    np.mean(quantized_labels == labels),
                    np.abs(quantized_probabilities - probabilities).max(),
                    np.mean(labels == y_test),
                    np.mean(quantized_labels == y_test),
                )
            )

    print(f"digits, {len(X_test)} held-out rows, {args.seeds} split(s); mean over splits (worst split in brackets)")
    header = "width  float32 B  int8 B  int8/float32  labels agree (min)  max |dp|  acc float32  acc int8"
    print(header)
    for width, results in rows.items():
        size, int8_size, agree, dp, accuracy, int8_accuracy = np.array(results).T
        print(
            f"{width:>5}  {size.mean():>9.0f}  {int8_size.mean():>6.0f}  {np.mean(int8_size / size):>12.2f}  "
            f"{agree.mean():>12.4f} ({agree.min():.4f})  {dp.max():>8.4f}  {accuracy.mean():>11.4f}  "
            f"{int8_accuracy.mean():>8.4f}"
        )


if __name__ == "__main__":
    main()
