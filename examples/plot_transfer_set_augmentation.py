"""
Transfer sets: let the teacher label synthetic rows
===================================================

A teacher can label as many rows as we can make. ``augment`` generates rows from the training rows
(Gaussian noise, MUNGE, or mixup) inside ``fit``; the teacher labels them and a depth-8 tree learns
from them too. We compare how often each tree agrees with the teacher on held-out digits.
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier, MLPStudent

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    network = MLPStudent(hidden_layer_sizes=(256,), max_iter=100, random_state=0).fit(X_train, y_train)

# %%
results = {}
for augment in [None, "noise", "munge", "mixup"]:
    distilled = DistilledClassifier(
        network.module_,
        DecisionTreeClassifier(max_depth=8, random_state=0),
        T=1.0,
        alpha=0.0,
        augment=augment,
        augment_size=5.0,
        random_state=0,
    ).fit(X_train, y_train)
    results[str(augment)] = (distilled.fidelity(X_test), distilled.score(X_test, y_test))
on_labels = DecisionTreeClassifier(max_depth=8, random_state=0).fit(X_train, y_train)
agreement = (on_labels.predict(X_test) == network.predict(X_test)).mean()
results["tree on labels"] = (agreement, on_labels.score(X_test, y_test))

print(f"{'augment':<16}{'agreement with teacher':>24}{'accuracy':>10}")
for name, (fidelity, accuracy) in results.items():
    print(f"{name:<16}{fidelity:>24.3f}{accuracy:>10.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(results), [fidelity for fidelity, _ in results.values()])
ax.set_xlabel("held-out agreement with the teacher")
ax.set_xlim(0.5, 1.0)
plt.show()
