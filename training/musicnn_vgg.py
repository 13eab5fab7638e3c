"""musicnn's VGG-like taggers (``MSD_vgg``, ``MTT_vgg``) in PyTorch, with the outputs
:class:`app.features.musicnn.MusicnnEmbedder` reads.

The network of the ``musicnn`` package (``models.vgg`` with 128 filters), layer for layer:
a one-channel batch norm of the (187 frames, 96 mel bands) log-mel patch, then five
blocks of a 3x3 "same" convolution with ReLU and batch norm followed by max-pooling
(4x1 with stride 2, then 2x2 three times, then 4x4), and a dense layer from the flattened
last pooling (2 x 1 x 128 = 256 values) to the 50 tags.

Outputs, named as musicnn's so the same embedder and caches run them:

- ``taggram``: sigmoid of the tag layer (50);
- ``penultimate``: the flattened last pooling (256), what the tag layer reads;
- ``max_pool``, ``mean_pool``: the maximum and the mean over time and frequency of the
  fourth pooling's 128 maps (the package calls it ``pool4``).

Batch norms run in inference mode with TensorFlow's epsilon; dropout is off. The weights
come from the package's checkpoint through :mod:`training.musicnn_convert`.
"""

from __future__ import annotations

import torch
from torch import nn

from app.features.musicnn import OUTPUT_NAMES
from training.musicnn import TF_BN_EPS

FILTERS = 128
POOLS = ((4, 1), (2, 2), (2, 2), (2, 2), (4, 4))
"""Max-pooling windows of the five blocks (strides equal, except the first's (2, 2))."""


class Vgg(nn.Module):
    """The VGG tagger; ``forward`` maps (batch, 187, 96) patches to :data:`OUTPUT_NAMES`."""

    def __init__(self, n_tags: int = 50) -> None:
        super().__init__()
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPS)
        self.convs = nn.ModuleList(
            nn.Conv2d(1 if k == 0 else FILTERS, FILTERS, 3, padding=1) for k in range(5)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(FILTERS, eps=TF_BN_EPS) for _ in range(5))
        self.pools = nn.ModuleList(
            nn.MaxPool2d(size, stride=(2, 2) if k == 0 else size) for k, size in enumerate(POOLS)
        )
        self.output = nn.Linear(2 * FILTERS, n_tags)

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.input_bn(patches.unsqueeze(1))
        pooled = []
        for conv, bn, pool in zip(self.convs, self.bns, self.pools, strict=True):
            x = pool(bn(torch.relu(conv(x))))
            pooled.append(x)
        # TensorFlow flattens (time, frequency, channels): channels vary fastest.
        penultimate = pooled[4].permute(0, 2, 3, 1).flatten(1)
        outputs = {
            "taggram": torch.sigmoid(self.output(penultimate)),
            "penultimate": penultimate,
            "max_pool": pooled[3].amax(dim=(2, 3)),
            "mean_pool": pooled[3].mean(dim=(2, 3)),
        }
        return tuple(outputs[name] for name in OUTPUT_NAMES)
