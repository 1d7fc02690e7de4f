"""Gradients an optimizer can edit in place, and one clear error for a gradient of the wrong
shape or type (issue 10: nothing hides a mistake, nothing breaks an optimizer)."""

import numpy as np
import pytest

from dezero_widget import Function, Variable
from dezero_widget.functions import add, sum


def test_distinct_inputs_never_share_a_grad_array():
    a, b = Variable(np.ones(3)), Variable(np.ones(3))
    (a + b).backward()  # Add hands the same gy to both inputs
    assert a.grad.data is not b.grad.data
    a.grad.data *= 10  # what DeZero's WeightDecay or an optimizer does in place
    np.testing.assert_array_equal(b.grad.data, np.ones(3))


def test_a_retained_grad_and_a_leaf_grad_do_not_share_either():
    x = Variable(np.ones(2))
    y = -x
    z = y + 0.0
    z.backward(retain_grad=True)
    y.grad.data[0] = 5.0
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])


def test_the_roots_grad_is_shared_with_no_input_it_flows_to_unchanged():
    x = Variable(np.array([1.0, 2.0]))
    a, b = x * 2.0, x * 3.0
    y = a + b  # Add hands y's own grad (the seed of backward) on to a and b as it is
    y.backward(retain_grad=True)
    assert y.grad.data is not a.grad.data and a.grad.data is not b.grad.data
    a.grad.data *= 10
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])
    leaf = Variable(np.ones(2))
    z = leaf + 0.0
    z.grad = Variable(np.full(2, 3.0))  # a seed the learner set
    z.backward(retain_grad=True)
    assert leaf.grad.data is not z.grad.data


def test_grads_made_by_broadcasting_are_writable_arrays_of_their_own():
    x = Variable(np.array(2.0))
    y = Variable(np.ones((2, 3)))
    sum(x * y).backward()
    for v in (x, y):
        assert v.grad.data.flags.writeable and v.grad.data.base is None
    y.grad.data *= 2  # raised "output array is read-only" when it was a broadcast view
    np.testing.assert_array_equal(y.grad.data, np.full((2, 3), 4.0))
    assert x.grad.data == 6.0


def test_a_root_grad_of_the_wrong_shape_is_one_clear_error():
    y = add(Variable(np.ones(3)), Variable(np.ones(3)))
    y.name = "y"
    y.grad = Variable(np.ones(2))
    with pytest.raises(ValueError, match=r"the grad of y has shape \(2,\), but its data has shape \(3,\)"):
        y.backward()
    y.grad = [1.0, 1.0, 1.0]  # a list where a Variable belongs
    with pytest.raises(TypeError, match=r"the grad of y is a list; backward\(\) needs a Variable"):
        y.backward()
    y.grad = np.full(3, 2.0)  # an array is taken as the Variable it stands for
    y.backward()
    assert y.creator.inputs[0].grad.data.tolist() == [2.0, 2.0, 2.0]


class WrongShape(Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy.data.sum()  # a scalar for a vector input: the learner's mistake


class WrongType(Function):
    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return "two"


def test_a_backward_returning_the_wrong_shape_names_the_function_the_input_and_both_shapes():
    x = Variable(np.ones(3), name="x")
    with pytest.raises(
        ValueError,
        match=r"WrongShape.backward returned a gradient of shape \(\) for input 0 \(x\), whose data has shape \(3,\)",
    ):
        WrongShape()(x).backward()
    assert x.grad is None  # nothing half-written


def test_a_backward_returning_the_wrong_type_names_the_function_and_the_type():
    with pytest.raises(TypeError, match=r"WrongType\.backward returned a str as the gradient of input 0"):
        WrongType()(Variable(np.ones(3))).backward()


@pytest.mark.parametrize(
    ("expression", "dtype"),
    [
        (lambda x: x * 2.0, np.float32),
        (lambda x: 2.0 * x, np.float32),
        (lambda x: x + 1, np.float32),
        (lambda x: 1.0 / x, np.float32),
        (lambda x: x**2, np.float32),
    ],
)
def test_a_python_number_keeps_a_float32_variable_float32(expression, dtype):
    x = Variable(np.ones(3, dtype=np.float32))
    y = expression(x)
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == np.float32


def test_numpy_scalars_and_int_variables_keep_numpys_own_rules():
    ints = Variable(np.arange(3))
    assert (ints * 2.5).dtype == np.float64
    assert (Variable(np.ones(2, dtype=np.float32)) * np.float64(2.0)).dtype == np.float64
