"""Ember's CUDA backend (CuPy kernels), registered through the ``ember.backends`` entry point.

Importing this package is cheap: CuPy is imported only when a ``cuda`` device is first used.
"""

__version__ = "0.1.0"
