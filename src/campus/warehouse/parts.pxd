# Static types for the compiled build of parts.py (Cython "pure Python" mode): the staging
# tables become extension types, so that appending a resource's columns is a few C calls.
cimport cython


cdef class _Table:
    cdef public object path
    cdef public object schema
    cdef public list rows
    cdef public Py_ssize_t bytes
    cdef public object writer

    cpdef add(self, tuple row, Py_ssize_t size=*)
    cpdef flush(self)
    cpdef write(self, list columns)
    cpdef Py_ssize_t _pending(self) except -1
    cpdef list _columns(self)
    cpdef close(self)


@cython.final
cdef class _Resources(_Table):
    cdef public list ids
    cdef public list patients
    cdef public list effective
    cdef public list codes
    cdef public object order
    cdef public bytearray text
    cdef public object offsets
    cdef public object order_path
    cdef public object order_writer

    cpdef _reset(self)
    cpdef append(self, source_id, patient, effective, code, long long order, bytes data)


@cython.final
cdef class PartWriter:
    cdef public object staging
    cdef public object worker
    cdef public dict tables
    cdef public _Table refs
    cdef public _Table optout
    cdef public _Table deferred
    cdef public _Table idkeys

    cpdef resource(self, str type_name, source_id, patient, effective, code, long long order, bytes data)
    cpdef batch(self, str type_name, list columns)
    cpdef _Resources _table(self, str type_name)
    cpdef close(self)
