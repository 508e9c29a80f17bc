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
  early, as ``MLPStudent`` does, when the training loss stops improving);
- why this importance score: held-out agreement with the teacher of the network pruned without
  fine-tuning when units are chosen by ``prune_student``'s score (the product of the norms of a unit's
  incoming and outgoing weights) and by others, measured on the training rows: the spread (standard
  deviation) of the unit's output times its outgoing norm, its mean absolute output times its
  outgoing norm, its mean absolute output alone, and at random.

``--data synthetic`` runs the same on ``make_classification`` (2,000 rows, 20 standardised features
of which 8 informative, 4 classes, ``class_sep=0.8``, 5% of labels flipped) instead of digits.

Usage
-----
Run from the repository root, on one core (about two minutes)::

    OMP_NUM_THREADS=1 python benchmarks/bench_pruning.py
    OMP_NUM_THREADS=1 python benchmarks/bench_pruning.py --seeds 1 --repeats 3   # quick run
    OMP_NUM_THREADS=1 python benchmarks/bench_pruning.py --data synthetic

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
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

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


def hidden_outputs(layers, linear, X):
    """The outputs of each hidden layer's units (after the activation) on ``X``, as float64 arrays."""
    outputs, hidden = [], torch.as_tensor(X)
    with torch.inference_mode():
        for index, layer in enumerate(layers):
            if index in linear[1:]:
                outputs.append(hidden.double())
            hidden = layer(hidden)
    return outputs


def by_statistic(statistic, times_outgoing_norm):
    """An importance score from a statistic of each unit's outputs on the training rows."""

    def units(layers, linear, keep, X):
        kept = []
        for output, following in zip(hidden_outputs(layers, linear, X), linear[1:]):
            score = statistic(output)
            if times_outgoing_norm:
                score = score * layers[following].weight.detach().double().norm(dim=0)
            kept.append(torch.sort(torch.topk(score, max(1, int(keep * len(score) + 0.5))).indices).values)
        return kept

    return units


def at_random(layers, linear, keep, X):
    generator = torch.Generator().manual_seed(0)
    widths = [layers[index].out_features for index in linear[:-1]]
    return [torch.sort(torch.randperm(n, generator=generator)[: max(1, int(keep * n + 0.5))]).values for n in widths]


SCORES = {
    "weight norms (prune_student)": lambda layers, linear, keep, X: _units_to_keep(layers, linear, keep),
    "output spread x out norm": by_statistic(lambda output: output.std(dim=0), True),
    "mean |output| x out norm": by_statistic(lambda output: output.abs().mean(dim=0), True),
    "mean |output|": by_statistic(lambda output: output.abs().mean(dim=0), False),
    "random": at_random,
}


def pruned_only(estimator, keep, X_train, score="weight norms (prune_student)"):
    """A copy of ``estimator`` whose student is pruned to ``keep`` (units chosen by ``score``), not fine-tuned."""
    layers = list(estimator.student_.module_)
    linear = [index for index, layer in enumerate(layers) if isinstance(layer, torch.nn.Linear)]
    student = copy.deepcopy(estimator.student_)
    student.module_ = _pruned_stack(layers, linear, SCORES[score](layers, linear, keep, X_train))
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
    parser.add_argument("--data", choices=["digits", "synthetic"], default="digits")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)

    if args.data == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16).astype(np.float32)
    else:
        X, y = make_classification(2000, 20, n_informative=8, n_classes=4, class_sep=0.8, flip_y=0.05, random_state=0)
        X = StandardScaler().fit_transform(X).astype(np.float32)
    scores = {(score, keep): [] for score in SCORES for keep in KEEPS}  # pruned-only agreement per split
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
                    pruned_only(clf, keep, X_train).fidelity(X_test),
                    pruned.fidelity(X_test),
                    pruned.score(X_test, y_test),
                    seconds,
                    pruned.student_.n_iter_,
                )
            )
            estimators.setdefault(keep, pruned)
            for score in SCORES if keep < 1 else ():
                scores[score, keep].append(pruned_only(clf, keep, X_train, score).fidelity(X_test))
        if seed == 0:
            sizes = {
                keep: (n_parameters(est), len(pickle.dumps(est.student_)), onnx_bytes(est, X_train))
                for keep, est in estimators.items()
            }
            timings = latencies(estimators, X_test, args.repeats)
        print(f"split {seed} done", flush=True)

    print(
        f"\n{args.data}, {len(X_test)} held-out rows, {args.seeds} split(s); teacher MLP(512, 512), student MLP(256, 256); "
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

    print("\nimportance scores: held-out agreement with the teacher, pruned without fine-tuning, mean (worst split)")
    print(f"{'score':<30}" + "".join(f"{f'keep {keep}':>17}" for keep in KEEPS))
    for score in SCORES:
        row = [np.array(scores[score, keep]) for keep in KEEPS]
        print(f"{score:<30}" + "".join(f"{values.mean():>10.3f} ({values.min():.3f})" for values in row))


if __name__ == "__main__":
    main()
