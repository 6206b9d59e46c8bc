"""The label-error finder flags photos whose labels were flipped on purpose.

Labels are flipped in memory on the sample photos of ``sample_data/fridge4`` (no file is
touched); the feature cache makes the five cross-validated heads take seconds.  The sample's
milk and water bottles are confused on purpose, so some true labels are flagged too: the
flipped ones must still stand out.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cvlib.data.dataset import load_dataset
from cvlib.data.files import Item
from cvlib.training.label_errors import find_label_errors, label_error_finding, out_of_sample_probs
from tests.samples import FRIDGE4
from tests.samples import QUICK as CONFIG


def flipped(picks):
    """The sample set with the items at ``picks`` labelled as the next class."""
    dataset = load_dataset(FRIDGE4)
    items = list(dataset.items)
    for i in picks:
        given = dataset.classes.index(items[i].labels[0])
        items[i] = Item(items[i].path, (dataset.classes[(given + 1) % 4],))
    return replace(dataset, items=items), {dataset.name_of(items[i].path) for i in picks}


def test_flipped_labels_are_flagged_with_the_true_class_suggested():
    dataset, wrong = flipped([3, 40, 70, 100])  # one photo of each class
    truth = load_dataset(FRIDGE4)

    issues = find_label_errors(dataset, CONFIG)

    caught = [issue for issue in issues if issue.name in wrong]
    assert len(caught) >= 3
    top_names = [issue.name for issue in issues[:10]]
    assert len(wrong & set(top_names)) >= 3
    true_label = {truth.name_of(item.path): item.labels for item in truth.items}
    assert sum(issue.suggested == true_label[issue.name] for issue in caught) >= 3
    (finding,) = label_error_finding(issues)
    assert set(finding.items) == {issue.name for issue in issues}


def test_probabilities_are_out_of_sample_and_repeatable():
    dataset = load_dataset(FRIDGE4)
    first = out_of_sample_probs(dataset, CONFIG)
    assert first.shape == (120, 4)
    np.testing.assert_allclose(first.sum(1), 1, atol=1e-5)
    np.testing.assert_array_equal(first, out_of_sample_probs(dataset, CONFIG))
    # held-out accuracy is honest: well above chance, below the perfect score of memorising
    accuracy = (first.argmax(1) == dataset.targets()).mean()
    assert 0.5 < accuracy < 1.0
