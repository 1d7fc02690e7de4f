"""dezero_widget.datasets, .dataloaders and .transforms: DeZero's numbers for the generated sets
and the batches, local files for the real ones (never a download), one clear error otherwise."""

import gzip
import io
import pickle
import tarfile

import numpy as np
import pytest

import dezero_widget
from dezero_widget import DataLoader, Dataset, SeqDataLoader
from dezero_widget import transforms as T
from dezero_widget.datasets import (
    CIFAR10,
    CIFAR100,
    MNIST,
    ImageNet,
    Shakespear,
    SinCurve,
    Spiral,
    get_spiral,
)
from dezero_widget.utils import get_file


@pytest.fixture(scope="module")
def dezero():
    if not hasattr(np, "int"):
        np.int = int  # PyPI dezero 0.0.13 reads np.int, removed in numpy 1.24
    return pytest.importorskip("dezero")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data directory, named by the environment variable (never the user's ~/.dezero)."""
    monkeypatch.setenv("DEZERO_WIDGET_DATA", str(tmp_path))
    return tmp_path


# ---------------------------------------------------------------- Spiral / SinCurve


def test_spiral_shapes_classes_and_reseeding():
    x, t = get_spiral(train=True)
    after = np.random.rand()
    assert x.shape == (300, 2) and x.dtype == np.float32 and t.dtype == np.int64
    assert np.bincount(t).tolist() == [100, 100, 100]
    assert np.all(np.hypot(x[:, 0], x[:, 1]) < 1.0)
    # DeZero reseeds with 1984 and draws 300 normals then a permutation: the generator ends where that does
    np.random.seed(1984)
    np.random.randn(300)
    np.random.permutation(300)
    assert np.random.rand() == after
    assert not np.array_equal(get_spiral(train=False)[0], x)


@pytest.mark.parametrize("train", [True, False])
def test_spiral_and_sin_curve_equal_dezeros(dezero, train):
    import dezero.datasets as DD

    for ours, theirs in zip(get_spiral(train), DD.get_spiral(train)):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    np.random.seed(5)
    mine = SinCurve(train=train)
    np.random.seed(5)
    other = DD.SinCurve(train=train)
    np.testing.assert_array_equal(mine.data, other.data)
    np.testing.assert_array_equal(mine.label, other.label)


def test_sin_curve_predicts_the_next_value():
    np.random.seed(0)
    train, test = SinCurve(train=True), SinCurve(train=False)
    assert train.data.shape == (999, 1) and len(train) == 999
    np.testing.assert_array_equal(train.data[1:], train.label[:-1])
    assert np.max(np.abs(train.data[:, 0] - np.sin(np.linspace(0, 2 * np.pi, 1000)[:-1]))) <= 0.05
    np.testing.assert_allclose(test.data[:, 0], np.cos(np.linspace(0, 2 * np.pi, 1000)[:-1]))


def test_dataset_indexing_transforms_and_iteration():
    spiral = Spiral(transform=lambda x: x * 2, target_transform=lambda t: t + 10)
    x, t = spiral[3]
    np.testing.assert_array_equal(x, spiral.data[3] * 2)
    assert t == spiral.label[3] + 10
    assert sum(1 for _ in spiral) == 300  # the book's `for x, t in train_set` stops at the end
    with pytest.raises(TypeError, match="one example at a time"):
        spiral[[1, 2]]

    class Unlabelled(Dataset):
        def prepare(self):
            self.data = np.arange(4)

    assert Unlabelled()[2] == (2, None)


# ---------------------------------------------------------------- DataLoader / SeqDataLoader


def batches(loader, epochs):
    return [(x.copy(), t.copy()) for _ in range(epochs) for x, t in loader]


def test_data_loader_batches_cover_every_example_once_per_epoch():
    np.random.seed(0)
    loader = DataLoader(Spiral(), batch_size=7)
    got = batches(loader, 2)
    assert len(got) == 2 * 43 and got[42][0].shape == (6, 2)  # 300 = 42 * 7 + 6
    first_epoch = np.concatenate([x for x, _ in got[:43]])
    assert sorted(map(tuple, first_epoch)) == sorted(map(tuple, Spiral().data))
    assert not np.array_equal(got[0][0], got[43][0])  # reshuffled for the second epoch


def test_data_loader_without_shuffle_keeps_order_and_next_works():
    spiral = Spiral()
    loader = DataLoader(spiral, batch_size=100, shuffle=False)
    x, t = loader.next()
    np.testing.assert_array_equal(x, spiral.data[:100])
    np.testing.assert_array_equal(t, spiral.label[:100])
    loader.to_gpu()
    assert len(list(loader)) == 2 and type(x) is np.ndarray


def test_data_loaders_give_dezeros_batches(dezero):
    import dezero.dataloaders as DL
    import dezero.datasets as DD

    np.random.seed(3)
    mine = batches(DataLoader(Spiral(), batch_size=32), 2)
    np.random.seed(3)
    theirs = batches(DL.DataLoader(DD.Spiral(), batch_size=32), 2)
    for (x, t), (dx, dt) in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(x, dx)
        np.testing.assert_array_equal(t, dt)
    np.random.seed(4)
    mine = batches(SeqDataLoader(SinCurve(), batch_size=30), 1)
    np.random.seed(4)
    theirs = batches(DL.SeqDataLoader(DD.SinCurve(), batch_size=30), 1)
    for (x, t), (dx, dt) in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(x, dx)
        np.testing.assert_array_equal(t, dt)


def test_batches_of_stored_rows_equal_the_batches_made_one_example_at_a_time():
    """A Dataset without transforms is batched by one fancy index; with one, example by
    example. Both give the same arrays, dtypes included."""

    class Doubled(Spiral):
        def __getitem__(self, index):
            x, t = super().__getitem__(index)
            return x * 2, t

    for doubled in (False, True):
        spiral = Doubled() if doubled else Spiral()
        np.random.seed(5)
        x, t = next(DataLoader(spiral, batch_size=9))
        np.random.seed(5)
        index = np.random.permutation(len(spiral))[:9]
        rows = [spiral[i] for i in index]
        expected_x, expected_t = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
        assert (x.dtype, t.dtype) == (expected_x.dtype, expected_t.dtype)
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_array_equal(t, expected_t)
    flipped = Spiral(transform=lambda row: row[::-1])
    x, _ = next(DataLoader(flipped, batch_size=4, shuffle=False))
    np.testing.assert_array_equal(x, Spiral().data[:4, ::-1])


def test_seq_data_loader_rows_are_contiguous_sequences():
    class Counting(Dataset):
        def prepare(self):
            self.data = np.arange(10)
            self.label = np.arange(10) + 100

    loader = SeqDataLoader(Counting(), batch_size=2)  # rows start at 0 and 5
    got = batches(loader, 1)
    assert len(got) == 5
    assert [x.tolist() for x, _ in got] == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]
    assert got[0][1].tolist() == [100, 105]


# ---------------------------------------------------------------- MNIST


def write_mnist(directory, train, images):
    prefix = "train" if train else "t10k"
    with gzip.open(directory / f"{prefix}-images-idx3-ubyte.gz", "wb") as file:
        file.write(b"\0" * 16 + images.astype(np.uint8).tobytes())
    with gzip.open(directory / f"{prefix}-labels-idx1-ubyte.gz", "wb") as file:
        file.write(b"\0" * 8 + bytes(range(len(images))))


def test_mnist_without_files_raises_one_error_naming_the_directory_and_files(data_dir):
    with pytest.raises(FileNotFoundError) as error:
        MNIST(train=True)
    message = str(error.value)
    assert str(data_dir) in message and "DEZERO_WIDGET_DATA" in message and "never downloads" in message
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message


def test_mnist_reads_local_files_with_dezeros_default_transform(data_dir):
    images = np.arange(3 * 784).reshape(3, 28, 28) % 256
    write_mnist(data_dir, train=False, images=images)
    test_set = MNIST(train=False)
    assert test_set.data.shape == (3, 1, 28, 28) and test_set.label.tolist() == [0, 1, 2]
    x, t = test_set[1]
    assert x.shape == (784,) and x.dtype == np.float32 and t == 1
    np.testing.assert_allclose(x, images[1].ravel() / 255.0, rtol=1e-6)
    raw = MNIST(train=False, transform=None, root=data_dir)
    np.testing.assert_array_equal(raw[2][0], images[2].reshape(1, 28, 28))
    assert MNIST.labels()[7] == "7"


# ---------------------------------------------------------------- CIFAR10 / CIFAR100


def add_pickle(archive, name, obj):
    payload = pickle.dumps(obj)
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    archive.addfile(info, io.BytesIO(payload))


def write_cifar10(directory):
    with tarfile.open(directory / "cifar-10-python.tar.gz", "w:gz") as archive:
        for i in range(1, 6):
            data = np.full((2, 3072), i, dtype=np.uint8)
            add_pickle(archive, f"cifar-10-batches-py/data_batch_{i}", {b"data": data, b"labels": [i, i + 1]})
        add_pickle(
            archive,
            "cifar-10-batches-py/test_batch",
            {b"data": np.full((2, 3072), 9, np.uint8), b"labels": [0, 9]},
        )


def test_cifar10_reads_the_archive_then_its_cache(data_dir):
    with pytest.raises(FileNotFoundError, match=r"cifar-10-python\.tar\.gz"):
        CIFAR10(train=True)
    write_cifar10(data_dir)
    train = CIFAR10(train=True)
    assert train.data.shape == (10, 3, 32, 32) and train.data.dtype == np.float64  # as DeZero
    assert train.label.tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
    x, _ = train[0]
    np.testing.assert_allclose(x, (1.0 - 0.5) / 0.5)  # ToFloat, Normalize(0.5, 0.5)
    test = CIFAR10(train=False, transform=None)
    assert test.data.dtype == np.uint8 and test.label.tolist() == [0, 9]
    (data_dir / "cifar-10-python.tar.gz").unlink()  # the cache DeZero's way: <archive>.train.npz
    assert (data_dir / "cifar-10-python.tar.gz.train.npz").exists()
    np.testing.assert_array_equal(CIFAR10(train=True).data, train.data)
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".")] == []
    assert CIFAR10.labels()[0] == "airplane"


def test_cifar100_fine_and_coarse_labels(data_dir):
    with tarfile.open(data_dir / "cifar-100-python.tar.gz", "w:gz") as archive:
        for split in ("train", "test"):
            batch = {
                b"data": np.zeros((2, 3072), np.uint8),
                b"fine_labels": [42, 7],
                b"coarse_labels": [3, 1],
            }
            add_pickle(archive, f"cifar-100-python/{split}", batch)
    assert CIFAR100(train=True).label.tolist() == [42, 7]
    assert CIFAR100(train=False, label_type="coarse").label.tolist() == [3, 1]
    with pytest.raises(ValueError, match="fine"):
        CIFAR100(label_type="medium")


# ---------------------------------------------------------------- ImageNet labels / Shakespear / get_file


def test_imagenet_labels_from_a_local_file(data_dir):
    with pytest.raises(FileNotFoundError, match="imagenet1000_clsidx_to_labels"):
        ImageNet.labels()
    (data_dir / "imagenet1000_clsidx_to_labels.txt").write_text("{0: 'tench, Tinca tinca',\n 1: 'goldfish'}")
    assert ImageNet.labels() == {0: "tench, Tinca tinca", 1: "goldfish"}
    with pytest.raises(NotImplementedError):
        ImageNet()


def test_shakespear_as_next_character_ids(data_dir):
    (data_dir / "shakespear.txt").write_text("abca")
    text = Shakespear()
    assert text.data.tolist() == [0, 1, 2] and text.label.tolist() == [1, 2, 0]
    assert text.id_to_char[2] == "c"


def test_get_file_finds_a_placed_file_and_never_downloads(data_dir):
    url = "https://example.com/files/zebra.jpg"
    with pytest.raises(FileNotFoundError) as error:
        get_file(url)
    assert str(data_dir / "zebra.jpg") in str(error.value) and url in str(error.value)
    (data_dir / "zebra.jpg").write_bytes(b"jpg")
    assert get_file(url) == str(data_dir / "zebra.jpg")
    assert dezero_widget.utils.get_file(url, "zebra.jpg") == str(data_dir / "zebra.jpg")


# ---------------------------------------------------------------- transforms


def test_array_transforms():
    image = np.arange(12.0).reshape(3, 2, 2)
    np.testing.assert_array_equal(T.Normalize(2.0, 4.0)(image), (image - 2.0) / 4.0)
    per_channel = T.Normalize(mean=[0.0, 4.0, 8.0], std=[1.0, 2.0, 4.0])(image)
    np.testing.assert_array_equal(per_channel[2], (image[2] - 8.0) / 4.0)
    composed = T.Compose([T.Flatten(), T.ToFloat(), T.Normalize(0.0, 255.0)])(image.astype(np.uint8))
    assert composed.shape == (12,) and composed.dtype == np.float32
    assert T.ToInt()(np.array([1.7])).dtype.kind == "i"
    assert T.Compose()(image) is image


def test_pil_transforms():
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.new("RGB", (6, 4), (10, 20, 30))
    assert T.Resize(3)(image).size == (3, 3)
    assert T.CenterCrop((4, 2))(image).size == (4, 2)
    array = T.ToArray()(T.Convert("BGR")(image))
    assert array.shape == (3, 4, 6) and array[:, 0, 0].tolist() == [30.0, 20.0, 10.0]
    assert T.ToPIL()(array.astype(np.uint8)).size == (6, 4)
    with pytest.raises(TypeError):
        T.ToArray()([1, 2])
