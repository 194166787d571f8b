"""HST Studio's task model (HST + heads) in PyTorch, trained with torch.distributed (torchrun).

The studio's TypeScript code is the definition: parameter names, shapes, math, target assignment, augmentation
and schedule here follow it line by line (see README.md for the map of files).
"""
__version__ = "0.1.0"
