"""SummaryWriter: TensorBoard's own reader (its event accumulator) reads back what it wrote."""

from __future__ import annotations

import io

import ember
import numpy as np
import pytest

pytest.importorskip("tensorboard", reason="the test extra installs tensorboard: pip install -e '.[test]'")
from ember.utils.tensorboard import SummaryWriter  # noqa: E402
from PIL import Image  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def _read(path) -> EventAccumulator:
    acc = EventAccumulator(
        str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}
    )
    acc.Reload()
    return acc


def test_scalars_histograms_images_and_text_read_back(tmp_path):
    weights = ember.randn(1000) * 2 + 1
    grey = np.linspace(0, 1, 6 * 8, dtype=np.float32).reshape(6, 8)
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
        w.add_scalar("accuracy", ember.tensor(0.75), 4)  # a one-element tensor
        w.add_histogram("fc/weight", weights, 3)
        w.add_image("sample", ember.tensor(np.stack([grey, 1 - grey, grey])), 2)  # CHW floats in [0, 1]
        w.add_image("grey", (grey * 255).astype(np.uint8), 2, dataformats="HW")
        w.add_text("notes", "lr **3e-3**", 1)
    acc = _read(tmp_path)
    tags = acc.Tags()
    assert set(tags["scalars"]) == {"loss/train", "accuracy"}
    loss = acc.Scalars("loss/train")
    assert [e.step for e in loss] == [0, 1, 2, 3, 4]
    assert [e.value for e in loss] == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])
    assert [(e.step, e.value) for e in acc.Scalars("accuracy")] == [(4, 0.75)]

    (hist,) = acc.Histograms("fc/weight")
    h, values = hist.histogram_value, weights.numpy().astype(np.float64)
    assert hist.step == 3 and h.num == 1000
    assert (h.min, h.max) == pytest.approx((values.min(), values.max()))
    assert h.sum == pytest.approx(values.sum()) and h.sum_squares == pytest.approx(values @ values)
    assert sum(h.bucket) == 1000 and len(h.bucket) == len(h.bucket_limit)
    assert list(h.bucket_limit) == sorted(h.bucket_limit) and h.bucket_limit[-1] >= values.max()

    (img,) = acc.Images("sample")
    assert (img.step, img.width, img.height) == (2, 8, 6)
    rgb = np.asarray(Image.open(io.BytesIO(img.encoded_image_string)))
    assert rgb.shape == (6, 8, 3)
    np.testing.assert_array_equal(rgb[..., 0], np.round(grey * 255).astype(np.uint8))
    np.testing.assert_array_equal(rgb[..., 1], np.round((1 - grey) * 255).astype(np.uint8))
    (g,) = acc.Images("grey")
    assert np.asarray(Image.open(io.BytesIO(g.encoded_image_string))).shape == (6, 8)

    (text,) = acc.Tensors("notes/text_summary")
    assert text.step == 1 and text.tensor_proto.string_val == [b"lr **3e-3**"]
    assert acc.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def test_add_scalars_writes_one_run_per_curve_as_pytorch_does(tmp_path):
    w = SummaryWriter(tmp_path)
    for step in range(3):
        w.add_scalars("loss", {"train": 1.0 - step / 10, "test": 1.2 - step / 10}, step)
    w.flush()
    for name, first in (("loss_train", 1.0), ("loss_test", 1.2)):
        acc = _read(tmp_path / name)
        assert acc.Tags()["scalars"] == ["loss"]
        assert [e.value for e in acc.Scalars("loss")] == pytest.approx([first, first - 0.1, first - 0.2])
    w.close()


def test_writer_errors_name_the_value_and_the_fix(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(
            ValueError, match=r"add_scalar\('loss'\): expected one number, got an array of shape \(3,\)"
        ):
            w.add_scalar("loss", ember.ones(3))
        with pytest.raises(ValueError, match=r"add_histogram\('w'\): the values are empty"):
            w.add_histogram("w", np.zeros(0))
        with pytest.raises(
            ValueError, match=r"add_image\('x'\): dataformats='CHW' needs a 3-d image, got shape \(4, 4\)"
        ):
            w.add_image("x", np.zeros((4, 4)))
        with pytest.raises(ValueError, match=r"add_image\('x'\): 2 channels in shape \(4, 4, 2\)"):
            w.add_image("x", np.zeros((4, 4, 2)), dataformats="HWC")


def test_train_digits_logs_loss_accuracy_and_lr_and_plots_its_curves(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from test_plots import png_size
    from test_training import load_example

    ex = load_example()
    logdir, plot = tmp_path / "run", tmp_path / "curves.png"
    argv = ["--epochs", "2", "--quiet", "--checkpoint", str(tmp_path / "c.safetensors")]
    assert ex.main(argv + ["--logdir", str(logdir), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    acc = _read(logdir)
    assert set(acc.Tags()["scalars"]) == {"loss/train", "accuracy/test", "lr"}
    loss = [e.value for e in acc.Scalars("loss/train")]
    accuracy = acc.Scalars("accuracy/test")
    assert [e.step for e in accuracy] == [1, 2] and len(loss) == 2 and loss[1] < loss[0]
    # the last epoch's logged accuracy is the one the example reports
    assert f"test accuracy: {accuracy[-1].value:.4f}" in out
    lr = [e.value for e in acc.Scalars("lr")]
    assert lr[0] == pytest.approx(3e-3) and lr[1] < lr[0]  # cosine annealing
    assert png_size(plot) == (800, 350)
