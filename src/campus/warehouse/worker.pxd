# Static types for the compiled build of worker.py (Cython "pure Python" mode): the runner is an
# extension type whose pseudonymiser and part writer are called directly, not looked up.
from campus.warehouse.parts cimport PartWriter
from campus.warehouse.pseudonymise cimport Pseudonymiser


cdef class Runner:
    cdef public object config
    cdef public Pseudonymiser pseudonymiser
    cdef public PartWriter writer
    cdef public set opted
    cdef public set _seen_targets
    cdef public dict _models
    cdef public object elsewhere
    cdef public object native
