"""Datasets: DeZero's toy sets generated locally, and the real ones read from local files.

`Spiral` and `SinCurve` give the same numbers as DeZero: `Spiral` reseeds numpy's global
random generator (1984 for training, 2020 for test) exactly as DeZero does, so the code
that follows it draws the same numbers too. `MNIST`, `CIFAR10`, `CIFAR100`, `Shakespear` and
`ImageNet.labels()` never download: they read DeZero's file names from `root`, else
$DEZERO_WIDGET_DATA, else ~/.dezero (where PyPI DeZero's downloads went), and otherwise raise
one FileNotFoundError naming the directory, the files expected and where to get them.
"""

from __future__ import annotations

import ast
import gzip
import os
import pickle
import tarfile
import tempfile

import numpy as np

from dezero_widget.transforms import Compose, Flatten, Normalize, ToFloat
from dezero_widget.utils import DATA_DIR_VARIABLE, cache_dir, data_dir, get_file  # noqa: F401  (DeZero's names)


def _identity(x):
    return x


class Dataset:
    """Examples `(transform(data[i]), target_transform(label[i]))`; subclasses fill data and label in `prepare`."""

    def __init__(self, train=True, transform=None, target_transform=None):
        self.train = train
        self.transform = _identity if transform is None else transform
        self.target_transform = _identity if target_transform is None else target_transform
        self.data = None
        self.label = None
        self.prepare()

    def __getitem__(self, index):
        if not np.isscalar(index):
            raise TypeError(
                f"a Dataset is indexed one example at a time (an int), not {type(index).__name__}"
            )
        if self.label is None:
            return self.transform(self.data[index]), None
        return self.transform(self.data[index]), self.target_transform(self.label[index])

    def __len__(self):
        return len(self.data)

    def prepare(self):
        pass


# =============================================================================
# Local files
# =============================================================================


def _local_files(dataset: str, root, names: list, source: str) -> list:
    """Paths of `names` in the data directory, or one FileNotFoundError saying what to put where."""
    directory = os.fspath(root) if root is not None else data_dir()
    paths = [os.path.join(directory, name) for name in names]
    missing = [name for name, path in zip(names, paths) if not os.path.exists(path)]
    if missing:
        raise FileNotFoundError(
            f"{dataset}: {', '.join(missing)} not found in {directory}. dezero_widget never downloads: "
            f"get {'it' if len(missing) == 1 else 'them'} from {source} and put "
            f"{'it' if len(missing) == 1 else 'them'} there, or point root=... or ${DATA_DIR_VARIABLE} "
            "at the directory that holds them."
        )
    return paths


def _cache_path(filename: str, train: bool, root) -> str:
    """DeZero's cache file for an archive: its name (a URL's last part) + ".train.npz" / ".test.npz"."""
    directory = os.fspath(root) if root is not None else data_dir()
    name = filename[filename.rfind("/") + 1 :]
    return os.path.join(directory, name + (".train.npz" if train else ".test.npz"))


def load_cache_npz(filename, train=False, root=None):
    """(data, label) from DeZero's cache of `filename`, or (None, None) when there is none."""
    path = _cache_path(filename, train, root)
    if not os.path.exists(path):
        return None, None
    with np.load(path) as loaded:
        return loaded["data"], loaded["label"]


def save_cache_npz(data, label, filename, train=False, root=None):
    """Cache (data, label) as DeZero does, written atomically (temporary file, then rename)."""
    path = _cache_path(filename, train, root)
    if os.path.exists(path):
        return path
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez_compressed(file, data=data, label=label)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


# =============================================================================
# Toy datasets: Spiral / SinCurve
# =============================================================================


def get_spiral(train=True):
    """300 points on 3 interleaved spirals (100 per class), shuffled: x (300, 2) float32, t (300,) int.

    Reseeds numpy's global generator (1984 for train, 2020 for test), as DeZero does.
    """
    np.random.seed(seed=1984 if train else 2020)
    num_data, num_class = 100, 3
    rate = np.arange(num_data) / num_data
    x = np.zeros((num_class * num_data, 2), dtype=np.float32)
    t = np.repeat(np.arange(num_class), num_data)
    for j in range(num_class):
        theta = j * 4.0 + 4.0 * rate + np.random.randn(num_data) * 0.2  # one draw per point, in order
        x[j * num_data : (j + 1) * num_data] = np.stack([rate * np.sin(theta), rate * np.cos(theta)], axis=1)
    indices = np.random.permutation(num_data * num_class)
    return x[indices], t[indices]


class Spiral(Dataset):
    def prepare(self):
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """A noisy sine (train) or a clean cosine (test) over one period, 1000 points: predict the next value."""

    def prepare(self):
        x = np.linspace(0, 2 * np.pi, 1000)
        noise = np.random.uniform(-0.05, 0.05, size=x.shape)  # drawn for test too, as DeZero does
        y = np.sin(x) + noise if self.train else np.cos(x)
        self.data = y[:-1][:, np.newaxis]
        self.label = y[1:][:, np.newaxis]


# =============================================================================
# MNIST / CIFAR10 / CIFAR100
# =============================================================================

# The default transforms (one shared instance each, as DeZero's default arguments are);
# transform=None means no transform at all.
_MNIST_TRANSFORM = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])  # 784 floats in [0, 1]
_CIFAR_TRANSFORM = Compose([ToFloat(), Normalize(mean=0.5, std=0.5)])


class MNIST(Dataset):
    """28x28 handwritten digits: data (N, 1, 28, 28) uint8, label (N,) uint8; by default each example
    becomes a float32 vector of 784 values in [0, 1]."""

    SOURCE = "https://yann.lecun.com/exdb/mnist/ (or a mirror)"
    TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
    TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

    def __init__(
        self,
        train=True,
        transform=_MNIST_TRANSFORM,
        target_transform=None,
        root=None,
    ):
        self.root = root
        super().__init__(train, transform, target_transform)

    def prepare(self):
        data_path, label_path = _local_files(
            "MNIST", self.root, list(self.TRAIN_FILES if self.train else self.TEST_FILES), self.SOURCE
        )
        with gzip.open(data_path, "rb") as file:
            self.data = np.frombuffer(file.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        with gzip.open(label_path, "rb") as file:
            self.label = np.frombuffer(file.read(), np.uint8, offset=8)

    def show(self, row=10, col=10):
        _show_grid(self.data, row, col, (28, 28), channels=1)

    @staticmethod
    def labels():
        return {i: str(i) for i in range(10)}


def _show_grid(data, row, col, size, channels):
    """A row x col grid of random examples, drawn with matplotlib (imported only here)."""
    import matplotlib.pyplot as plt

    h, w = size
    img = np.zeros((h * row, w * col, channels))
    for r in range(row):
        for c in range(col):
            example = data[np.random.randint(0, len(data) - 1)].reshape(channels, h, w).transpose(1, 2, 0)
            img[r * h : (r + 1) * h, c * w : (c + 1) * w] = example / (255 if channels == 3 else 1)
    plt.imshow(
        img[:, :, 0] if channels == 1 else img,
        cmap="gray" if channels == 1 else None,
        interpolation="nearest",
    )
    plt.axis("off")
    plt.show()


class CIFAR10(Dataset):
    """32x32 colour images of 10 classes: data (N, 3, 32, 32), label (N,).

    Read from DeZero's cache (cifar-10-python.tar.gz.train.npz / .test.npz) when present,
    else from cifar-10-python.tar.gz, whose arrays are then cached the same way.
    """

    ARCHIVE = "cifar-10-python.tar.gz"
    SOURCE = "https://www.cs.toronto.edu/~kriz/"

    def __init__(
        self,
        train=True,
        transform=_CIFAR_TRANSFORM,
        target_transform=None,
        root=None,
    ):
        self.root = root
        super().__init__(train, transform, target_transform)

    def prepare(self):
        self.data, self.label = load_cache_npz(self.ARCHIVE, self.train, self.root)
        if self.data is not None:
            return
        (archive,) = _local_files(type(self).__name__, self.root, [self.ARCHIVE], self.SOURCE + self.ARCHIVE)
        self.data, self.label = self._read_archive(archive)
        self.data = self.data.reshape(-1, 3, 32, 32)
        save_cache_npz(self.data, self.label, self.ARCHIVE, self.train, self.root)

    def _batches(self, archive):
        """The archive's pickled batches for this split, in file order."""
        wanted = "data_batch_" if self.train else "test_batch"
        with tarfile.open(archive, "r:gz") as file:
            members = sorted((m for m in file.getmembers() if wanted in m.name), key=lambda m: m.name)
            return [pickle.load(file.extractfile(m), encoding="bytes") for m in members]

    def _read_archive(self, archive):
        batches = self._batches(archive)
        data = np.concatenate([b[b"data"] for b in batches])
        label = np.concatenate([np.array(b[b"labels"]) for b in batches])
        if self.train:  # DeZero fills a float64 array for the training split
            data = data.astype(np.float64)
        return data, label

    def show(self, row=10, col=10):
        _show_grid(self.data, row, col, (32, 32), channels=3)

    @staticmethod
    def labels():
        names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
        return dict(enumerate(names))


class CIFAR100(CIFAR10):
    """32x32 colour images of 100 classes (label_type "fine") or 20 superclasses ("coarse")."""

    ARCHIVE = "cifar-100-python.tar.gz"

    def __init__(
        self,
        train=True,
        transform=_CIFAR_TRANSFORM,
        target_transform=None,
        label_type="fine",
        root=None,
    ):
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"label_type must be 'fine' or 'coarse', not {label_type!r}")
        self.label_type = label_type
        super().__init__(train, transform, target_transform, root)

    def _read_archive(self, archive):
        split = "train" if self.train else "test"
        with tarfile.open(archive, "r:gz") as file:
            member = next(m for m in file.getmembers() if m.name.endswith("/" + split))
            batch = pickle.load(file.extractfile(member), encoding="bytes")
        return batch[b"data"], np.array(batch[f"{self.label_type}_labels".encode()])


# =============================================================================
# Big and text datasets: ImageNet labels / Shakespear
# =============================================================================


class ImageNet(Dataset):
    """Only the 1000 class names, as in DeZero (which has no ImageNet image loader either)."""

    LABELS_FILE = "imagenet1000_clsidx_to_labels.txt"
    SOURCE = (
        "https://gist.githubusercontent.com/yrevar/942d3a0ac09ec9e5eb3a/raw/"
        "238f720ff059c1f82f368259d1ca4ffa5dd8f9f5/imagenet1000_clsidx_to_labels.txt"
    )

    def __init__(self):
        raise NotImplementedError(
            "ImageNet images are not loaded (nor in DeZero); ImageNet.labels() gives the class names"
        )

    @staticmethod
    def labels(root=None):
        """{class id: name} read from imagenet1000_clsidx_to_labels.txt (a Python dict literal)."""
        (path,) = _local_files("ImageNet.labels()", root, [ImageNet.LABELS_FILE], ImageNet.SOURCE)
        with open(path, encoding="utf-8") as file:
            return ast.literal_eval(file.read())


class Shakespear(Dataset):
    """Tiny Shakespeare as character ids: data[i] is a character, label[i] the next one (DeZero's spelling)."""

    SOURCE = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"

    def __init__(self, train=True, transform=None, target_transform=None, root=None):
        self.root = root
        super().__init__(train, transform, target_transform)

    def prepare(self):
        (path,) = _local_files("Shakespear", self.root, ["shakespear.txt"], self.SOURCE)
        with open(path, encoding="utf-8") as file:
            text = file.read()
        self.char_to_id = {}
        for char in text:
            self.char_to_id.setdefault(char, len(self.char_to_id))
        self.id_to_char = {i: char for char, i in self.char_to_id.items()}
        indices = np.array([self.char_to_id[char] for char in text])
        self.data = indices[:-1]
        self.label = indices[1:]
