"""
Fidelity versus tree depth
==========================

How deep must a tree be to imitate a network? For each depth we distil a PyTorch MLP trained on
scikit-learn's digits into a tree (soft labels plus a MUNGE transfer set) and grow the same tree
on the labels, then measure on held-out digits how often each agrees with the network (fidelity).
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier, MLPStudent
from skdistill.metrics import fidelity_score

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    network = MLPStudent(hidden_layer_sizes=(256,), max_iter=100, random_state=0).fit(X_train, y_train)
teacher_labels = network.predict(X_test)

# %%
depths = [2, 4, 6, 8, 10]
rows = []
for depth in depths:
    tree = DecisionTreeClassifier(max_depth=depth, random_state=0)
    distilled = DistilledClassifier(
        network.module_, tree, T=1.0, alpha=0.0, augment="munge", augment_size=5.0, random_state=0
    ).fit(X_train, y_train)
    on_labels = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X_train, y_train)
    rows.append(
        (
            depth,
            fidelity_score(teacher_labels, distilled.predict(X_test)),
            fidelity_score(teacher_labels, on_labels.predict(X_test)),
            distilled.score(X_test, y_test),
            on_labels.score(X_test, y_test),
        )
    )

print(f"teacher (MLP 256) held-out accuracy: {network.score(X_test, y_test):.3f}")
print(f"{'depth':>5}{'fidelity distilled':>20}{'fidelity on labels':>20}{'acc distilled':>15}{'acc on labels':>15}")
for depth, fid_distilled, fid_labels, acc_distilled, acc_labels in rows:
    print(f"{depth:>5}{fid_distilled:>20.3f}{fid_labels:>20.3f}{acc_distilled:>15.3f}{acc_labels:>15.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(depths, [r[1] for r in rows], marker="o", label="distilled (soft labels + MUNGE)")
ax.plot(depths, [r[2] for r in rows], marker="s", label="trained on labels")
ax.set_xlabel("tree depth")
ax.set_ylabel("held-out agreement with the network")
ax.legend()
plt.show()
