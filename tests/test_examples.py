"""The examples run as a user runs them, and print what they promise."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name):
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.mark.slow
def test_quickstart_prints_teacher_student_and_baseline():
    output = run_example("plot_quickstart.py")
    rows = {
        label: (int(params.replace(",", "")), float(accuracy))
        for label, params, accuracy in re.findall(
            r"^(teacher|distilled student|same student).*?\s([\d,]+)\s+([\d.]+)$", output, re.M
        )
    }
    assert set(rows) == {"teacher", "distilled student", "same student"}, output
    assert rows["teacher"][1] > 0.9
    assert rows["distilled student"][0] == rows["same student"][0] < rows["teacher"][0] / 100
    assert "agrees with the teacher" in output


@pytest.mark.slow
def test_nn_to_logistic_prints_readable_coefficients():
    output = run_example("plot_nn_to_logistic.py")
    assert "route: logistic; student_ is a plain LogisticRegression" in output
    accuracy = float(re.search(r"^distilled logistic regression\s+([\d.]+)", output, re.M).group(1))
    assert accuracy > 0.9
    effects = output.split("largest effects")[1].strip().splitlines()[1:]
    assert len(effects) == 8 and all(re.match(r"^(mean|worst|\w+ error|\w+) .*-?\d\.\d+$", line) for line in effects)


@pytest.mark.slow
def test_nn_to_tree_prints_rules_and_a_multi_split_comparison():
    output = run_example("plot_nn_to_tree.py")
    assert re.search(r"^agreement, distilled tree\s+[\d.]+\s+[\d.]+\s+[\d.]+$", output, re.M)
    assert re.search(r"^agreement, tree on labels\s+[\d.]+\s+[\d.]+\s+[\d.]+$", output, re.M)
    rules = [line for line in output.splitlines() if line.startswith("|---")]
    assert rules and all(("worst" in line or "mean" in line or "error" in line) for line in rules[:2])
    assert "class: malignant" in output or "class: benign" in output


@pytest.mark.slow
def test_fidelity_vs_depth_table():
    output = run_example("plot_fidelity_vs_depth.py")
    rows = [line.split() for line in output.splitlines() if re.match(r"^\s+\d+\s+[\d.]+", line)]
    assert [int(row[0]) for row in rows] == [2, 4, 6, 8, 10]
    distilled_fidelity = [float(row[1]) for row in rows]
    assert distilled_fidelity[-1] > distilled_fidelity[0] + 0.3  # deeper trees imitate the network better


@pytest.mark.slow
def test_grid_search_heatmap_example():
    output = run_example("plot_grid_search_heatmap.py")
    best = re.search(r"best parameters: \{'T': ([\d.]+), 'alpha': ([\d.]+)\}", output)
    assert best and float(best.group(1)) in (1.0, 2.0, 4.0, 8.0)
    assert float(re.search(r"held-out accuracy of the best student: ([\d.]+)", output).group(1)) > 0.9
    # 3 folds + the refit, for 4 x 3 candidates x 3 folds + 1 = 37 fits.
    assert "teacher passes: 4 for 37 fits (33 answered from the cache)" in output


@pytest.mark.slow
def test_transfer_set_example_compares_every_augmenter():
    output = run_example("plot_transfer_set_augmentation.py")
    rows = dict(re.findall(r"^(None|noise|munge|mixup|tree on labels)\s+([\d.]+)", output, re.M))
    assert set(rows) == {"None", "noise", "munge", "mixup", "tree on labels"}
    assert all(0.5 < float(value) <= 1.0 for value in rows.values())


@pytest.mark.slow
def test_active_transfer_set_example_compares_samplers_at_each_budget():
    output = run_example("plot_active_transfer_set.py")
    assert re.search(r"^over 5 splits, held-out agreement with the teacher", output, re.M), output
    header = next(line for line in output.splitlines() if line.lstrip().startswith("queries"))
    assert header.split()[3:6] == ["noise", "munge", "active"], header
    triple = r"([\d.]+) \[([\d.]+), ([\d.]+)\]"
    baseline = tuple(float(value) for value in re.search(rf"^no augmentation: {triple}$", output, re.M).groups())
    rows = re.findall(rf"^\s*(\d+)\s+([\d.]+)\s+{triple}\s+{triple}\s+{triple}\s+([+-][\d.]+) \(higher (\d)/5\)"
                      rf"\s+([\d.]+)x$", output, re.M)
    assert [float(row[1]) for row in rows] == [0.25, 0.5, 1.0, 2.0, 4.0], output
    n_train = 898  # half of the 1,797 digits
    assert [int(row[0]) for row in rows] == [round(budget * n_train) for budget in (0.25, 0.5, 1.0, 2.0, 4.0)]
    fidelity = {}
    for row in rows:
        budget = float(row[1])
        for column, sampler in enumerate(("noise", "munge", "active")):
            mean, low, high = (float(value) for value in row[2 + 3 * column : 5 + 3 * column])
            assert 0.0 <= low <= mean <= high <= 1.0, (sampler, budget)
            fidelity[sampler, budget] = mean
        assert abs(float(row[11]) - (fidelity["active", budget] - fidelity["munge", budget])) < 0.0015
        assert float(row[13]) > 1.5  # the active student is fitted 5 times, the MUNGE student once
    assert 0.0 <= baseline[1] <= baseline[0] <= baseline[2] <= 1.0

    # From the training rows' size up, active beat MUNGE by +0.034 to +0.070 (mean over the 1x, 2x
    # and 4x budgets) and the no-augmentation tree by +0.043 to +0.083, over three sets of 5 splits.
    def large_budgets(sampler):
        return sum(fidelity[sampler, budget] for budget in (1.0, 2.0, 4.0)) / 3

    assert large_budgets("active") > large_budgets("munge") + 0.02, output
    assert large_budgets("active") > baseline[0] + 0.02, output
    assert re.search(r"^active fit time / munge fit time, median over all budgets and splits: [\d.]+x", output, re.M)


@pytest.mark.slow
def test_regression_to_tree_prints_fidelity_over_splits_and_rules():
    output = run_example("plot_regression_to_tree.py")
    rows = {
        name: float(mean)
        for name, mean in re.findall(r"^(network vs truth|distilled tree vs network|tree on targets vs network)\s+(-?[\d.]+)", output, re.M)
    }
    assert set(rows) == {"network vs truth", "distilled tree vs network", "tree on targets vs network"}, output
    assert rows["network vs truth"] > 0.8  # the teacher is worth imitating
    assert 0.3 < rows["distilled tree vs network"] <= 1.0
    rules = [line for line in output.splitlines() if line.startswith("|---")]
    assert rules and all(re.match(r"^\|--- x\d [<>]=? ", line) for line in rules)
    assert "value: [" in output


@pytest.mark.slow
def test_ensemble_teachers_example_compares_the_ensemble_with_each_teacher():
    output = run_example("plot_ensemble_teachers.py")
    assert re.search(r"^over 4 splits, held-out rows", output, re.M), output
    rows = {
        name: tuple(float(value) for value in values)
        for name, *values in re.findall(
            r"^((?:network|boosting|ensemble) \(teacher\)|student on labels|student <- \w+(?:, \+ unlabelled)?)"
            r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
            output,
            re.M,
        )
    }
    teachers = ["network", "boosting", "ensemble"]
    expected = {f"{name} (teacher)" for name in teachers} | {"student on labels"}
    expected |= {f"student <- {name}{suffix}" for name in teachers for suffix in ("", ", + unlabelled")}
    assert set(rows) == expected, output
    for name, (mean, low, high, agreement) in rows.items():
        assert 0.0 <= low <= mean <= high <= 1.0, name
        assert 0.0 <= agreement <= 1.0, name
    assert rows["ensemble (teacher)"][3] == 1.0  # the agreement column compares with the ensemble itself
    assert all(rows[f"{name} (teacher)"][0] > 0.4 for name in teachers)  # four classes: chance is about 0.25
    # Distilled with unlabelled rows, the student follows the ensemble more closely than on labels alone.
    assert rows["student <- ensemble, + unlabelled"][3] > rows["student on labels"][3]


@pytest.mark.slow
def test_deploy_example_prints_size_latency_and_fidelity_at_each_step():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    output = run_example("plot_deploy_student.py")
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^(.+?)\s{2,}([\d,]+)\s+([\d,]*)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if match:
            name, params, size, one, many, agreement, accuracy = match.groups()
            rows[name.strip()] = (int(params.replace(",", "")), int(size.replace(",", "") or 0), float(one), float(agreement))
    steps = [f"{model}, {kind}" for model in ("distilled MLP(64)", "pruned to MLP(32)") for kind in ("ONNX float32", "ONNX int8", "skdistill predict")]
    assert set(steps) <= set(rows), output
    for model in ("distilled MLP(64)", "pruned to MLP(32)"):
        float32, int8, python = (rows[f"{model}, {kind}"] for kind in ("ONNX float32", "ONNX int8", "skdistill predict"))
        assert int8[1] < float32[1]  # int8 weights: a smaller file
        assert float32[2] < python[2]  # the exported model answers a row faster than Python's predict
        assert min(float32[3], int8[3], python[3]) > 0.9  # all agree with the teacher
    assert rows["pruned to MLP(32), ONNX float32"][0] < 0.6 * rows["distilled MLP(64), ONNX float32"][0]


@pytest.mark.slow
def test_boosting_student_example_compares_labels_and_both_routes():
    output = run_example("plot_boosting_student.py")
    number = r"\s+([\d.]+)"
    rows = {
        (student, route or "labels"): tuple(float(value) for value in values)
        for student, route, *values in re.findall(
            r"^(HistGradientBoosting|LightGBM)\s+(?:labels|forest, route_='(\w+)')" + number * 9 + "$", output, re.M
        )
    }
    students = ["HistGradientBoosting"] + ([] if "LightGBM is not installed" in output else ["LightGBM"])
    assert set(rows) == {(student, kind) for student in students for kind in ("labels", "boosting", "sample_weight")}
    assert float(re.search(r"held-out accuracy ([\d.]+)", output).group(1)) > 0.7  # the forest teacher
    for student in students:
        labels, boosting = rows[student, "labels"], rows[student, "boosting"]
        # columns: accuracy mean, min, max; agreement mean, min, max; fit time ratio median, min, max.
        assert boosting[3] > labels[3] + 0.01, student  # measured +0.026 to +0.037
        assert boosting[0] > labels[0] - 0.05, student  # measured -0.018 to -0.005: not more accurate
        gain = re.search(rf"^{student}: .* agreement ([-+][\d.]+) to ([-+][\d.]+)$", output, re.M)
        assert float(gain.group(1)) > 0.0, student  # more agreement on every seed (+0.017 at least)
    # Boosting on the soft loss costs about one fit; expanded rows cost HistGradientBoosting 5 to 6 fits.
    boosting_ratio = rows["HistGradientBoosting", "boosting"][6]
    assert boosting_ratio < 3.0 and boosting_ratio < rows["HistGradientBoosting", "sample_weight"][6] / 2
    curve = {
        int(rounds): tuple(map(float, values))
        for rounds, *values in re.findall(r"^\s*(\d+)" + number * 4 + "$", output, re.M)
    }
    assert sorted(curve) == [10, 20, 50, 100, 200, 300], output
    assert all(curve[rounds][1] > curve[rounds][0] + 0.02 for rounds in (200, 300))  # measured +0.049 and +0.052
