"""TensorBoard logging with PyTorch's ``SummaryWriter`` methods, on TensorBoard's own event-file
writer and protocol buffers (the ``tensorboard`` package; images are encoded as PNG with Pillow).

    from ember.utils.tensorboard import SummaryWriter

    with SummaryWriter("runs/digits") as writer:
        writer.add_scalar("loss/train", loss.item(), step)
        writer.add_histogram("fc1/weight", model.fc1.weight, step)
    # then: tensorboard --logdir runs

Values may be Ember tensors (any device: they are read back to the host), numpy arrays or
Python numbers. Tags, layouts and file names are PyTorch's, so TensorBoard shows an Ember run
exactly as it shows a PyTorch one.
"""

from __future__ import annotations

import io
import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

__all__ = ["SummaryWriter"]

_INSTALL = "pip install 'ember[tensorboard]'"


def _tb() -> Any:
    """TensorBoard's writer and protos, imported on first use with a message naming the extra."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
        from tensorboard.plugins.text import plugin_data_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as exc:  # pragma: no cover - the test extra installs tensorboard
        raise ImportError(
            f"ember.utils.tensorboard needs the tensorboard package ({exc}); install it with {_INSTALL}"
        ) from exc
    return event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, plugin_data_pb2, EventFileWriter


def _numpy(value: Any, what: str) -> np.ndarray:
    """``value`` (an Ember tensor, array or number) as a host numpy array."""
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        return value.detach().numpy()
    try:
        return np.asarray(value)
    except Exception as exc:
        raise TypeError(
            f"{what}: expected an ember Tensor, a numpy array or a number, got {value!r}"
        ) from exc


def _scalar(value: Any, what: str) -> float:
    arr = _numpy(value, what)
    if arr.size != 1:
        raise ValueError(
            f"{what}: expected one number, got an array of shape {arr.shape}; log a reduction "
            "(loss.mean()) or use add_histogram for many values"
        )
    return float(arr.reshape(()))


def _tensorflow_bins() -> np.ndarray:
    """TensorFlow's (and PyTorch's) default histogram edges: +-1e-12 growing by 1.1 to 1e20, and 0."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    edges = np.array(pos)
    return np.concatenate([-edges[::-1], [0.0], edges])


class SummaryWriter:
    """Write TensorBoard event files to ``log_dir`` (default ``runs/<date>_<host><comment>``).

    ``max_queue`` events are buffered and written at the latest every ``flush_secs`` seconds, by
    :meth:`flush` or by :meth:`close`. Use as a context manager to close it on exit.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        comment: str = "",
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        _tb()  # fail here, with the remedy, rather than at the first add_*
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix
        self._writers: dict[str, Any] = {}

    # -- writers -----------------------------------------------------------------------------------
    def _writer(self, log_dir: str | None = None) -> Any:
        """The event-file writer for ``log_dir`` (this writer's own by default), opened on first use
        (and again after :meth:`close`, as PyTorch does)."""
        path = self.log_dir if log_dir is None else log_dir
        w = self._writers.get(path)
        if w is None:
            event_file_writer = _tb()[5]
            w = self._writers[path] = event_file_writer(path, self._max_queue, self._flush_secs, self._suffix)
        return w

    def _add(
        self, summary: Any, step: int | None, walltime: float | None, log_dir: str | None = None
    ) -> None:
        event_pb2 = _tb()[0]
        event = event_pb2.Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if step is not None:
            event.step = int(step)
        self._writer(log_dir).add_event(event)

    def get_logdir(self) -> str:
        """The directory the event files go to."""
        return self.log_dir

    # -- summaries ---------------------------------------------------------------------------------
    def add_scalar(
        self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Log one number (a Python number or a one-element tensor) under ``tag`` at ``global_step``."""
        summary_pb2 = _tb()[1]
        value = _scalar(scalar_value, f"add_scalar({tag!r})")
        self._add(
            summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]),
            global_step,
            walltime,
        )

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log several numbers as curves of one chart: each goes to its own run directory
        ``<log_dir>/<main_tag>_<tag>`` under the tag ``main_tag``, as PyTorch lays them out."""
        summary_pb2 = _tb()[1]
        walltime = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            scalar = _scalar(value, f"add_scalars({main_tag!r}, {tag!r})")
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            summary = summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag=main_tag, simple_value=scalar)]
            )
            self._add(summary, global_step, walltime, run)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: str | int | Any = "tensorflow",
        walltime: float | None = None,
    ) -> None:
        """Log the distribution of ``values`` (a tensor or array of any shape). ``bins`` is
        ``"tensorflow"`` (TensorBoard's default exponential buckets) or anything
        ``numpy.histogram`` takes (a count, edges, ``"auto"``...)."""
        summary_pb2 = _tb()[1]
        what = f"add_histogram({tag!r})"
        v = _numpy(values, what).reshape(-1).astype(np.float64)
        if v.size == 0:
            raise ValueError(f"{what}: the values are empty; a histogram needs at least one value")
        if not np.isfinite(v).all():
            raise ValueError(f"{what}: the values contain NaN or infinity; filter them before logging")
        edges = _tensorflow_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
        counts, limits = np.histogram(v, bins=edges)
        full = np.nonzero(counts)[0]
        if full.size == 0:  # everything outside TensorFlow's +-1e20 edges
            raise ValueError(f"{what}: no value falls inside the bins {bins!r}")
        lo, hi = int(full[0]), int(full[-1]) + 1
        # TensorBoard reads bucket_limit as right edges: an empty bucket first carries the left edge
        hist = summary_pb2.HistogramProto(
            min=float(v.min()),
            max=float(v.max()),
            num=int(v.size),
            sum=float(v.sum()),
            sum_squares=float(v.dot(v)),
            bucket_limit=limits[lo : hi + 1].tolist(),
            bucket=[0.0] + counts[lo:hi].astype(np.float64).tolist(),
        )
        self._add(
            summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=hist)]), global_step, walltime
        )

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Log an image: ``dataformats`` ``"CHW"`` (default), ``"HWC"`` or ``"HW"``, with 1 (grey),
        3 (RGB) or 4 (RGBA) channels; floats are taken as [0, 1], uint8 as [0, 255]."""
        summary_pb2 = _tb()[1]
        what = f"add_image({tag!r})"
        img = _numpy(img_tensor, what)
        if dataformats not in ("CHW", "HWC", "HW"):
            raise ValueError(f"{what}: dataformats={dataformats!r}; use 'CHW', 'HWC' or 'HW'")
        if img.ndim != len(dataformats):
            raise ValueError(
                f"{what}: dataformats={dataformats!r} needs a {len(dataformats)}-d image, "
                f"got shape {img.shape}"
            )
        if dataformats == "CHW":
            img = np.moveaxis(img, 0, -1)
        elif dataformats == "HW":
            img = img[:, :, None]
        channels = img.shape[-1]
        if channels not in (1, 3, 4):
            raise ValueError(
                f"{what}: {channels} channels in shape {img.shape}; use 1 (grey), 3 (RGB) or 4 (RGBA)"
            )
        if img.dtype != np.uint8:
            img = (img.astype(np.float32) * 255).clip(0, 255).round().astype(np.uint8)
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(img[:, :, 0] if channels == 1 else img).save(buf, format="PNG")
        image = summary_pb2.Summary.Image(
            height=img.shape[0], width=img.shape[1], colorspace=channels, encoded_image_string=buf.getvalue()
        )
        self._add(
            summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, image=image)]),
            global_step,
            walltime,
        )

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Log text (Markdown in TensorBoard's text tab) under ``<tag>/text_summary``, as PyTorch does."""
        _, summary_pb2, tensor_pb2, tensor_shape_pb2, plugin_data_pb2, _ = _tb()
        meta = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name="text", content=plugin_data_pb2.TextPluginData(version=0).SerializeToString()
            )
        )
        tensor = tensor_pb2.TensorProto(
            dtype="DT_STRING",
            string_val=[str(text_string).encode("utf-8")],
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1)]
            ),
        )
        value = summary_pb2.Summary.Value(tag=f"{tag}/text_summary", metadata=meta, tensor=tensor)
        self._add(summary_pb2.Summary(value=[value]), global_step, walltime)

    # -- lifetime ----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every buffered event to disk."""
        for w in self._writers.values():
            w.flush()

    def close(self) -> None:
        """Flush and close the event files (a later ``add_*`` opens new ones)."""
        for w in self._writers.values():
            w.close()
        self._writers.clear()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
