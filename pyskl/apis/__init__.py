from .inference import inference_recognizer, init_recognizer
from .test import multi_gpu_test, single_gpu_test
from .train import train_model

__all__ = ['train_model', 'single_gpu_test', 'multi_gpu_test', 'init_recognizer', 'inference_recognizer']
