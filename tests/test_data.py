"""ember.data: datasets, random_split, DataLoader batching, shuffling and collation."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


class Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": ember.tensor([float(i), float(i * i)]), "y": i}


def test_tensor_dataset():
    x, y = ember.randn(6, 3), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[2])
    assert yi.item() == 2
    with pytest.raises(
        ValueError,
        match=r"size mismatch between tensors: tensor 0 has 6 rows but tensor "
        r"1 has "
        r"shape \(5,\)",
    ):
        TensorDataset(x, ember.arange(5))


def test_dataloader_batches_and_drop_last():
    ds = TensorDataset(ember.arange(10).float(), ember.arange(10))
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(ds, batch_size=4)) == 3
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)


def test_shuffle_is_seeded_and_covers_everything():
    ds = TensorDataset(ember.arange(20))

    def order(gen):
        return [v for (b,) in DataLoader(ds, batch_size=6, shuffle=True, generator=gen) for v in b.tolist()]

    a, b = order(ember.Generator(seed=3)), order(ember.Generator(seed=3))
    assert a == b and sorted(a) == list(range(20)) and a != list(range(20))
    gen = ember.Generator(seed=3)
    first, second = order(gen), order(gen)
    assert first != second  # a new order each epoch
    ember.manual_seed(5)
    c = order(None)
    ember.manual_seed(5)
    assert order(None) == c


def test_default_collate_structures():
    batch = list(DataLoader(Squares(), batch_size=4))
    assert batch[0]["x"].shape == (4, 2) and batch[0]["y"].tolist() == [0, 1, 2, 3]
    out = default_collate([(ember.zeros(2), 1.5), (ember.ones(2), 2.5)])
    assert isinstance(out, tuple) and out[0].shape == (2, 2) and out[1].tolist() == [1.5, 2.5]
    custom = list(DataLoader(Squares(), batch_size=5, collate_fn=lambda items: len(items)))
    assert custom == [5, 5]


def test_subset_and_random_split():
    ds = Squares()
    sub = Subset(ds, [3, 1])
    assert len(sub) == 2 and sub[0]["y"] == 3
    a, b = random_split(ds, [7, 3], generator=ember.Generator(seed=0))
    assert len(a) == 7 and len(b) == 3 and sorted(a.indices + b.indices) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=ember.Generator(seed=0))
    assert a.indices == a2.indices
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=ember.Generator(seed=1))
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(
        ValueError,
        match=r"sum of input lengths 9 does not equal the length of the input "
        r"dataset "
        r"\(10\)",
    ):
        random_split(ds, [5, 4])


def test_dataset_base_errors():
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        Dataset()[0]
