"""musicnn (Pons & Serra 2019) in PyTorch, with its pretrained weights, and its ONNX export.

The network of the ``musicnn`` package (``models.build_musicnn``), layer for layer:

- front-end over a (187 frames, 96 mel bands) log-mel patch, after a one-channel batch
  norm: two timbral convolutions (7 frames x 38 and x 67 bands, 204 filters each) and
  three temporal ones (128, 64 and 32 frames x 1 band, 51 filters each), each followed
  by ReLU, batch norm and a max over frequency; 561 channels per frame;
- mid-end: three 1-D convolutions over time (7 frames, 64 filters, ReLU, batch norm),
  the second and third with residual connections; the front-end and the three outputs
  are concatenated (753 channels per frame);
- back-end: max and mean over time (``max_pool``, ``mean_pool``, 753 each), interleaved
  as TensorFlow flattens them, batch norm, a 200-unit dense layer with ReLU and batch norm
  (``penultimate``), and a dense layer with sigmoid over the 50 tags (``taggram``).

Batch norms run in inference mode with TensorFlow's epsilon (1e-3) and the stored moving
statistics; dropout is off. The weights come from the package's TensorFlow checkpoint,
read once by :mod:`training.musicnn_convert` into an ``.npz`` of this module's
``state_dict`` (MSD_musicnn's: :data:`MSD_MUSICNN`). :func:`export_onnx` writes the graph
the service runs with onnxruntime (see :mod:`app.features.musicnn`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from app.features.musicnn import INPUT_NAME, N_MELS, OUTPUT_NAMES, PATCH_FRAMES

MSD_MUSICNN = Path(__file__).with_name("weights") / "msd_musicnn"
"""MSD_musicnn converted (:mod:`training.musicnn_convert`): ``.npz`` weights, ``.json`` card
and ``-LICENSE.md``; the shipped model's ``musicnn.onnx`` is their export. Kept beside the
training code, outside the installed package."""

TF_BN_EPS = 1e-3
"""``tf.layers.batch_normalization``'s default epsilon."""

OPSET = 17


class FrequencyMaxConv(nn.Module):
    """A front-end block: Conv2d over (time, frequency), ReLU, batch norm, max over frequency.

    Maps (batch, 1, time, bands) to (batch, filters, time). The time axis is padded by
    ``time_pad`` (before, after) zeros, as the TensorFlow graph pads it.
    """

    def __init__(self, filters: int, kernel: tuple[int, int], time_pad: tuple[int, int]) -> None:
        super().__init__()
        self.time_pad = time_pad
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = nn.BatchNorm2d(filters, eps=TF_BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, 0, *self.time_pad))
        return self.bn(torch.relu(self.conv(x))).amax(dim=3)


def same_pad(kernel: int) -> tuple[int, int]:
    """TensorFlow's ``padding="same"`` for stride 1: the extra zero goes after."""
    return (kernel - 1) // 2, kernel // 2


class TimeConv(nn.Module):
    """A mid-end block: 7-frame Conv1d over all channels, ReLU, batch norm."""

    def __init__(self, channels: int, filters: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, filters, 7, padding=3)
        self.bn = nn.BatchNorm1d(filters, eps=TF_BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(torch.relu(self.conv(x)))


class Musicnn(nn.Module):
    """The musicnn tagger; ``forward`` maps (batch, 187, 96) log-mel patches to the
    outputs named in :data:`app.features.musicnn.OUTPUT_NAMES`.

    Parameters
    ----------
    n_tags : int
        Tags of the output layer (50 for both MSD_musicnn and MTT_musicnn).
    midend_filters, backend_units : int
        64 and 200 for MSD_musicnn and MTT_musicnn (512 and 500 for MSD_musicnn_big).
    """

    def __init__(self, n_tags: int = 50, midend_filters: int = 64, backend_units: int = 200):
        super().__init__()
        timbral_filters, temporal_filters = int(1.6 * 128), int(1.6 * 32)
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPS)
        self.timbral = nn.ModuleList(
            FrequencyMaxConv(timbral_filters, (7, int(share * N_MELS)), (3, 3))
            for share in (0.4, 0.7)
        )
        self.temporal = nn.ModuleList(
            FrequencyMaxConv(temporal_filters, (length, 1), same_pad(length))
            for length in (128, 64, 32)
        )
        frontend_channels = 2 * timbral_filters + 3 * temporal_filters
        self.midend = nn.ModuleList(
            TimeConv(channels, midend_filters)
            for channels in (frontend_channels, midend_filters, midend_filters)
        )
        self.pooled_channels = frontend_channels + 3 * midend_filters
        self.pool_bn = nn.BatchNorm1d(2 * self.pooled_channels, eps=TF_BN_EPS)
        self.dense = nn.Linear(2 * self.pooled_channels, backend_units)
        self.dense_bn = nn.BatchNorm1d(backend_units, eps=TF_BN_EPS)
        self.output = nn.Linear(backend_units, n_tags)

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.input_bn(patches.unsqueeze(1))
        frontend = torch.cat([block(x) for block in (*self.timbral, *self.temporal)], dim=1)
        first = self.midend[0](frontend)
        second = self.midend[1](first) + first
        third = self.midend[2](second) + second
        features = torch.cat([frontend, first, second, third], dim=1)
        max_pool = features.amax(dim=2)
        mean_pool = features.mean(dim=2)
        # TensorFlow flattens (channels, [max, mean]): the two statistics interleave.
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)
        penultimate = self.dense_bn(torch.relu(self.dense(self.pool_bn(pooled))))
        taggram = torch.sigmoid(self.output(penultimate))
        outputs = {
            "taggram": taggram,
            "penultimate": penultimate,
            "max_pool": max_pool,
            "mean_pool": mean_pool,
        }
        return tuple(outputs[name] for name in OUTPUT_NAMES)


def load_musicnn(weights: Path) -> nn.Module:
    """A :class:`Musicnn` (or, for a VGG's weights, a :class:`training.musicnn_vgg.Vgg`) in
    eval mode with the ``state_dict`` stored in ``weights`` (.npz)."""
    from training.musicnn_vgg import Vgg

    with np.load(weights) as data:
        state = {name: torch.from_numpy(data[name]) for name in data.files}
    if "convs.0.weight" in state:
        model = Vgg(state["output.bias"].numel())
    else:
        midend, units = state["midend.0.conv.bias"].numel(), state["dense.bias"].numel()
        model = Musicnn(state["output.bias"].numel(), midend, units)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{weights} does not fit musicnn: missing {missing}, extra {unexpected}")
    return model.eval()


def export_onnx(model: nn.Module, path: Path) -> None:
    """Write ``model`` (in eval mode) to ``path`` with a dynamic batch axis.

    The TorchScript-based exporter, as :mod:`training.export` uses (see there why).
    """
    model.eval()
    example = torch.zeros(2, PATCH_FRAMES, N_MELS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # The exporter cannot fold the interleaving's strided slices; they run as they are.
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            dynamic_axes={name: {0: "batch"} for name in (INPUT_NAME, *OUTPUT_NAMES)},
            opset_version=OPSET,
            dynamo=False,
        )
