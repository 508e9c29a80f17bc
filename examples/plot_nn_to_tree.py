"""
Neural network to decision tree: rules you can print and draw
=============================================================

A neural network diagnoses breast tumours (scikit-learn's bundled Wisconsin data, 30 named
measurements). We distil it into a decision tree of depth 3, grown on the network's soft labels
(soft Gini impurity; each leaf holds a class distribution, not a single class). The network also
labels synthetic tumours made near the real ones (``augment="munge"``), so the tree learns the
network's decisions between the training points, not only at them.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, export_text, plot_tree

from skdistill import DistilledClassifier, MLPStudent

data = load_breast_cancer(as_frame=True)


def distil_once(split):
    """Teacher, distilled tree and the same tree on labels, for one train/test split."""
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.5, stratify=data.target, random_state=split
    )
    scaler = StandardScaler().set_output(transform="pandas").fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    # The teacher: a PyTorch MLP (trained with skdistill's MLPStudent for brevity).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        network = MLPStudent(hidden_layer_sizes=(64, 64), max_iter=200, random_state=0).fit(X_train, y_train)
    # The student: a depth-3 tree, on the network's soft labels and on 20 times as many synthetic
    # rows as there are training rows, labelled by the network.
    distilled = DistilledClassifier(
        network.module_,
        DecisionTreeClassifier(max_depth=3, random_state=0),
        T=1.0,
        alpha=0.0,
        augment="munge",
        augment_size=20.0,
        random_state=0,
    ).fit(X_train, y_train)
    on_labels = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
    teacher_labels = network.predict(X_test)
    scores = (
        network.score(X_test, y_test),
        distilled.fidelity(X_test),
        np.mean(on_labels.predict(X_test) == teacher_labels),
    )
    return distilled, scores


# %%
# Five train/test splits: how often does each depth-3 tree agree with the network on held-out
# tumours? (One split alone is too noisy to say.)
results = [distil_once(split) for split in range(5)]
scores = np.array([s for _, s in results])
print(f"over {len(scores)} splits      {'mean':>6}{'min':>7}{'max':>7}")
for name, column in [("teacher accuracy", 0), ("agreement, distilled tree", 1), ("agreement, tree on labels", 2)]:
    values = scores[:, column]
    print(f"{name:<26}{values.mean():>6.3f}{values.min():>7.3f}{values.max():>7.3f}")

# %%
# The rules of the first split's tree. ``student_`` is a plain scikit-learn tree, so
# scikit-learn's own tools read it.
tree = results[0][0].student_
print(export_text(tree, feature_names=list(tree.feature_names_in_), class_names=list(data.target_names)))

# %%
# The drawing: each node's ``value`` holds soft class counts.
fig, ax = plt.subplots(figsize=(14, 6))
plot_tree(tree, feature_names=list(tree.feature_names_in_), class_names=list(data.target_names), filled=True, ax=ax)
ax.set_title("Depth-3 tree distilled from a neural network")
plt.show()
