"""VideoSync's ``SimilarityMatrixClassifier``, as in the reference code.

Input 1 × S × S (S = 256) → 4 × [Conv 3×3 pad 1 → BatchNorm → ReLU → MaxPool 2] with 32, 64,
128, 256 channels → Dropout 0.7 → Linear(256·(S/16)² → 512) → ReLU → Dropout 0.7 →
Linear(512 → classes). Kaiming-normal (fan_out) convolutions, N(0, 0.01) linears.
"""

from __future__ import annotations

import torch
from torch import nn


class SimilarityMatrixClassifier(nn.Module):
    def __init__(self, size: int = 256, n_classes: int = 61, channels=(32, 64, 128, 256), dropout: float = 0.7):
        super().__init__()
        layers, c_in = [], 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        side = size // (2 ** len(channels))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c_in * side * side, 512), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(512, n_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S) → (B, n_classes) logits."""
        return self.classifier(torch.flatten(self.features(x), 1))
