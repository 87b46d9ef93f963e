"""Restormer building blocks shared by every network of :mod:`baryir.models`."""

from baryir.models.layers.attention import TransposedAttention
from baryir.models.layers.block import TransformerBlock, make_blocks
from baryir.models.layers.feedforward import GatedFeedForward
from baryir.models.layers.norm import ChannelLayerNorm
from baryir.models.layers.prompt import PromptGenBlock
from baryir.models.layers.sampling import Downsample, PatchEmbed, Upsample

__all__ = [
    "ChannelLayerNorm",
    "Downsample",
    "GatedFeedForward",
    "PatchEmbed",
    "PromptGenBlock",
    "TransformerBlock",
    "TransposedAttention",
    "Upsample",
    "make_blocks",
]
