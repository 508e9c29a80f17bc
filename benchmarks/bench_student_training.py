"""Benchmark: the cost of training a torch student with skdistill versus a hand-written loop.

The same ``nn.Module`` (an MLP 32-128-128-10), from the same initial weights, is trained for the
same number of epochs, batch size and learning rate with Adam, rows shuffled each epoch:

(a) by a plain hand-written PyTorch loop on hard labels (tensors made once, ``torch.randperm`` per
    epoch, index batches, cross-entropy). This is the baseline.
(b) by ``DistilledClassifier(TorchTeacher(teacher), TorchStudent(module, ...), T=4.0, alpha=0.5)``.
    The whole ``fit`` is timed, including its single pass of the teacher (an MLP 32-512-512-10,
    trained briefly before any timing) over the training rows: that is the honest cost.
(c) by skorch's ``NeuralNetClassifier`` on hard labels, when skorch is installed.

Each variant runs ``--repeats`` times, interleaved (a, b, c, a, b, c, ...), after one untimed
warm-up round; the median wall-clock seconds of each are reported with the ratios (b)/(a) and
(c)/(b). The target is (b)/(a) <= 1.3 at the default size: the teacher runs once and the training
loop is as lean as a hand-written one. The held-out accuracy of each trained model is printed as a
sanity check that all three actually trained, not as a claim about quality.

Usage
-----
Run from the repository root::

    python benchmarks/bench_student_training.py
    python benchmarks/bench_student_training.py --rows 5000 --epochs 3 --repeats 3   # quick run

Options: ``--rows`` (training rows, default 20000), ``--features`` (default 32), ``--epochs``
(default 10), ``--batch-size`` (default 256), ``--lr`` (default 1e-3), ``--repeats`` (default 5),
``--threads`` (``torch.set_num_threads``; default: torch's own choice, which is what users get). The
exit code is always 0: this is a benchmark, not a test.
"""

import argparse
import copy
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skdistill import DistilledClassifier, TorchStudent, TorchTeacher

N_CLASSES = 10
T = 4.0
ALPHA = 0.5
TARGET_RATIO = 1.3


def make_data(n_rows, n_features, seed=0):
    """``n_rows`` training rows and ``n_rows // 4`` held-out rows, float32, labels 0..9 as int64."""
    n_test = max(n_rows // 4, N_CLASSES)
    X, y = make_classification(
        n_samples=n_rows + n_test,
        n_features=n_features,
        n_informative=min(n_features, 20),
        n_redundant=min(max(n_features - 20, 0), 6),
        n_classes=N_CLASSES,
        n_clusters_per_class=2,
        class_sep=1.5,
        random_state=seed,
    )
    X = X.astype(np.float32)
    y = y.astype(np.int64)
    return X[:n_rows], y[:n_rows], X[n_rows:], y[n_rows:]


def make_mlp(widths, seed):
    """A ReLU MLP with the given layer widths, initialised from ``seed``."""
    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def hand_loop(module, X, y, *, epochs, batch_size, lr, seed=0):
    """Train ``module`` in place on hard labels with a minimal PyTorch loop; return it in eval mode."""
    X_t = torch.from_numpy(X)
    y_t = torch.from_numpy(y)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    n_rows = X_t.shape[0]
    module.train()
    for _ in range(epochs):
        order = torch.randperm(n_rows, generator=generator)
        for start in range(0, n_rows, batch_size):
            index = order[start : start + batch_size]
            loss = loss_fn(module(X_t[index]), y_t[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    module.eval()
    return module


def module_accuracy(module, X, y):
    with torch.inference_mode():
        return float((module(torch.from_numpy(X)).argmax(dim=1).numpy() == y).mean())


def run_a(student, teacher, X, y, X_test, y_test, args):
    module = copy.deepcopy(student)
    start = time.perf_counter()
    hand_loop(module, X, y, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    seconds = time.perf_counter() - start
    return seconds, module_accuracy(module, X_test, y_test)


def run_b(student, teacher, X, y, X_test, y_test, args):
    clf = DistilledClassifier(
        TorchTeacher(teacher),
        TorchStudent(
            copy.deepcopy(student),
            max_iter=args.epochs,
            batch_size=args.batch_size,
            learning_rate_init=args.lr,
            n_iter_no_change=10**6,
            random_state=0,
        ),
        T=T,
        alpha=ALPHA,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, float(clf.score(X_test, y_test))


def run_c(student, teacher, X, y, X_test, y_test, args):
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(
        copy.deepcopy(student),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=args.lr,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    start = time.perf_counter()
    net.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, float((net.predict(X_test) == y_test).mean())


def run_teacher_pass(student, teacher, X, y, X_test, y_test, args):
    """The teacher's single pass over the training rows, alone: the part of (b) that (a) does not have."""
    start = time.perf_counter()
    TorchTeacher(teacher).fit_logits(X, y)
    return time.perf_counter() - start, float("nan")


def skorch_available():
    try:
        import skorch  # noqa: F401
    except ImportError:
        return False
    return True


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000, help="training rows (default 20000)")
    parser.add_argument("--features", type=int, default=32, help="features (default 32)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per step (default 256)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each variant (default 5)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own, what users get)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    X, y, X_test, y_test = make_data(args.rows, args.features)

    student = make_mlp([args.features, 128, 128, N_CLASSES], seed=0)
    teacher = make_mlp([args.features, 512, 512, N_CLASSES], seed=1)
    teacher_epochs = 5
    hand_loop(teacher, X, y, epochs=teacher_epochs, batch_size=args.batch_size, lr=args.lr, seed=1)  # not timed
    teacher.requires_grad_(False)

    variants = {"a": ("hand-written torch loop (hard labels)", run_a)}
    variants["b"] = (f"DistilledClassifier, torch teacher, alpha={ALPHA}", run_b)
    has_skorch = skorch_available()
    if has_skorch:
        variants["c"] = ("skorch NeuralNetClassifier (hard labels)", run_c)
    variants["t"] = ("teacher pass alone (included in (b))", run_teacher_pass)

    print("Student training cost: skdistill versus a hand-written PyTorch loop")
    print(
        f"  data: {args.rows} x {args.features} float32, {N_CLASSES} classes (+{len(X_test)} held-out rows); "
        f"student MLP {args.features}-128-128-{N_CLASSES}"
    )
    print(
        f"  {args.epochs} epochs, batch {args.batch_size}, Adam lr={args.lr:g}, shuffled each epoch, "
        f"same initial weights for all"
    )
    print(
        f"  (b) times the whole fit, including one pass of the teacher MLP "
        f"{args.features}-512-512-{N_CLASSES} (trained {teacher_epochs} epochs beforehand, untimed)"
    )
    print(
        f"  torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
        f"{args.repeats} timed repeats interleaved after 1 warm-up round; medians reported"
    )
    if not has_skorch:
        print("  (c) skorch: skipped, skorch is not installed (pip install skorch)")
    print()

    # Untimed warm-up on a slice: first-call costs (lazy imports, allocator, kernels) are not measured.
    warm_rows = min(len(X), 4 * args.batch_size)
    warm_args = argparse.Namespace(**{**vars(args), "epochs": 1})
    for _, run in variants.values():
        run(student, teacher, X[:warm_rows], y[:warm_rows], X_test, y_test, warm_args)

    seconds = {key: [] for key in variants}
    accuracy = {}
    for _ in range(args.repeats):
        for key, (_, run) in variants.items():
            elapsed, accuracy[key] = run(student, teacher, X, y, X_test, y_test, args)
            seconds[key].append(elapsed)
    median = {key: statistics.median(values) for key, values in seconds.items()}

    print(f"{'':4}{'variant':<48}{'median s':>10}{'min s':>9}{'max s':>9}{'held-out acc':>14}")
    # The teacher pass has no model of its own to score: its accuracy column reads nan.
    for key, (label, _) in variants.items():
        print(
            f"({key}) {label:<48}{median[key]:>10.3f}{min(seconds[key]):>9.3f}{max(seconds[key]):>9.3f}"
            f"{accuracy[key]:>14.3f}"
        )
    print()
    ratio_ba = median["b"] / median["a"]
    verdict = "meets" if ratio_ba <= TARGET_RATIO else "MISSES"
    print(f"ratio (b)/(a) = {ratio_ba:.2f}  (target <= {TARGET_RATIO}; {verdict} the target)")
    training_only = (median["b"] - median["t"]) / median["a"]
    print(
        f"  of which: teacher pass {median['t'] / median['a']:.2f} x (a), "
        f"distillation training {training_only:.2f} x (a)"
    )
    if has_skorch:
        print(f"ratio (c)/(b) = {median['c'] / median['b']:.2f}  (skorch relative to skdistill)")
    else:
        print("ratio (c)/(b) = n/a  (skorch not installed)")
    print("Held-out accuracy is a sanity check that each model trained, not a quality comparison.")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
