"""Learner-written Variable/Function classes in the styles of the book's steps.

``trace.py`` and the magic must graph classes like these, not only our engine's.
Each style is a separate family of module-level names:

* ``Step7*``  - one ``input``/``output`` per function, recursive backward, no ``cleargrad``.
* ``Step14*`` - the seed notebook (/work/shared/seed/step14-notebook.txt): variadic
  inputs, a plain (strong) ``outputs`` list, no generation, no name.
  ``Step14Variable`` is the seed's first class (no ``cleargrad``);
  ``Step14VariableWithCleargrad`` is its later redefinition.
* ``Step18*`` - weakref outputs, generations, names, ``retain_grad``.
* ``Step33*`` - grads are Variables, and ``backward(create_graph=True)`` builds
  the grad-of-grad graph.
"""

import contextlib
import heapq
import itertools
import weakref

import numpy as np


def as_array(x):
    """Functions return numpy scalars for 0-d inputs; variables want arrays."""
    if np.isscalar(x):
        return np.array(x)
    return x


# ---------------------------------------------------------------- step 7


class Step7Variable:
    def __init__(self, data):
        self.data = data
        self.grad = None
        self.creator = None

    def set_creator(self, func):
        self.creator = func

    def backward(self):
        if self.grad is None:
            self.grad = np.ones_like(self.data)
        f = self.creator
        if f is not None:
            x = f.input
            x.grad = f.backward(self.grad)
            x.backward()


class Step7Function:
    def __call__(self, input):
        output = Step7Variable(as_array(self.forward(input.data)))
        output.set_creator(self)
        self.input = input
        self.output = output
        return output


class Step7Square(Step7Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 2 * self.input.data * gy


class Step7Exp(Step7Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return np.exp(self.input.data) * gy


def step7_square(x):
    return Step7Square()(x)


def step7_exp(x):
    return Step7Exp()(x)


# ---------------------------------------------------------------- step 14 (the seed)


class Step14Variable:
    def __init__(self, data):
        self.data = data
        self.grad = None
        self.creator = None

    def set_creator(self, func):
        self.creator = func

    def backward(self):
        if self.grad is None:
            self.grad = np.ones_like(self.data)
        funcs = [self.creator]
        while funcs:
            f = funcs.pop()
            gys = [output.grad for output in f.outputs]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs):
                x.grad = gx if x.grad is None else x.grad + gx
                if x.creator is not None:
                    funcs.append(x.creator)


class Step14VariableWithCleargrad(Step14Variable):
    def cleargrad(self):
        self.grad = None


class Step14Function:
    def __call__(self, *inputs):
        ys = self.forward(*[x.data for x in inputs])
        if not isinstance(ys, tuple):
            ys = (ys,)
        # The seed builds outputs with whichever Variable class is current; the
        # class of the first input plays that part here.
        outputs = [type(inputs[0])(as_array(y)) for y in ys]
        for output in outputs:
            output.set_creator(self)
        self.inputs = inputs
        self.outputs = outputs
        return outputs if len(outputs) > 1 else outputs[0]


class Step14Add(Step14Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


class Step14Split(Step14Function):
    """Two outputs: (2x, 3x)."""

    def forward(self, x):
        return 2 * x, 3 * x

    def backward(self, gy0, gy1):
        gy0 = 0 if gy0 is None else gy0
        gy1 = 0 if gy1 is None else gy1
        return 2 * gy0 + 3 * gy1


def step14_add(x0, x1):
    return Step14Add()(x0, x1)


def step14_split(x):
    return Step14Split()(x)


# ---------------------------------------------------------------- step 18


class Step18Config:
    enable_backprop = True


class Step18Variable:
    def __init__(self, data, name=None):
        self.data = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        self.grad = None

    def backward(self, retain_grad=False):
        if self.grad is None:
            self.grad = np.ones_like(self.data)
        order = itertools.count()
        pending, queued = [], set()

        def push(f):
            if f not in queued:
                queued.add(f)
                heapq.heappush(pending, (-f.generation, next(order), f))

        push(self.creator)
        while pending:
            f = heapq.heappop(pending)[2]
            gys = [output().grad for output in f.outputs]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx in zip(f.inputs, gxs):
                x.grad = gx if x.grad is None else x.grad + gx
                if x.creator is not None:
                    push(x.creator)
            if not retain_grad:
                for output in f.outputs:
                    output().grad = None


class Parameter(Step18Variable):
    """Named as DeZero names it: trace.py recognises parameters by class name."""


Step18Parameter = Parameter


class Step18Function:
    def __call__(self, *inputs):
        ys = self.forward(*[x.data for x in inputs])
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Step18Variable(as_array(y)) for y in ys]
        if Step18Config.enable_backprop:
            self.generation = max(x.generation for x in inputs)
            for output in outputs:
                output.set_creator(self)
            self.inputs = inputs
            self.outputs = [weakref.ref(output) for output in outputs]
        return outputs if len(outputs) > 1 else outputs[0]


class Step18Add(Step18Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


class Step18Mul(Step18Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return gy * x1.data, gy * x0.data


class Step18Square(Step18Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        return 2 * self.inputs[0].data * gy


class Step18Split(Step18Function):
    """Two outputs: (2x, 3x); an unused output's grad counts as zero."""

    def forward(self, x):
        return 2 * x, 3 * x

    def backward(self, gy0, gy1):
        gy0 = 0 if gy0 is None else gy0
        gy1 = 0 if gy1 is None else gy1
        return 2 * gy0 + 3 * gy1


def step18_add(x0, x1):
    return Step18Add()(x0, x1)


def step18_mul(x0, x1):
    return Step18Mul()(x0, x1)


def step18_square(x):
    return Step18Square()(x)


def step18_split(x):
    return Step18Split()(x)


# ---------------------------------------------------------------- step 33


class Step33Config:
    enable_backprop = True


@contextlib.contextmanager
def step33_backprop(enabled):
    previous = Step33Config.enable_backprop
    Step33Config.enable_backprop = enabled
    try:
        yield
    finally:
        Step33Config.enable_backprop = previous


def as_step33_variable(obj):
    return obj if isinstance(obj, Step33Variable) else Step33Variable(as_array(obj))


class Step33Variable:
    def __init__(self, data, name=None):
        self.data = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        self.grad = None

    def __add__(self, other):
        return Step33Add()(self, other)

    __radd__ = __add__

    def __mul__(self, other):
        return Step33Mul()(self, other)

    __rmul__ = __mul__

    def backward(self, retain_grad=False, create_graph=False):
        if self.grad is None:
            self.grad = Step33Variable(np.ones_like(self.data))
        order = itertools.count()
        pending, queued = [], set()

        def push(f):
            if f not in queued:
                queued.add(f)
                heapq.heappush(pending, (-f.generation, next(order), f))

        push(self.creator)
        while pending:
            f = heapq.heappop(pending)[2]
            gys = [output().grad for output in f.outputs]
            with step33_backprop(create_graph):
                gxs = f.backward(*gys)
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(f.inputs, gxs):
                    x.grad = gx if x.grad is None else x.grad + gx
                    if x.creator is not None:
                        push(x.creator)
            if not retain_grad:
                for output in f.outputs:
                    output().grad = None


class Step33Function:
    def __call__(self, *inputs):
        inputs = [as_step33_variable(x) for x in inputs]
        ys = self.forward(*[x.data for x in inputs])
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Step33Variable(as_array(y)) for y in ys]
        if Step33Config.enable_backprop:
            self.generation = max(x.generation for x in inputs)
            for output in outputs:
                output.set_creator(self)
            self.inputs = inputs
            self.outputs = [weakref.ref(output) for output in outputs]
        return outputs if len(outputs) > 1 else outputs[0]


class Step33Add(Step33Function):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return gy, gy


class Step33Mul(Step33Function):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return gy * x1, gy * x0
