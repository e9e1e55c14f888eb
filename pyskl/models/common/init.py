"""The projection-layer initialisation shared by the video encoders, the text branch and the recognizer heads."""
import torch.nn as nn

__all__ = ['init_linear_layers']


def init_linear_layers(module: nn.Module) -> None:
    """Every ``nn.Linear`` of ``module`` (itself included): weight ~ normal(0, in_features**-0.5), zero bias.

    Layers are visited in ``module.modules()`` order, so a seed gives the same weights wherever it is called.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=layer.in_features**-0.5)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
