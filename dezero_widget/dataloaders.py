"""Mini-batches from a Dataset: DeZero's DataLoader and SeqDataLoader.

Same batches as DeZero for the same seed: the shuffle is one `np.random.permutation` when
the loader is made and another each time an epoch ends, exactly when DeZero draws them.
Arrays stay on the CPU (`gpu` and `to_gpu()` are accepted and change nothing).
"""

from __future__ import annotations

import math

import numpy as np

from dezero_widget.datasets import Dataset, _identity


class DataLoader:
    """Iterate over (x, t) batches of `batch_size` examples; an epoch ends with StopIteration.

    The loader starts over by itself (reshuffled) after each epoch, so `for x, t in loader`
    can run once per epoch on the same loader.
    """

    def __init__(self, dataset, batch_size, shuffle=True, gpu=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / batch_size)
        self.gpu = gpu
        self.reset()

    def reset(self):
        self.iteration = 0
        if self.shuffle:
            self.index = np.random.permutation(len(self.dataset))
        else:
            self.index = np.arange(len(self.dataset))

    def __iter__(self):
        return self

    def _batch(self, batch_index):
        dataset = self.dataset
        if _rows_as_stored(dataset):  # the same arrays, by one fancy index instead of per example
            return dataset.data[batch_index], dataset.label[batch_index]
        batch = [dataset[i] for i in batch_index]
        x = np.array([example[0] for example in batch])
        t = np.array([example[1] for example in batch])
        return x, t

    def __next__(self):
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        i, size = self.iteration, self.batch_size
        batch = self._batch(self.index[i * size : (i + 1) * size])
        self.iteration += 1
        return batch

    def next(self):
        return self.__next__()

    def to_cpu(self):
        self.gpu = False

    def to_gpu(self):
        """No GPU here (see `dezero_widget.cuda`): batches stay numpy arrays."""
        self.gpu = True


class SeqDataLoader(DataLoader):
    """Batches for truncated backprop through time: row b of each batch walks through the data
    from offset b * (len // batch_size), one step per batch, so each row is a contiguous sequence."""

    def __init__(self, dataset, batch_size, gpu=False):
        super().__init__(dataset=dataset, batch_size=batch_size, shuffle=False, gpu=gpu)

    def __next__(self):
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        jump = self.data_size // self.batch_size
        batch = self._batch([(b * jump + self.iteration) % self.data_size for b in range(self.batch_size)])
        self.iteration += 1
        return batch


def _rows_as_stored(dataset) -> bool:
    """True when a dataset's examples are the rows of its `data` and `label` arrays unchanged:
    this package's Dataset indexing, no transform, plain ndarrays."""
    return (
        type(dataset).__getitem__ is Dataset.__getitem__
        and dataset.transform is _identity
        and dataset.target_transform is _identity
        and type(dataset.data) is np.ndarray
        and type(dataset.label) is np.ndarray
    )
