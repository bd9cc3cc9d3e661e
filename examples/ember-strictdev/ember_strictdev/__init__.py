"""ember-strictdev: the ``strict`` device, Ember on ``array_api_strict`` (the array API standard
and nothing else). Ember finds it through the ``ember.backends`` entry point
``strict = "ember_strictdev.plugin"``; ``array_api_strict`` is imported on first use."""

__version__ = "0.1.0"
