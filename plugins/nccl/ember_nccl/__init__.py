"""Ember's NCCL communication backend (``init_process_group(backend="nccl")``), on CuPy.

The declaration is in :mod:`ember_nccl.plugin` (CuPy is not imported there); the implementation,
imported on first use, is :class:`ember_nccl.group.NcclProcessGroup`; the exchange of NCCL's
unique id between the ranks (TCP on ``MASTER_ADDR:MASTER_PORT``, or MPI under mpiexec) is
:mod:`ember_nccl.rendezvous`, standard library only.
"""
