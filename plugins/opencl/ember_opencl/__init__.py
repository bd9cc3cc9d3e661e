"""Ember's OpenCL backend plugin (device type ``"opencl"``).

Importing this package is cheap: pyopencl is only imported when :mod:`ember_opencl.backend` is,
which Ember does on first use of an ``opencl`` device.
"""

__version__ = "0.1.0"
