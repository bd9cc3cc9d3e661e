"""Ember's MPI communication backend (``init_process_group(backend="mpi")``), on mpi4py.

The declaration is in :mod:`ember_mpi.plugin`; the implementation, imported on first use, is
:class:`ember_mpi.group.MPIProcessGroup`.
"""
