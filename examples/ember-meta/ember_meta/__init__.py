"""ember-meta: a third-party Ember plugin (the worked example of issue 6).

It adds the ``meta`` device type (tensors with a shape and a dtype but no data, for sizing
models without allocating them) and overrides the cpu backend's ``softmax`` kernel with a faster
one. Ember finds it through the ``ember.backends`` entry point ``meta = "ember_meta.plugin"``;
this package's modules are imported only when Ember uses them.
"""

__version__ = "0.1.0"
