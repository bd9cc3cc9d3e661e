"""Utilities around training: :mod:`ember.utils.checkpoint` (activation checkpointing) and
:mod:`ember.utils.tensorboard` (TensorBoard logging, needs the ``tensorboard`` extra:
``pip install 'ember[tensorboard]'``). Imported on first use."""
