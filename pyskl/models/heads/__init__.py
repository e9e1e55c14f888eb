from .base import BaseHead, top_k_hits
from .i3d_head import I3DHead

__all__ = ['BaseHead', 'I3DHead', 'top_k_hits']
