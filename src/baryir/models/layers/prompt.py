"""Prompt generation block (PGB) of PromptIR."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["PromptGenBlock"]


class PromptGenBlock(nn.Module):
    """Input-conditioned prompt: a softmax-weighted sum of learned prompts, resized, convolved.

    ``w = softmax(linear(mean_{H,W}(x)))`` over ``N`` prompts ``P`` of shape
    ``(1, N, D, S, S)`` (init uniform in [0, 1)); ``sum_n w_n P_n`` is resized bilinearly
    (align_corners=False) to ``x``'s ``(H, W)`` and passed through a 3x3 conv ``D -> D``
    (no bias).

    Args:
        prompt_dim: prompt channels ``D``.
        prompt_size: prompt side ``S``.
        in_channels: channels ``C`` of the conditioning features.
        num_prompts: number of prompts ``N``.

    Shape:
        ``(B, C, H, W) -> (B, D, H, W)``
    """

    def __init__(
        self, prompt_dim: int, prompt_size: int, in_channels: int, num_prompts: int = 5
    ) -> None:
        super().__init__()
        self.prompt_dim = prompt_dim
        self.prompts = nn.Parameter(
            torch.rand(1, num_prompts, prompt_dim, prompt_size, prompt_size)
        )
        self.selector = nn.Linear(in_channels, num_prompts)
        self.conv = nn.Conv2d(prompt_dim, prompt_dim, kernel_size=3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        weights = F.softmax(self.selector(x.mean(dim=(-2, -1))), dim=1)
        prompt = (weights[:, :, None, None, None] * self.prompts).sum(dim=1)
        prompt = F.interpolate(prompt, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(prompt)
