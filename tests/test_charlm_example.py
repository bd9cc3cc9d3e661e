"""End to end: ``examples/train_charlm.py --quick`` (a one-block character Transformer on the
standard library's source) learns on every data device the kit runs on (``ember_device``: cpu and
cuda in ``make test``'s first run, opencl in the second), writes a checkpoint that loads into a
fresh model with the same validation loss, resumes from it exactly where the run left off, and
samples text of the requested length from its vocabulary."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import ember
import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_charlm.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_charlm", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # the example's dataclass looks its module up while it is created
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def device(ember_device: ember.Device) -> ember.Device:
    """The kit's device, when it holds values (training reads its losses back)."""
    if not getattr(ember_device.backend, "has_data", True):
        pytest.skip(f"device {ember_device} holds shapes only; training reads values back")
    return ember_device


def run(ex, device: ember.Device, out: Path, *extra: str) -> dict:
    args = ex.parse_args(["--quick", "--quiet", "--device", str(device), "--out", str(out), *extra])
    with ex._blas_threads(1):
        return ex.train(args)


def test_quick_run_learns_checkpoints_and_resumes(device: ember.Device, tmp_path: Path) -> None:
    ex = load_example()
    full = run(ex, device, tmp_path / "full.safetensors", "--steps", "40")
    losses = full["history"]["loss"]
    assert full["history"]["step"] == [10, 20, 30, 40]
    vocab = len(ember.load(full["checkpoint"])["vocab"])
    # from about ln(vocab) (uniform guessing) to below the unigram baseline
    assert losses[0] > losses[-1] + 0.3, losses
    assert full["val_loss"] < full["unigram"] < math.log(vocab), full
    assert full["history"]["val_loss"][-1] < full["history"]["val_loss"][0]

    # the checkpoint rebuilds the model: same validation loss in a fresh model
    model, data = ex.load_checkpoint(full["checkpoint"], device)
    args = ex.parse_args(["--quick"])
    assert ex.estimate_val_loss(model, data, args, device) == pytest.approx(full["val_loss"], rel=1e-5)
    ckpt = ember.load(full["checkpoint"])
    assert ckpt["step"] == 40 and ckpt["config"]["n_layer"] == 1 and ckpt["flags"]["decay_steps"] == 40
    assert {"model", "optimizer", "scheduler", "vocab"} <= set(ckpt)

    # half the run, its schedule planned for 40 steps, then resumed to 40: the uninterrupted run
    half = run(ex, device, tmp_path / "half.safetensors", "--steps", "20", "--decay-steps", "40")
    assert ember.load(half["checkpoint"])["step"] == 20
    resumed = run(
        ex, device, tmp_path / "resumed.safetensors", "--steps", "40", "--resume", half["checkpoint"]
    )
    assert resumed["history"]["step"] == [30, 40]
    assert resumed["history"]["loss"] == pytest.approx(losses[2:], rel=1e-4, abs=1e-4)
    assert resumed["val_loss"] == pytest.approx(full["val_loss"], rel=1e-4)
    a, b = ember.load(full["checkpoint"]), ember.load(resumed["checkpoint"])
    assert a["optimizer"]["param_groups"][0]["lr"] == pytest.approx(b["optimizer"]["param_groups"][0]["lr"])
    for k in a["model"]:
        np.testing.assert_allclose(
            a["model"][k].numpy(), b["model"][k].numpy(), rtol=1e-4, atol=1e-5, err_msg=k
        )


def test_sampling_gives_text_of_the_requested_length(device: ember.Device, tmp_path: Path) -> None:
    ex = load_example()
    res = run(
        ex, device, tmp_path / "c.safetensors", "--steps", "20", "--sample-chars", "30", "--prompt", "def "
    )
    model, data = ex.load_checkpoint(res["checkpoint"], device)
    assert len(res["sample"]) == 4 + 30 and res["sample"].startswith("def ")
    assert set(res["sample"]) <= set(data.vocab)
    gen = ember.Generator(device, seed=1)
    ids = ex.generate(model, data.encode("import "), 25, temperature=0.7, top_k=5, generator=gen)
    assert len(ids) == 7 + 25 and all(0 <= i < len(data.vocab) for i in ids)
    # top-k 1 is greedy: the same text whatever the generator
    g1 = ex.generate(model, data.encode("x = "), 12, top_k=1, generator=ember.Generator(device, seed=1))
    g2 = ex.generate(model, data.encode("x = "), 12, top_k=1, generator=ember.Generator(device, seed=2))
    assert g1 == g2
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        ex.generate(model, [1], 3, temperature=0.0)
    with pytest.raises(ValueError, match=r"characters \['\\x00'\] are not in the vocabulary"):
        data.encode("\x00")


def test_max_val_ratio_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex = load_example()
    argv = [
        "--quick",
        "--quiet",
        "--device",
        "cpu",
        "--steps",
        "10",
        "--out",
        str(tmp_path / "c.safetensors"),
    ]
    assert ex.main([*argv, "--max-val-ratio", "0.2"]) == 1
    captured = capsys.readouterr()
    assert "FAILED: val loss / unigram" in captured.err and "> --max-val-ratio 0.2" in captured.err
    assert "val loss" in captured.out and "checkpoint:" in captured.out


def test_compiled_run_equals_the_eager_run(device: ember.Device, tmp_path: Path) -> None:
    """``--compile`` trains the same model as eager, bit for bit (losses, validation loss,
    weights): the step (forward, loss, backward, clipping, AdamW under the warm-up/cosine
    schedule) is captured once and replayed, with no fallback to eager."""
    import warnings

    from ember.compile import CompileWarning

    ex = load_example()
    eager = run(ex, device, tmp_path / "eager.safetensors", "--steps", "20")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled = run(ex, device, tmp_path / "compiled.safetensors", "--steps", "20", "--compile")
    assert compiled["history"]["loss"] == eager["history"]["loss"]
    assert compiled["val_loss"] == eager["val_loss"]
    a, b = ember.load(eager["checkpoint"]), ember.load(compiled["checkpoint"])
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy(), err_msg=k)
