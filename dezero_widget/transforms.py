"""Transforms the datasets apply to each example: DeZero's names and behaviour.

The PIL-image transforms import Pillow only when used, so the numpy ones (what MNIST
and CIFAR10 apply by default) work without it.
"""

from __future__ import annotations

import numpy as np

from dezero_widget.utils import pair


def _pil_image():
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "this transform works on PIL images: install Pillow (pip install pillow)"
        ) from error
    return Image


class Compose:
    """Apply `transforms` in order."""

    def __init__(self, transforms=()):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


# =============================================================================
# Transforms for PIL images
# =============================================================================


class Convert:
    """Convert a PIL image to `mode` ("RGB", "L"...); "BGR" swaps the red and blue channels."""

    def __init__(self, mode="RGB"):
        self.mode = mode

    def __call__(self, img):
        if self.mode != "BGR":
            return img.convert(self.mode)
        r, g, b = img.convert("RGB").split()
        return _pil_image().merge("RGB", (b, g, r))


class Resize:
    """Resize a PIL image to `size` (an int for a square); `mode` is the resampling filter (bilinear)."""

    def __init__(self, size, mode=None):
        self.size = pair(size)
        self.mode = mode

    def __call__(self, img):
        mode = _pil_image().BILINEAR if self.mode is None else self.mode
        return img.resize(self.size, mode)


class CenterCrop:
    """Crop the centre `size` (width, height) of a PIL image; an odd margin leaves the extra pixel on the right/bottom."""

    def __init__(self, size):
        self.size = pair(size)

    def __call__(self, img):
        width, height = img.size
        out_w, out_h = self.size
        left, up = (width - out_w) // 2, (height - out_h) // 2
        return img.crop((left, up, left + out_w, up + out_h))


class ToArray:
    """A PIL image as a (C, H, W) array of `dtype`; arrays pass through unchanged."""

    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, img):
        if isinstance(img, np.ndarray):
            return img
        if isinstance(img, _pil_image().Image):
            return np.asarray(img).transpose(2, 0, 1).astype(self.dtype)
        raise TypeError(f"ToArray takes a PIL image or an ndarray, not {type(img).__name__}")


class ToPIL:
    """A (C, H, W) array as a PIL image."""

    def __call__(self, array):
        return _pil_image().fromarray(array.transpose(1, 2, 0))


class RandomHorizontalFlip:
    """Placeholder kept for DeZero's name (it does nothing there either)."""


# =============================================================================
# Transforms for numpy arrays
# =============================================================================


class Normalize:
    """(array - mean) / std; a sequence gives one value per channel (the first axis)."""

    def __init__(self, mean=0, std=1):
        self.mean = mean
        self.std = std

    def _per_channel(self, value, array):
        if np.isscalar(value):
            return value
        shape = [1] * array.ndim
        shape[0] = len(array) if len(value) == 1 else len(value)
        return np.array(value, dtype=array.dtype).reshape(*shape)

    def __call__(self, array):
        return (array - self._per_channel(self.mean, array)) / self._per_channel(self.std, array)


class Flatten:
    def __call__(self, array):
        return array.flatten()


class AsType:
    def __init__(self, dtype=np.float32):
        self.dtype = dtype

    def __call__(self, array):
        return array.astype(self.dtype)


ToFloat = AsType


class ToInt(AsType):
    def __init__(self, dtype=int):
        self.dtype = dtype
