"""ember-torchdev: the ``torchcpu`` device, Ember on PyTorch CPU tensors through the array API
standard (``array_api_compat``'s namespace for PyTorch). Ember finds it through the
``ember.backends`` entry point ``torchcpu = "ember_torchdev.plugin"``; torch is imported on
first use."""

__version__ = "0.1.0"
