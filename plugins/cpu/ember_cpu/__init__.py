"""Ember's cpu backend (numpy kernels), registered through the ``ember.backends`` entry point."""

__version__ = "0.1.0"
