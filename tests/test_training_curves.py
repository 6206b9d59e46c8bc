"""The training curve: what each epoch reports, how it is drawn, and what it tells a learner."""

from __future__ import annotations

from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from cvlib.data.dataset import load_dataset
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.fine_tune import accuracy_metrics
from cvlib.training.train import train
from ui.plots import training_curves
from ui.training import reading_the_curves

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def test_multi_label_accuracy_is_the_exact_match_in_every_epoch_as_at_the_quick_point():
    logits = torch.tensor([[5.0, -5.0, 5.0, -5.0], [5.0, 5.0, -5.0, -5.0]])
    truth = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])  # 2nd: one label wrong
    accuracy, hamming = accuracy_metrics(multi_label=True)
    assert (accuracy.__name__, hamming.__name__) == ("accuracy", "hamming_accuracy")
    assert float(accuracy(logits, truth)) == 0.5  # exact match, as evaluate() names it
    assert float(hamming(logits, truth)) == 7 / 8


def test_every_epoch_reports_training_and_validation_loss_and_accuracy():
    dataset = load_dataset(SAMPLE / "fridge4")
    progress = Progress()
    result = train(dataset, TrainConfig(mode="full", architecture="efficientnet_lite0",
                                        image_size=64, epochs=2, batch_size=32),
                   progress=progress)
    assert [r["epoch"] for r in result.history] == [0, 1, 2]
    for record in result.history:
        assert {"train_loss", "valid_loss", "train_accuracy", "accuracy"} <= set(record)
        assert 0 <= record["train_accuracy"] <= 1 and record["train_loss"] > 0
    assert result.history == progress.history
    figure = training_curves(result.history, total_epochs=2).to_dict()
    lines = {(t["name"], t["xaxis"]): t["x"] for t in figure["data"]}
    assert all(len(x) == 3 for x in lines.values()) and len(lines) == 4


def test_a_quick_run_is_drawn_as_bars_on_axes_that_start_at_zero():
    point = [{"epoch": 0, "train_loss": 0.1, "valid_loss": 0.3, "train_accuracy": 1.0,
              "accuracy": 0.9}]
    layout = training_curves(point).to_dict()
    assert {t["type"] for t in layout["data"]} == {"bar"}
    assert layout["layout"]["yaxis"]["range"][0] == 0  # loss: never a negative axis
    assert layout["layout"]["yaxis2"]["range"] == [0, 1.02]
    assert "range" not in layout["layout"]["xaxis"]  # no -1...1 epoch axis


def test_the_curves_are_read_back_to_the_learner_in_plain_words():
    def epoch(n, train_acc, valid_loss, acc=0.8):
        return {"epoch": n, "train_loss": 1 - train_acc, "valid_loss": valid_loss,
                "train_accuracy": train_acc, "accuracy": acc}

    overfit = reading_the_curves([epoch(0, 0.9, 0.5), epoch(1, 0.97, 0.4),
                                  epoch(2, 1.0, 0.6)])
    assert any("**Overfitting**" in s and "lowest at epoch 1" in s for s in overfit)
    underfit = reading_the_curves([epoch(0, 0.5, 1.2, 0.4), epoch(1, 0.6, 1.0, 0.5)])
    assert any("**Underfitting**" in s for s in underfit)
    quick = reading_the_curves([epoch(0, 1.0, 0.2, 0.95)])
    assert any("no epochs" in s for s in quick)


def show_quick_vs_full(result) -> None:
    """The page's comparison of quick and full training, for one result."""
    from ui.training import quick_vs_full

    quick_vs_full(result)


def test_full_training_that_does_not_beat_quick_mode_says_so_with_both_figures():
    dataset = load_dataset(SAMPLE / "fridge4")
    result = train(dataset, TrainConfig(mode="full", architecture="efficientnet_lite0",
                                        image_size=64, epochs=1, batch_size=32, lr=1e-9))
    quick = result.history[0]["accuracy"]
    assert result.metrics["accuracy"] <= quick  # a rate this small cannot improve the head
    at = AppTest.from_function(show_quick_vs_full, args=(result,), default_timeout=30).run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("**Full training did not beat quick mode here**")
    assert f"({result.metrics['accuracy']:.1%} against {quick:.1%}" in warning
    assert "quick mode is the better buy" in warning
