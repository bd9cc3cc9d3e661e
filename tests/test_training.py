"""End to end: the digits CNN example trains to a stated accuracy quickly, checkpoints, reloads, and
is deterministic for a seed; a small MLP with a scheduler and gradient clipping converges."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from ember.data import DataLoader, TensorDataset

pytest.importorskip("sklearn")
pytest.importorskip("tqdm")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_digits_cnn_reaches_96_percent_quickly(tmp_path, capsys):
    ex = load_example()
    ckpt = tmp_path / "digits.safetensors"
    t0 = time.perf_counter()
    rc = ex.main(
        ["--epochs", "10", "--seed", "0", "--quiet", "--min-accuracy", "0.96", "--checkpoint", str(ckpt)]
    )
    elapsed = time.perf_counter() - t0
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "test accuracy: 0.9" in out and "reloaded model accuracy" in out
    assert ckpt.exists() and elapsed < 30
    # the checkpoint restores a model with the same predictions
    state = ember.load(ckpt)
    assert state["epoch"] == 10 and state["accuracy"] >= 0.96
    model = ex.DigitsCNN()
    model.load_state_dict(state["model"])
    _, _, x_test, y_test = ex.load_digits_split(0, ember.get_default_device())
    assert ex.evaluate(model, x_test, y_test) == state["accuracy"]


def test_digits_min_accuracy_flag_fails_the_run(tmp_path, capsys):
    ex = load_example()
    rc = ex.main(
        [
            "--epochs",
            "1",
            "--quiet",
            "--min-accuracy",
            "0.999",
            "--checkpoint",
            str(tmp_path / "c.safetensors"),
        ]
    )
    assert rc == 1
    assert "FAILED: accuracy" in capsys.readouterr().err


def test_digits_training_is_deterministic(tmp_path):
    """Two runs with one seed give the same weights, and so does a third with ``--compile`` (the
    step captured and replayed through the backend's compiled graph, with no fallback)."""
    import warnings

    from ember.compile import CompileWarning

    ex = load_example()
    for name, extra in (("a", []), ("b", []), ("c", ["--compile"])):
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            ex.main(
                [
                    "--epochs",
                    "2",
                    "--seed",
                    "3",
                    "--quiet",
                    "--checkpoint",
                    str(tmp_path / f"{name}.safetensors"),
                ]
                + extra
            )
    a = ember.load(tmp_path / "a.safetensors")
    for other in ("b", "c"):
        b = ember.load(tmp_path / f"{other}.safetensors")
        assert a["accuracy"] == b["accuracy"]
        for k in a["model"]:
            np.testing.assert_array_equal(
                a["model"][k].numpy(), b["model"][k].numpy(), err_msg=f"{other}: {k}"
            )


def test_mlp_with_scheduler_and_clipping_converges():
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(np.int64)  # XOR-like quadrants: needs the hidden layer
    ds = TensorDataset(ember.tensor(x), ember.tensor(y))
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.GELU(), nn.Linear(32, 2))
    opt = ember.optim.AdamW(model.parameters(), lr=0.02)
    sched = ember.optim.lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=5)
    for _ in range(25):
        for xb, yb in DataLoader(ds, batch_size=64, shuffle=True):
            loss = F.cross_entropy(model(xb), yb, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        sched.step()
    with ember.no_grad():
        acc = (model(ember.tensor(x)).argmax(1) == ember.tensor(y)).float().mean().item()
    assert acc > 0.95
