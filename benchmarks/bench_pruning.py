"""Benchmark: what ``prune_student`` saves (size, latency) and what it costs (fidelity), before and after fine-tuning.

On scikit-learn's digits (1,797 x 64, 10 classes; features divided by 16, float32), for each of
``--seeds`` stratified splits (25% held out, 450 rows), a teacher ``MLPStudent((512, 512),
max_iter=60)`` (301k parameters) is trained on the labels and distilled into an ``MLPStudent((256,
256), max_iter=100)`` at ``T=4``, ``alpha=0.1``. The fitted distiller is then pruned with
``prune_student(clf, X_train, y_train, keep=keep, max_iter=50)`` for keep in 0.75, 0.5 and 0.25.

Printed per keep, each with its ratio to the unpruned student measured in the same run:

- parameters of the student's network;
- bytes of the pickled student (``pickle.dumps(clf.student_)``);
- bytes of the exported ONNX model (``skdistill.to_onnx``, float32), when the ``onnx`` extra is
  installed;
- ``predict_proba`` latency of the distiller for one row and for 1,024 rows (first split; best of
  ``--repeats`` rounds, the rounds of all students interleaved; 1 torch thread);
- held-out agreement with the teacher's labels (fidelity): unpruned, pruned without fine-tuning
  (the pruned network as ``prune_student`` builds it, before training), and pruned then fine-tuned;
  mean over splits, worst split in brackets; held-out accuracy of the fine-tuned student. The row
  keep=1 is the control: the unpruned student, and the same 50 epochs of fine-tuning without pruning
  (``prune_student(..., keep=1)``);
- the seconds ``prune_student`` took (fine-tuning included) and the epochs it trained (it stops
  early, as ``MLPStudent`` does, when the training loss stops improving).

Usage
-----
Run from the repository root, on one core (about two minutes)::

    OMP_NUM_THREADS=1 python benchmarks/bench_pruning.py
    OMP_NUM_THREADS=1 python benchmarks/bench_pruning.py --seeds 1 --repeats 3   # quick run

The exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import copy
import os
import pickle
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skdistill
from skdistill import DistilledClassifier, MLPStudent, prune_student

# Pruning alone, without the fine-tuning: the pruned network exactly as prune_student builds it.
from skdistill._pruning import _pruned_stack, _units_to_keep

KEEPS = (0.75, 0.5, 0.25)


def n_parameters(estimator):
    return sum(parameter.numel() for parameter in estimator.student_.module_.parameters())


def onnx_bytes(estimator, X):
    """Bytes of the exported float32 ONNX model, or None when skdistill.to_onnx or its extra is missing."""
    if not hasattr(skdistill, "to_onnx"):
        return None
    try:
        return len(skdistill.to_onnx(estimator, X[:1]).SerializeToString())
    except ImportError:
        return None


def pruned_only(estimator, keep):
    """A copy of ``estimator`` whose student is pruned to ``keep`` but not fine-tuned."""
    layers = list(estimator.student_.module_)
    linear = [index for index, layer in enumerate(layers) if isinstance(layer, torch.nn.Linear)]
    student = copy.deepcopy(estimator.student_)
    student.module_ = _pruned_stack(layers, linear, _units_to_keep(layers, linear, keep))
    student._inference_copy = {}  # the float64 copy predictions make, of the new module
    result = copy.copy(estimator)
    result.student_ = student
    return result


def time_per_call(function, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def latencies(estimators, X, repeats):
    """Best seconds per predict_proba call of each estimator, for 1 and 1,024 rows, rounds interleaved."""
    result = {}
    for batch, calls in ((1, 2000), (1024, 50)):
        rows = X[np.arange(batch) % len(X)]
        best = {name: float("inf") for name in estimators}
        for _ in range(repeats):
            for name, estimator in estimators.items():
                estimator.predict_proba(rows)  # warm (the float64 copy of the module is made once)
                best[name] = min(best[name], time_per_call(lambda e=estimator, rows=rows: e.predict_proba(rows), calls))
        result[batch] = best
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    fidelity = {keep: [] for keep in (1.0, *KEEPS)}  # (pruned only, fine-tuned, accuracy, seconds, epochs) per split
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
        teacher = MLPStudent((512, 512), max_iter=60, random_state=seed).fit(X_train, y_train)
        student = MLPStudent((256, 256), max_iter=100, random_state=seed)
        clf = DistilledClassifier(teacher, student, T=4.0, alpha=0.1).fit(X_train, y_train)
        estimators = {1.0: clf}  # keep=1: sizes and latency of the unpruned student; fidelity of fine-tuning alone
        for keep in (1.0, *KEEPS):
            start = time.perf_counter()
            pruned = prune_student(clf, X_train, y_train, keep=keep, max_iter=50)
            seconds = time.perf_counter() - start
            fidelity[keep].append(
                (
                    pruned_only(clf, keep).fidelity(X_test),
                    pruned.fidelity(X_test),
                    pruned.score(X_test, y_test),
                    seconds,
                    pruned.student_.n_iter_,
                )
            )
            estimators.setdefault(keep, pruned)
        if seed == 0:
            sizes = {
                keep: (n_parameters(est), len(pickle.dumps(est.student_)), onnx_bytes(est, X_train))
                for keep, est in estimators.items()
            }
            timings = latencies(estimators, X_test, args.repeats)
        print(f"split {seed} done", flush=True)

    print(
        f"\ndigits, {len(X_test)} held-out rows, {args.seeds} split(s); teacher MLP(512, 512), student MLP(256, 256); "
        f"1 torch thread, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; ratios to the unpruned student"
    )
    base_params, base_pickle, base_onnx = sizes[1.0]
    base_one, base_batch = timings[1][1.0], timings[1024][1.0]
    print(
        f"{'keep':>5}  {'parameters':>17}  {'pickled student B':>19}  {'ONNX file B':>17}  "
        f"{'1 row us':>13}  {'1,024 rows us':>15}"
    )
    for keep in (1.0, *KEEPS):
        params, pickled, onnx = sizes[keep]
        one, batch = timings[1][keep], timings[1024][keep]
        onnx_column = "skipped" if onnx is None else f"{onnx} ({onnx / base_onnx:.2f})"
        print(
            f"{keep:>5}  {params:>8} ({params / base_params:.2f})  {pickled:>10} ({pickled / base_pickle:.2f})  "
            f"{onnx_column:>17}  {one * 1e6:>6.1f} ({one / base_one:.2f})  {batch * 1e6:>8.0f} ({batch / base_batch:.2f})"
        )
    if base_onnx is None:
        print("(ONNX column skipped: skdistill.to_onnx or the onnx extra is not available)")

    print(
        "\nheld-out agreement with the teacher, mean over splits (worst split): unpruned, pruned only, pruned and "
        "fine-tuned; accuracy of the fine-tuned student; seconds of prune_student, epochs of fine-tuning"
    )
    print(f"{'keep':>5}  {'pruned only':>14}  {'fine-tuned':>14}  {'accuracy':>8}  {'seconds':>7}  {'epochs':>6}")
    for keep, results in fidelity.items():
        only, tuned, accuracy, seconds, epochs = np.array(results).T
        print(
            f"{keep:>5}  {only.mean():.3f} ({only.min():.3f})  {tuned.mean():.3f} ({tuned.min():.3f})  "
            f"{accuracy.mean():>8.3f}  {seconds.mean():>7.1f}  {epochs.mean():>6.0f}"
        )


if __name__ == "__main__":
    main()
