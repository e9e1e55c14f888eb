from .evaluation import (
                         confusion_matrix,
                         mean_average_precision,
                         mean_class_accuracy,
                         seen_unseen_accuracy,
                         top_k_accuracy,
)

__all__ = [
    'top_k_accuracy', 'mean_class_accuracy', 'confusion_matrix', 'mean_average_precision', 'seen_unseen_accuracy'
]
