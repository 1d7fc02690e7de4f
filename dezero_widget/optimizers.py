"""Optimizers: update a model's parameters from their gradients, as DeZero's do.

Same names, defaults and update formulas as DeZero 0.0.13, so training gives the same
numbers. Hooks (`add_hook`) run on the parameters that have a gradient before each
update; they replace a gradient rather than write into it, because the engine lets
several variables share one gradient array.
"""

from __future__ import annotations

import math

import numpy as np

from dezero_widget.core import Parameter, grad_data

# =============================================================================
# Optimizer (base class)
# =============================================================================


class Optimizer:
    """`setup(model)` once, then `update()` after each backward; `add_hook(f)` adds a gradient hook."""

    def __init__(self):
        self.target = None
        self.hooks = []

    def setup(self, target):
        self.target = target
        return self

    def update(self):
        # (grad_data: the grads backward left as arrays are not wrapped into Variables for this)
        params = [p for p in self.target.params() if grad_data(p) is not None]
        if self.hooks:
            for hook in self.hooks:
                hook(params)
            params = [p for p in params if grad_data(p) is not None]  # FreezeParam drops some
        for param in params:
            self.update_one(param)

    def update_one(self, param):
        raise NotImplementedError(f"{type(self).__name__}.update_one")

    def add_hook(self, f):
        self.hooks.append(f)


# =============================================================================
# Hooks
# =============================================================================


class WeightDecay:
    """L2 regularization: adds rate * param to each gradient."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, params):
        for param in params:
            param.grad.data = param.grad.data + self.rate * param.data


class ClipGrad:
    """Scales all gradients down together when their global L2 norm exceeds max_norm."""

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def __call__(self, params):
        total_norm = 0
        for param in params:
            total_norm += (param.grad.data**2).sum()
        total_norm = math.sqrt(float(total_norm))
        rate = self.max_norm / (total_norm + 1e-6)
        if rate < 1:
            for param in params:
                param.grad.data = param.grad.data * rate


class FreezeParam:
    """Keeps the given layers' (or Parameters') values fixed by dropping their gradients."""

    def __init__(self, *layers):
        self.freeze_params = []
        for layer in layers:
            if isinstance(layer, Parameter):
                self.freeze_params.append(layer)
            else:
                self.freeze_params.extend(layer.params())

    def __call__(self, params):
        for param in self.freeze_params:
            param.grad = None


# =============================================================================
# SGD / MomentumSGD / AdaGrad / AdaDelta / Adam
# =============================================================================


class SGD(Optimizer):
    """param -= lr * grad."""

    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr

    def update_one(self, param):
        param.data -= self.lr * grad_data(param)


class MomentumSGD(Optimizer):
    """v = momentum * v - lr * grad; param += v (a velocity per parameter, kept in `vs`)."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__()
        self.lr = lr
        self.momentum = momentum
        self.vs = {}

    def update_one(self, param):
        v = self.vs.get(id(param))
        if v is None:
            v = self.vs[id(param)] = np.zeros_like(param.data)
        v *= self.momentum
        v -= self.lr * grad_data(param)
        param.data += v


class AdaGrad(Optimizer):
    """Per-element learning rates lr / sqrt(sum of squared gradients so far)."""

    def __init__(self, lr=0.001, eps=1e-8):
        super().__init__()
        self.lr = lr
        self.eps = eps
        self.hs = {}

    def update_one(self, param):
        h = self.hs.get(id(param))
        if h is None:
            h = self.hs[id(param)] = np.zeros_like(param.data)
        grad = grad_data(param)
        h += grad * grad
        param.data -= self.lr * grad / (np.sqrt(h) + self.eps)


class AdaDelta(Optimizer):
    """AdaGrad's idea without a learning rate: decaying averages of squared gradients and steps."""

    def __init__(self, rho=0.95, eps=1e-6):
        super().__init__()
        self.rho = rho
        self.eps = eps
        self.msg = {}  # mean square gradient
        self.msdx = {}  # mean square step

    def update_one(self, param):
        key = id(param)
        if key not in self.msg:
            self.msg[key] = np.zeros_like(param.data)
            self.msdx[key] = np.zeros_like(param.data)
        msg, msdx = self.msg[key], self.msdx[key]
        rho, eps, grad = self.rho, self.eps, grad_data(param)
        msg *= rho
        msg += (1 - rho) * grad * grad
        dx = np.sqrt((msdx + eps) / (msg + eps)) * grad
        msdx *= rho
        msdx += (1 - rho) * dx * dx
        param.data -= dx


class Adam(Optimizer):
    """Momentum (m) and per-element scaling (v), with the bias correction folded into `lr`."""

    def __init__(self, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__()
        self.t = 0
        self.alpha = alpha
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.ms = {}
        self.vs = {}

    def update(self, *args, **kwargs):
        self.t += 1
        super().update(*args, **kwargs)

    @property
    def lr(self):
        fix1 = 1.0 - math.pow(self.beta1, self.t)
        fix2 = 1.0 - math.pow(self.beta2, self.t)
        return self.alpha * math.sqrt(fix2) / fix1

    def update_one(self, param):
        key = id(param)
        if key not in self.ms:
            self.ms[key] = np.zeros_like(param.data)
            self.vs[key] = np.zeros_like(param.data)
        m, v = self.ms[key], self.vs[key]
        grad = grad_data(param)
        m += (1 - self.beta1) * (grad - m)
        v += (1 - self.beta2) * (grad * grad - v)
        param.data -= self.lr * m / (np.sqrt(v) + self.eps)
