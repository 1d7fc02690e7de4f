"""RetainedGrads: the intermediate grads an observer shows without making backward() keep them.

The reference is the engine's own ``retain_grad=True``: a pass run plainly and collected must
give every variable the grad a retaining pass gives it, and write nothing until asked.
"""

import numpy as np

import dezero_widget.functions as F
from dezero_widget.core import RetainedGrads, Variable, add, restore_grads
from dezero_widget.replay import recorded


def grads(variables):
    return [None if v.grad is None else v.grad.data.tolist() for v in variables]


def logged(backward, limit=100):
    """Run ``backward()`` as a watched cell does; returns the engine's logs."""
    with recorded(limit) as logs:
        backward()
    return logs


def seed_graph():
    x = Variable(np.array(3.0))
    inner = add(x, x)
    y = add(inner, x)
    return x, inner, y


def mlp_graph(seed):
    rng = np.random.default_rng(seed)
    x = rng.random((5, 1))
    W1, b1 = Variable(rng.standard_normal((1, 4))), Variable(np.zeros(4))
    W2, b2 = Variable(rng.standard_normal((4, 1))), Variable(np.zeros(1))
    h = F.linear(x, W1, b1)
    a = F.sigmoid(h)
    y_pred = F.linear(a, W2, b2)
    loss = F.mean_squared_error(rng.random((5, 1)), y_pred)
    return [W1, b1, W2, b2, h, a, y_pred, loss]


def test_a_collected_pass_gives_what_retain_grad_keeps_and_writes_nothing_before():
    for make in (seed_graph, lambda: mlp_graph(0)):
        kept = make()
        kept[-1].backward(retain_grad=True)
        plain = make()
        (log,) = logged(plain[-1].backward)
        leaves = [v for v in plain if v.creator is None]
        assert all(v.grad is None for v in plain if v.creator is not None)  # as unwatched
        retained = RetainedGrads()
        retained.add(log)
        assert all(v.grad is None for v in plain if v.creator is not None)  # collecting writes nothing
        retained.give()
        assert grads(plain) == grads(kept)
        assert all(v.grad is not None for v in leaves)


def test_passes_that_reach_the_same_functions_add_up_as_retained_ones_do():
    x, inner, y = seed_graph()
    logs = logged(lambda: (y.backward(), y.backward()))
    retained = RetainedGrads()
    for log in logs:
        retained.add(log)
    retained.give()
    # The root keeps one seed; the inner sum got 1.0 from each pass; x, a leaf, 3.0 from each.
    assert grads([x, inner, y]) == [6.0, 2.0, 1.0]


def test_given_grads_are_arrays_of_their_own_and_can_be_taken_back():
    x = Variable(np.array([1.0, 2.0]))
    y = x * 1.0  # Mul's backward hands the same gy on: x's grad and y's would be one array
    z = F.sum(y)
    (log,) = logged(z.backward)
    changed = RetainedGrads()
    changed.add(log)
    given = changed.give()
    assert grads([x, y, z]) == [[1.0, 1.0], [1.0, 1.0], 1.0]
    y.grad.data += 10  # an in-place edit of one grad (as an optimizer makes) changes no other
    assert grads([x, z]) == [[1.0, 1.0], 1.0]
    assert y.grad.data.flags.writeable
    restore_grads(given)
    assert grads([x, y, z]) == [[1.0, 1.0], None, None]


def test_only_the_written_down_functions_outputs_get_grads():
    x = Variable(np.array(1.0))
    chain = [x]
    for _ in range(5):
        chain.append(chain[-1] * 2.0)
    (log,) = logged(chain[-1].backward, limit=2)
    retained = RetainedGrads()
    retained.add(log)
    retained.give()
    # The root (its seed) and the output of the second function nearest it.
    assert grads(chain) == [32.0, None, None, None, 2.0, 1.0]


def test_a_pass_that_kept_its_grads_is_not_counted_twice():
    x, inner, y = seed_graph()
    (log,) = logged(lambda: y.backward(retain_grad=True))
    retained = RetainedGrads()
    retained.add(log)
    retained.give()
    assert grads([x, inner, y]) == [3.0, 1.0, 1.0]


def test_a_variable_freed_meanwhile_is_forgotten_with_its_total():
    x = Variable(np.array(2.0))
    y = (x**2) ** 2
    (log,) = logged(y.backward)
    retained = RetainedGrads()
    retained.add(log)
    assert len(retained.variables()) == 2  # y and x**2
    del log, y
    assert retained.variables() == []
    assert retained.give() == []
