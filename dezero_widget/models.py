"""Models: layers that the book trains end to end (MLP, Sequential) and two classic CNNs.

DeZero's names, attribute (and so weight-file key) names and architectures. Pretrained
weights are never downloaded: `pretrained=True` loads them from a local file (where PyPI
DeZero's downloader would have put it) or raises one FileNotFoundError naming that path.
"""

from __future__ import annotations

import numpy as np

import dezero_widget.functions as F
import dezero_widget.layers as L
from dezero_widget import utils
from dezero_widget.functions_conv import average_pooling, pooling
from dezero_widget.layers import Layer
from dezero_widget.utils import get_file

# =============================================================================
# Model / Sequential / MLP
# =============================================================================


class Model(Layer):
    """A Layer that is a whole network (what an optimizer is set up with)."""

    def plot(self, *inputs, to_file=None, **options):
        """Draw the graph of ``self(*inputs)``: in a notebook the live widget (the package's
        ``__init__`` installs that, as the widget layer sits above the engine); with
        ``to_file``, or without the widget's packages, DeZero's way: Graphviz via
        ``utils.plot_dot_graph``."""
        return utils.plot_dot_graph(self(*inputs), verbose=True, to_file=to_file or "model.png")


class Sequential(Model):
    """The given layers (or functions) applied in order; layers become attributes l0, l1, ..."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = []
        for i, layer in enumerate(layers):
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MLP(Model):
    """Fully connected layers of the given output sizes, `activation` between them (not after the last)."""

    def __init__(self, fc_output_sizes, activation=F.sigmoid):
        super().__init__()
        self.activation = activation
        self.layers = []
        for i, out_size in enumerate(fc_output_sizes):
            layer = L.Linear(out_size)
            setattr(self, f"l{i}", layer)
            self.layers.append(layer)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


# =============================================================================
# VGG16
# =============================================================================


class VGG16(Model):
    """VGG-16 (Simonyan & Zisserman): 13 3x3 convolutions in 5 blocks, then 3 fully connected layers.

    Expects (N, 3, 224, 224) BGR images with the ImageNet channel means subtracted
    (`VGG16.preprocess` makes one from a PIL image); outputs 1000 class scores.
    """

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/vgg16.npz"
    BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (channels, convolutions) per block

    def __init__(self, pretrained=False):
        super().__init__()
        for block, (channels, count) in enumerate(self.BLOCKS, start=1):
            for i in range(1, count + 1):
                setattr(self, f"conv{block}_{i}", L.Conv2d(channels, kernel_size=3, stride=1, pad=1))
        self.fc6 = L.Linear(4096)
        self.fc7 = L.Linear(4096)
        self.fc8 = L.Linear(1000)
        if pretrained:
            self.load_weights(get_file(VGG16.WEIGHTS_PATH))

    def forward(self, x):
        for block, (_, count) in enumerate(self.BLOCKS, start=1):
            for i in range(1, count + 1):
                x = F.relu(getattr(self, f"conv{block}_{i}")(x))
            x = pooling(x, 2, 2)
        x = F.reshape(x, (x.shape[0], -1))
        x = F.dropout(F.relu(self.fc6(x)))
        x = F.dropout(F.relu(self.fc7(x)))
        return self.fc8(x)

    @staticmethod
    def preprocess(image, size=(224, 224), dtype=np.float32):
        """A PIL image as the (3, H, W) array VGG16 was trained on: BGR, ImageNet means subtracted."""
        image = image.convert("RGB")
        if size:
            image = image.resize(size)
        array = np.asarray(image, dtype=dtype)[:, :, ::-1]  # RGB -> BGR
        array = array - np.array([103.939, 116.779, 123.68], dtype=dtype)
        return array.transpose((2, 0, 1))


# =============================================================================
# ResNet
# =============================================================================


_RESNET_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}  # bottlenecks per stage


class ResNet(Model):
    """ResNet (He et al.) with bottleneck blocks: 50, 101 or 152 layers.

    DeZero 0.0.13 passes Chainer's argument order to its Conv2d (in_channels first), which
    builds wrong layers; this is the architecture it meant, with DeZero's attribute names
    (so its weight files fit): conv1, bn1, res2 to res5, fc6. Weights are created on the
    first call (every layer infers its input channels), so building a ResNet-152 is instant.
    """

    WEIGHTS_PATH = "https://github.com/koki0702/dezero-models/releases/download/v0.1/resnet{}.npz"

    def __init__(self, n_layers=152, pretrained=False):
        super().__init__()
        if n_layers not in _RESNET_BLOCKS:
            raise ValueError(
                f"The n_layers argument should be either 50, 101, or 152, but {n_layers} was given."
            )
        block = _RESNET_BLOCKS[n_layers]
        self.conv1 = L.Conv2d(64, kernel_size=7, stride=2, pad=3)
        self.bn1 = L.BatchNorm()
        self.res2 = BuildingBlock(block[0], 64, 64, 256, 1)
        self.res3 = BuildingBlock(block[1], 256, 128, 512, 2)
        self.res4 = BuildingBlock(block[2], 512, 256, 1024, 2)
        self.res5 = BuildingBlock(block[3], 1024, 512, 2048, 2)
        self.fc6 = L.Linear(1000)
        if pretrained:
            self.load_weights(get_file(ResNet.WEIGHTS_PATH.format(n_layers)))

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = pooling(x, kernel_size=3, stride=2)
        x = self.res5(self.res4(self.res3(self.res2(x))))
        return self.fc6(_global_average_pooling_2d(x))


class ResNet152(ResNet):
    def __init__(self, pretrained=False):
        super().__init__(152, pretrained)


class ResNet101(ResNet):
    def __init__(self, pretrained=False):
        super().__init__(101, pretrained)


class ResNet50(ResNet):
    def __init__(self, pretrained=False):
        super().__init__(50, pretrained)


def _global_average_pooling_2d(x):
    """(N, C, H, W) -> (N, C): the mean of each channel."""
    n, c, h, w = x.shape
    return F.reshape(average_pooling(x, (h, w), stride=1), (n, c))


class BuildingBlock(Layer):
    """One ResNet stage: a BottleneckA (changes size and channels), then n_layers - 1 BottleneckB."""

    def __init__(
        self,
        n_layers=None,
        in_channels=None,
        mid_channels=None,
        out_channels=None,
        stride=None,
        downsample_fb=None,
    ):
        super().__init__()
        self.a = BottleneckA(in_channels, mid_channels, out_channels, stride, downsample_fb)
        self._forward = ["a"]
        for i in range(1, n_layers):
            setattr(self, f"b{i}", BottleneckB(out_channels, mid_channels))
            self._forward.append(f"b{i}")

    def forward(self, x):
        for name in self._forward:
            x = getattr(self, name)(x)
        return x


class BottleneckA(Layer):
    """1x1 -> 3x3 -> 1x1 convolutions plus a 1x1 projection shortcut; reduces the resolution by `stride`.

    `downsample_fb` puts the stride on the 3x3 convolution (Facebook's ResNet) instead of
    the first 1x1 (the original MSRA ResNet).
    """

    def __init__(self, in_channels, mid_channels, out_channels, stride=2, downsample_fb=False):
        super().__init__()
        stride_1x1, stride_3x3 = (1, stride) if downsample_fb else (stride, 1)
        self.conv1 = L.Conv2d(mid_channels, 1, stride_1x1, 0, nobias=True)
        self.bn1 = L.BatchNorm()
        self.conv2 = L.Conv2d(mid_channels, 3, stride_3x3, 1, nobias=True)
        self.bn2 = L.BatchNorm()
        self.conv3 = L.Conv2d(out_channels, 1, 1, 0, nobias=True)
        self.bn3 = L.BatchNorm()
        self.conv4 = L.Conv2d(out_channels, 1, stride, 0, nobias=True)
        self.bn4 = L.BatchNorm()

    def forward(self, x):
        h1 = F.relu(self.bn1(self.conv1(x)))
        h1 = F.relu(self.bn2(self.conv2(h1)))
        h1 = self.bn3(self.conv3(h1))
        h2 = self.bn4(self.conv4(x))
        return F.relu(h1 + h2)


class BottleneckB(Layer):
    """1x1 -> 3x3 -> 1x1 convolutions plus the identity shortcut; keeps the resolution and channels."""

    def __init__(self, in_channels, mid_channels):
        super().__init__()
        self.conv1 = L.Conv2d(mid_channels, 1, 1, 0, nobias=True)
        self.bn1 = L.BatchNorm()
        self.conv2 = L.Conv2d(mid_channels, 3, 1, 1, nobias=True)
        self.bn2 = L.BatchNorm()
        self.conv3 = L.Conv2d(in_channels, 1, 1, 0, nobias=True)
        self.bn3 = L.BatchNorm()

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return F.relu(h + x)
