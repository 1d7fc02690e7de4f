"""dezero_widget.layers and .models: parameters, initial values, the recurrent layers' gradients,
weight files (atomic saves), and the book's models giving the same numbers as PyPI DeZero."""

import math
import os

import numpy as np
import pytest

import dezero_widget
import dezero_widget.functions as F
import dezero_widget.layers as L
import dezero_widget.optimizers as O
from dezero_widget import Layer, Model, Parameter, Variable
from dezero_widget.models import MLP, VGG16, ResNet, Sequential
from dezero_widget.utils import gradient_check

RNG = np.random.default_rng(20240603)


@pytest.fixture(scope="module")
def dezero():
    if not hasattr(np, "int"):
        np.int = int  # PyPI dezero 0.0.13 reads np.int, removed in numpy 1.24
    return pytest.importorskip("dezero")


# ---------------------------------------------------------------- Layer


class Block(Layer):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.ones(2), name="w")
        self.inner = L.Linear(3, in_size=2)
        self.not_a_param = Variable(np.ones(1))
        self.v = Parameter(np.zeros(1), name="v")


def test_params_are_found_through_attributes_in_assignment_order():
    block = Block()
    assert [p.name for p in block.params()] == ["w", "W", "b", "v"]
    block.v = None  # no longer a parameter
    assert [p.name for p in block.params()] == ["w", "W", "b"]
    del block.inner
    assert [p.name for p in block.params()] == ["w"]


def test_cleargrads_clears_nested_layers():
    block = Block()
    for p in block.params():
        p.grad = Variable(np.ones_like(p.data))
    block.cleargrads()
    assert all(p.grad is None for p in block.params())


def test_device_switches_leave_numpy_arrays():
    block = Block()
    assert block.to_gpu() is block and block.to_cpu() is block
    assert all(type(p.data) is np.ndarray for p in block.params())
    block.w.to_gpu()
    assert type(block.w.data) is np.ndarray


def test_call_remembers_inputs_and_outputs_weakly():
    layer = L.Linear(2, in_size=3)
    x = Variable(np.ones((1, 3)))
    y = layer(x)
    assert layer.inputs[0]() is x and layer.outputs[0]() is y
    assert layer(np.ones((1, 3))).shape == (1, 2)  # arrays are fine too


# ---------------------------------------------------------------- initial values (DeZero's draws)


def named_params(layer) -> dict:
    """{"x2f/W": W, ...}: parameters by path, to compare with DeZero, whose params() order is a set's."""
    found = {}
    layer._flatten_params(found)
    return found


def test_linear_draws_dezeros_initial_weights_lazily():
    np.random.seed(3)
    layer = L.Linear(4)
    assert layer.W.data is None and layer.b.dtype == np.float32
    layer(np.ones((2, 5), dtype=np.float32))
    np.random.seed(3)
    expected = np.random.randn(5, 4).astype(np.float32) * np.sqrt(1 / 5)
    np.testing.assert_array_equal(layer.W.data, expected)
    assert layer.W.dtype == expected.dtype  # numpy's own promotion decides (float64 on numpy 2)
    assert L.Linear(4, nobias=True, in_size=5).b is None


def test_conv_layers_shapes_and_lazy_channels():
    conv = L.Conv2d(6, kernel_size=(3, 2), stride=2, pad=1)
    y = conv(np.ones((2, 3, 8, 7), dtype=np.float32))
    assert conv.W.shape == (6, 3, 3, 2) and y.shape == (2, 6, 4, 4)
    deconv = L.Deconv2d(5, kernel_size=3, stride=2, pad=1, in_channels=4)
    assert deconv.W.shape == (4, 5, 3, 3)
    assert deconv(np.ones((1, 4, 3, 3))).shape == (1, 5, 5, 5)


LAYER_FACTORIES = {
    "Linear": (lambda lib: lib.layers.Linear(3), (2, 4)),
    "Conv2d": (lambda lib: lib.layers.Conv2d(3, 3, 1, 1), (2, 2, 5, 5)),
    "Deconv2d": (lambda lib: lib.layers.Deconv2d(3, 3, 2, 1), (2, 2, 3, 3)),
    "RNN": (lambda lib: lib.layers.RNN(3), (2, 4)),
    "LSTM": (lambda lib: lib.layers.LSTM(3), (2, 4)),
    "LSTM in_size": (lambda lib: lib.layers.LSTM(3, in_size=4), (2, 4)),
}


@pytest.mark.parametrize("name", sorted(LAYER_FACTORIES))
def test_layers_start_from_dezeros_weights_and_outputs(dezero, name):
    import dezero.layers

    make, shape = LAYER_FACTORIES[name]
    x = RNG.standard_normal(shape).astype(np.float32)
    results = []
    for lib in (dezero_widget, dezero):
        np.random.seed(7)
        layer = make(lib)
        ys = [layer(x).data, layer(x).data]  # twice: the recurrent layers use their state
        results.append((ys, [p.data for _, p in sorted(named_params(layer).items())]))
    (ys, params), (dz_ys, dz_params) = results
    for mine, theirs in zip(ys + params, dz_ys + dz_params):
        assert mine.dtype == theirs.dtype
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_embed_id_picks_rows_and_accumulates_repeats():
    np.random.seed(0)
    embed = L.EmbedID(5, 3)
    assert embed.W.dtype == np.float64
    y = embed(np.array([4, 1, 4]))
    np.testing.assert_array_equal(y.data, embed.W.data[[4, 1, 4]])
    F.sum(y).backward()
    np.testing.assert_array_equal(embed.W.grad.data[:, 0], [0, 1, 0, 0, 2])


# ---------------------------------------------------------------- recurrent layers' gradients


def run_lstm(layer, xs):
    """A weighted sum of the hidden states of three steps."""
    layer.reset_state()
    total = 0
    for k, x in enumerate(xs):
        total = total + F.sum(layer(x) * np.cos(np.arange(6.0) + k).reshape(2, 3))
    return total


def test_lstm_gradient_of_its_inputs_matches_numerical():
    np.random.seed(1)
    layer = L.LSTM(3, in_size=4)

    def f(stacked):
        return run_lstm(layer, [stacked[0], stacked[1], stacked[2]])

    assert gradient_check(f, RNG.standard_normal((3, 2, 4)))


def test_rnn_gradient_of_its_inputs_matches_numerical():
    np.random.seed(2)
    layer = L.RNN(3, in_size=3)

    def f(stacked):
        layer.reset_state()
        return F.sum(layer(stacked[0]) * 2 + layer(stacked[1]) ** 2)

    assert gradient_check(f, RNG.standard_normal((2, 2, 3)))


def test_lstm_matches_pytorch_outputs_and_gradients():
    torch = pytest.importorskip("torch")
    np.random.seed(4)
    layer = L.LSTM(3, in_size=4)
    xs = [Variable(RNG.standard_normal((2, 4))) for _ in range(3)]
    run_lstm(layer, xs).backward()

    gates = ("i", "f", "u", "o")  # torch's order: input, forget, cell (our u), output

    def stacked(prefix):
        return torch.tensor(np.concatenate([getattr(layer, f"{prefix}2{g}").W.data.T for g in gates]))

    cell = torch.nn.LSTMCell(4, 3, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(stacked("x"))
        cell.weight_hh.copy_(stacked("h"))
        cell.bias_ih.copy_(torch.tensor(np.concatenate([getattr(layer, f"x2{g}").b.data for g in gates])))
        cell.bias_hh.zero_()
    txs = [torch.tensor(x.data, requires_grad=True) for x in xs]
    h = c = torch.zeros(2, 3, dtype=torch.float64)
    total = 0
    for k, x in enumerate(txs):
        h, c = cell(x, (h, c))
        total = total + (h * torch.tensor(np.cos(np.arange(6.0) + k).reshape(2, 3))).sum()
    total.backward()
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.h.data, h.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        layer.x2f.W.grad.data.T, cell.weight_ih.grad[3:6].numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        layer.h2o.W.grad.data.T, cell.weight_hh.grad[9:12].numpy(), rtol=1e-10, atol=1e-12
    )


# ---------------------------------------------------------------- BatchNorm layer


def test_batch_norm_layer_creates_its_params_then_uses_running_averages_in_test_mode():
    bn = L.BatchNorm()
    x = RNG.standard_normal((8, 3, 2, 2)).astype(np.float32) * 2 + 5
    y = bn(x)
    assert [p.name for p in bn.params()] == ["avg_mean", "avg_var", "gamma", "beta"]
    assert bn.gamma.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_allclose(bn.avg_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    F.sum(y * np.arange(3.0).reshape(1, 3, 1, 1)).backward()
    np.testing.assert_allclose(bn.beta.grad.data, [0.0, 32.0, 64.0])
    assert bn.avg_mean.grad is None
    with dezero_widget.test_mode():
        z = bn(x)
    expected = (x - bn.avg_mean.data.reshape(1, 3, 1, 1)) / np.sqrt(
        bn.avg_var.data.reshape(1, 3, 1, 1) + 2e-5
    )
    np.testing.assert_allclose(z.data, expected, rtol=1e-5)


# ---------------------------------------------------------------- weight files


def trained_mlp():
    np.random.seed(0)
    model = MLP((5, 3))
    model(np.ones((1, 4), dtype=np.float32))
    return model


def test_save_and_load_round_trip_into_a_fresh_lazy_model(tmp_path):
    model = trained_mlp()
    model.save_weights(tmp_path / "mlp")  # numpy's rule: ".npz" is added
    assert sorted(np.load(tmp_path / "mlp.npz").files) == ["l0/W", "l0/b", "l1/W", "l1/b"]
    fresh = MLP((5, 3))
    fresh.load_weights(tmp_path / "mlp.npz")
    x = RNG.standard_normal((2, 4))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_an_interrupted_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "weights.npz"
    old = trained_mlp()
    old.save_weights(path)
    before = path.read_bytes()

    def write_half_then_fail(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    new = trained_mlp()
    new.l0.W.data = new.l0.W.data + 1
    monkeypatch.setattr(np, "savez_compressed", write_half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        new.save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["weights.npz"]  # no temporary file left behind
    loaded = MLP((5, 3))
    loaded.load_weights(path)
    np.testing.assert_array_equal(loaded.l0.W.data, old.l0.W.data)


def test_save_before_the_first_call_names_the_uninitialized_weights(tmp_path):
    with pytest.raises(ValueError, match="l0/W"):
        MLP((5, 3)).save_weights(tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


def test_load_errors_name_the_key(tmp_path):
    trained_mlp().save_weights(tmp_path / "w.npz")
    with pytest.raises(KeyError, match="l2/W"):
        MLP((5, 3, 2)).load_weights(tmp_path / "w.npz")
    wrong = MLP((6, 3))
    wrong(np.ones((1, 4)))
    with pytest.raises(ValueError, match="l0/W"):
        wrong.load_weights(tmp_path / "w.npz")


def test_weight_files_are_interchangeable_with_dezero(dezero, tmp_path):
    import dezero.models

    ours = trained_mlp()
    ours.save_weights(tmp_path / "ours.npz")
    theirs = dezero.models.MLP((5, 3))
    theirs.load_weights(str(tmp_path / "ours.npz"))
    x = RNG.standard_normal((2, 4))
    np.testing.assert_allclose(theirs(x).data, ours(x).data, rtol=1e-12)
    theirs.save_weights(str(tmp_path / "theirs.npz"))
    back = MLP((5, 3))
    back.load_weights(tmp_path / "theirs.npz")
    np.testing.assert_array_equal(back(x).data, ours(x).data)


# ---------------------------------------------------------------- models


def test_mlp_is_linear_activation_linear():
    model = trained_mlp()
    x = RNG.standard_normal((2, 4))
    hidden = 1 / (1 + np.exp(-(x @ model.l0.W.data + model.l0.b.data)))
    np.testing.assert_allclose(model(x).data, hidden @ model.l1.W.data + model.l1.b.data, rtol=1e-12)
    relu_model = MLP((5, 3), activation=F.relu)
    assert relu_model(x).shape == (2, 3)


def test_sequential_takes_layers_and_functions():
    model = Sequential(L.Linear(4, in_size=2), F.relu, L.Linear(1, in_size=4))
    assert [p.shape for p in model.params()] == [(2, 4), (4,), (4, 1), (1,)]
    x = np.array([[1.0, -1.0]])
    np.testing.assert_allclose(model(x).data, model.l2(F.relu(model.l0(x))).data)


def test_model_plot_to_a_dot_file_needs_no_graphviz(tmp_path):
    path = MLP((2,)).plot(np.ones((1, 2)), to_file=str(tmp_path / "mlp.dot"))
    assert path == str(tmp_path / "mlp.dot") and "Linear" in (tmp_path / "mlp.dot").read_text()
    assert isinstance(MLP((2,)), Model) and isinstance(MLP((2,)), Layer)


def test_vgg16_layers_and_missing_pretrained_weights(tmp_path, monkeypatch):
    model = VGG16()
    convs = [name for name in model._params if name.startswith("conv")]
    assert len(convs) == 13 and convs[0] == "conv1_1" and convs[-1] == "conv5_3"
    assert model.conv4_2.out_channels == 512 and model.conv4_2.pad == 1
    monkeypatch.setenv("DEZERO_WIDGET_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        VGG16(pretrained=True)
    message = str(error.value)
    assert str(tmp_path / "vgg16.npz") in message and "never downloads" in message


def test_vgg16_preprocess_makes_a_bgr_mean_subtracted_chw_array():
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.new("RGB", (30, 20), (200, 100, 50))
    x = VGG16.preprocess(image)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0], [50 - 103.939, 100 - 116.779, 200 - 123.68], rtol=1e-6)


def test_resnet50_has_the_standard_architecture():
    model = ResNet(50)
    np.random.seed(0)
    with dezero_widget.no_grad():
        y = model(np.random.rand(1, 3, 32, 32).astype(np.float32))
    assert y.shape == (1, 1000)
    # torchvision's ResNet-50 has 25,557,032 trainable parameters; plus 2 running averages
    # for each of the 26,592 batch-normalized channels
    assert sum(p.data.size for p in model.params()) == 25_557_032 + 2 * 26_592
    assert model.res4.b5.conv2.kernel_size == 3 and not hasattr(model.res4, "b6")


def test_resnet_depths_errors_and_missing_pretrained_weights(tmp_path, monkeypatch):
    assert len(ResNet(101).res4._forward) == 23 and len(ResNet(152).res3._forward) == 8
    with pytest.raises(ValueError, match="50, 101, or 152"):
        ResNet(34)
    monkeypatch.setenv("DEZERO_WIDGET_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"resnet50\.npz"):
        dezero_widget.models.ResNet50(pretrained=True)


# ---------------------------------------------------------------- cuda and the package's names


def test_cuda_is_numpy_only():
    cuda = dezero_widget.cuda
    assert cuda.gpu_enable is False
    assert cuda.get_array_module(Variable(np.ones(1))) is np
    np.testing.assert_array_equal(cuda.as_numpy(Variable(np.arange(3))), [0, 1, 2])
    assert cuda.as_numpy(2.5) == np.array(2.5)
    with pytest.raises(RuntimeError, match="numpy only"):
        cuda.as_cupy(np.ones(2))


def test_the_package_exposes_dezeros_names(dezero):
    expected = {name for name in vars(dezero) if not name.startswith("_")} - {"is_simple_core", "dezero"}
    assert sorted(expected - set(dir(dezero_widget))) == []
    import dezero.functions
    import dezero.layers
    import dezero.models
    import dezero.optimizers

    for module in ("functions", "layers", "models", "optimizers", "datasets", "dataloaders", "transforms"):
        theirs = {
            n for n, v in vars(getattr(dezero, module)).items() if not n.startswith("_") and callable(v)
        }
        ours = set(dir(getattr(dezero_widget, module)))
        missing = {
            n for n in theirs - ours if getattr(getattr(dezero, module), n).__module__.startswith("dezero")
        }
        assert sorted(missing - {"SqueezeNet"}) == [], module  # DeZero's SqueezeNet is an empty stub


# ---------------------------------------------------------------- the book's networks, as DeZero trains them


def cnn_steps(lib, steps=3):
    """conv -> relu -> pooling -> linear, SGD: a small CNN's training steps."""
    import importlib

    Fx = importlib.import_module(f"{lib.__name__}.functions")
    Lx = importlib.import_module(f"{lib.__name__}.layers")
    Ox = importlib.import_module(f"{lib.__name__}.optimizers")

    class SmallCNN(lib.Model):
        def __init__(self):
            super().__init__()
            self.conv = Lx.Conv2d(4, kernel_size=3, stride=1, pad=1)
            self.fc = Lx.Linear(3)

        def forward(self, x):
            h = Fx.pooling(Fx.relu(self.conv(x)), 2, 2)
            return self.fc(Fx.reshape(h, (h.shape[0], -1)))

    rng = np.random.default_rng(5)
    x, t = rng.random((6, 2, 8, 8), dtype=np.float32), rng.integers(0, 3, 6)
    np.random.seed(11)
    model = SmallCNN()
    optimizer = Ox.MomentumSGD(0.1).setup(model)
    losses = []
    for _ in range(steps):
        loss = Fx.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        losses.append(float(loss.data))
    return losses, [model.conv.W.data, model.conv.b.data, model.fc.W.data, model.fc.b.data]


def sin_curve_rnn(lib, recurrent, steps=24, bptt=6):
    """Steps 59/60 of the book, shortened: an RNN (or LSTM) and a Linear predicting the next value
    of SinCurve, truncated backprop every `bptt` steps, Adam."""
    import importlib

    Fx = importlib.import_module(f"{lib.__name__}.functions")
    Lx = importlib.import_module(f"{lib.__name__}.layers")
    Ox = importlib.import_module(f"{lib.__name__}.optimizers")
    Dx = importlib.import_module(f"{lib.__name__}.datasets")
    Lo = importlib.import_module(f"{lib.__name__}.dataloaders")

    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(Lx, recurrent)(8)
            self.fc = Lx.Linear(1)

        def reset_state(self):
            self.rnn.reset_state()

        def forward(self, x):
            return self.fc(self.rnn(x))

    np.random.seed(0)
    train_set = Dx.SinCurve(train=True)
    if recurrent == "RNN":  # step 59: one example at a time
        batches = ((train_set[i][0].reshape(1, 1), train_set[i][1]) for i in range(steps))
    else:  # step 60: SeqDataLoader batches
        loader = Lo.SeqDataLoader(train_set, batch_size=5)
        batches = (next(loader) for _ in range(steps))
    model = Net()
    optimizer = Ox.Adam().setup(model)
    model.reset_state()
    loss, losses = 0, []
    for count, (x, t) in enumerate(batches, start=1):
        loss += Fx.mean_squared_error(model(x), t)
        if count % bptt == 0:
            model.cleargrads()
            loss.backward()
            loss.unchain_backward()
            optimizer.update()
            losses.append(float(loss.data))
    return losses, [p.data for _, p in sorted(named_params(model).items())]


@pytest.mark.parametrize(
    "run",
    [cnn_steps, lambda lib: sin_curve_rnn(lib, "RNN"), lambda lib: sin_curve_rnn(lib, "LSTM")],
    ids=["small CNN", "RNN on SinCurve", "LSTM on SinCurve with SeqDataLoader"],
)
def test_training_gives_dezeros_numbers(dezero, run):
    losses, params = run(dezero_widget)
    dz_losses, dz_params = run(dezero)
    np.testing.assert_allclose(losses, dz_losses, rtol=1e-10)
    assert len(params) == len(dz_params)
    for mine, theirs in zip(params, dz_params):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_the_book_networks_learn_without_dezero():
    """The same loops on our engine alone (CI has no DeZero): the loss goes down."""
    losses, _ = cnn_steps(dezero_widget, steps=8)
    assert losses[-1] < losses[0]
    losses, _ = sin_curve_rnn(dezero_widget, "LSTM", steps=60, bptt=6)
    assert all(math.isfinite(v) for v in losses) and len(losses) == 10
    O.SGD()  # the optimizers module is importable on its own
