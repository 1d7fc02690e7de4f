"""dezero_widget.optimizers: each update rule and hook on known numbers, and the book's spiral
training giving the same losses and weights as PyPI DeZero for every optimizer and hook."""

import math

import numpy as np
import pytest

import dezero_widget
import dezero_widget.optimizers as O
from dezero_widget import Parameter, Variable
from dezero_widget.layers import Layer, Linear
from dezero_widget.models import MLP


class Two(Layer):
    """Two parameters with hand-set gradients."""

    def __init__(self):
        super().__init__()
        self.p = Parameter(np.array([1.0, -2.0]))
        self.q = Parameter(np.array([[0.5]]))

    def set_grads(self, gp, gq):
        self.p.grad = Variable(np.array(gp, dtype=float))
        self.q.grad = Variable(np.array(gq, dtype=float))


def test_sgd_step():
    model = Two()
    model.set_grads([2.0, 4.0], [[1.0]])
    O.SGD(lr=0.1).setup(model).update()
    np.testing.assert_allclose(model.p.data, [0.8, -2.4])
    np.testing.assert_allclose(model.q.data, [[0.4]])


def test_momentum_sgd_accumulates_velocity():
    model = Two()
    optimizer = O.MomentumSGD(lr=0.1, momentum=0.9).setup(model)
    for _ in range(2):
        model.set_grads([1.0, 0.0], [[0.0]])
        optimizer.update()
    # v1 = -0.1, v2 = 0.9 * -0.1 - 0.1 = -0.19; p = 1 - 0.1 - 0.19
    np.testing.assert_allclose(model.p.data, [0.71, -2.0])


def test_adagrad_divides_by_the_root_of_summed_squares():
    model = Two()
    optimizer = O.AdaGrad(lr=0.5, eps=0.0).setup(model)
    model.set_grads([2.0, 0.5], [[1.0]])
    optimizer.update()
    np.testing.assert_allclose(model.p.data, [0.5, -2.5])  # lr * g / |g| = lr * sign(g)
    model.set_grads([2.0, 0.5], [[1.0]])
    optimizer.update()
    np.testing.assert_allclose(model.p.data, [0.5 - 0.5 / math.sqrt(2), -2.5 - 0.5 / math.sqrt(2)])


def test_adadelta_first_step():
    model = Two()
    optimizer = O.AdaDelta(rho=0.95, eps=1e-6).setup(model)
    model.set_grads([2.0, 0.0], [[0.0]])
    optimizer.update()
    msg = 0.05 * 4.0
    dx = math.sqrt(1e-6 / (msg + 1e-6)) * 2.0
    np.testing.assert_allclose(model.p.data, [1.0 - dx, -2.0])


def test_adam_first_steps_move_by_alpha():
    """With bias correction, Adam's first step is alpha * sign(grad) (up to eps)."""
    model = Two()
    optimizer = O.Adam(alpha=0.01).setup(model)
    model.set_grads([3.0, -0.2], [[5.0]])
    optimizer.update()
    np.testing.assert_allclose(model.p.data, [0.99, -1.99], rtol=1e-6)
    assert optimizer.t == 1
    assert optimizer.lr == pytest.approx(0.01 * math.sqrt(1 - 0.999) / (1 - 0.9))


def test_parameters_without_a_gradient_are_not_updated():
    model = Two()
    model.p.grad = Variable(np.array([1.0, 1.0]))
    O.SGD(1.0).setup(model).update()
    np.testing.assert_array_equal(model.q.data, [[0.5]])


def test_weight_decay_adds_rate_times_param():
    model = Two()
    model.set_grads([0.0, 0.0], [[0.0]])
    optimizer = O.SGD(lr=1.0).setup(model)
    optimizer.add_hook(O.WeightDecay(0.1))
    optimizer.update()
    np.testing.assert_allclose(model.p.data, [0.9, -1.8])


@pytest.mark.parametrize(("max_norm", "rate"), [(2.5, 2.5 / (5 + 1e-6)), (10.0, 1.0)])
def test_clip_grad_scales_only_above_max_norm(max_norm, rate):
    model = Two()
    model.set_grads([3.0, 0.0], [[4.0]])  # global norm 5
    optimizer = O.SGD(lr=1.0).setup(model)
    optimizer.add_hook(O.ClipGrad(max_norm))
    optimizer.update()
    np.testing.assert_allclose(model.p.data, [1.0 - 3.0 * rate, -2.0])
    np.testing.assert_allclose(model.q.data, [[0.5 - 4.0 * rate]])


def test_freeze_param_keeps_a_layer_fixed_and_trains_the_rest():
    """DeZero 0.0.13's FreezeParam crashes its own update (grad None); here it skips the frozen."""
    np.random.seed(0)
    model = MLP((4, 2))
    x, t = np.random.randn(5, 3), np.array([0, 1, 1, 0, 1])
    optimizer = O.SGD(0.5).setup(model)
    model(x)
    frozen = [p.data.copy() for p in model.l0.params()]
    trained = [p.data.copy() for p in model.l1.params()]
    optimizer.add_hook(O.FreezeParam(model.l0, model.l1.b))
    loss = dezero_widget.functions.softmax_cross_entropy(model(x), t)
    loss.backward()
    optimizer.update()
    for p, before in zip(model.l0.params(), frozen):
        np.testing.assert_array_equal(p.data, before)
    np.testing.assert_array_equal(model.l1.b.data, trained[1])
    assert not np.array_equal(model.l1.W.data, trained[0])


def test_hooks_do_not_write_into_a_gradient_another_parameter_shares():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    holder = Layer()
    holder.a, holder.b = a, b
    shared = np.array([1.0, 2.0])
    a.grad, b.grad = Variable(shared), Variable(shared)
    optimizer = O.SGD(lr=1.0).setup(holder)
    optimizer.add_hook(O.WeightDecay(1.0))
    optimizer.update()
    np.testing.assert_array_equal(shared, [1.0, 2.0])
    np.testing.assert_array_equal(a.data, [-1.0, -2.0])
    np.testing.assert_array_equal(b.data, [-1.0, -2.0])


def test_setup_returns_the_optimizer_and_update_one_is_abstract():
    model = Linear(2, in_size=2)
    optimizer = O.Optimizer()
    assert optimizer.setup(model) is optimizer
    model.W.grad = Variable(np.ones((2, 2)))
    with pytest.raises(NotImplementedError):
        optimizer.update()


# ---------------------------------------------------------------- the same numbers as PyPI DeZero


@pytest.fixture(scope="module")
def dezero():
    if not hasattr(np, "int"):
        np.int = int  # PyPI dezero 0.0.13 reads np.int, removed in numpy 1.24
    return pytest.importorskip("dezero")


def train_spiral(lib, optimizer, hooks, epochs=3, batch_size=30):
    """Step 48 of the book, shortened: MLP((10, 3)) on the spiral, with `lib` (ours or dezero)."""
    import importlib

    F = importlib.import_module(f"{lib.__name__}.functions")
    optimizers = importlib.import_module(f"{lib.__name__}.optimizers")
    models = importlib.import_module(f"{lib.__name__}.models")
    datasets = importlib.import_module(f"{lib.__name__}.datasets")

    x, t = datasets.get_spiral(train=True)  # reseeds numpy's generator, in both libraries
    model = models.MLP((10, 3))
    opt = getattr(optimizers, optimizer[0])(*optimizer[1:]).setup(model)
    for hook in hooks:
        opt.add_hook(getattr(optimizers, hook[0])(*hook[1:]))
    losses = []
    for _ in range(epochs):
        index = np.random.permutation(len(x))
        for i in range(math.ceil(len(x) / batch_size)):
            batch = index[i * batch_size : (i + 1) * batch_size]
            loss = F.softmax_cross_entropy(model(x[batch]), t[batch])
            model.cleargrads()
            loss.backward()
            opt.update()
            losses.append(float(loss.data))
    weights = [layer.__dict__[name].data for layer in (model.l0, model.l1) for name in ("W", "b")]
    return np.array(losses), weights


OPTIMIZERS = [("SGD", 1.0), ("MomentumSGD",), ("AdaGrad",), ("AdaDelta",), ("Adam",)]
HOOKS = {"no hook": (), "WeightDecay": (("WeightDecay", 1e-2),), "ClipGrad": (("ClipGrad", 0.05),)}


@pytest.mark.parametrize("hook", sorted(HOOKS))
@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_spiral_training_gives_dezeros_losses_and_weights(dezero, optimizer, hook):
    losses, weights = train_spiral(dezero_widget, optimizer, HOOKS[hook])
    dz_losses, dz_weights = train_spiral(dezero, optimizer, HOOKS[hook])
    np.testing.assert_allclose(losses, dz_losses, rtol=1e-10)
    for mine, theirs in zip(weights, dz_weights):
        assert mine.dtype == theirs.dtype
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    assert losses[-1] < losses[0]  # it learns
    if HOOKS[hook]:  # and the hook changed the training
        assert not np.allclose(losses, train_spiral(dezero_widget, optimizer, ())[0], rtol=1e-6)
