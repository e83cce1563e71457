# Static types for the compiled build of sources.py (Cython "pure Python" mode): `Item`, made
# once per resource read, becomes an extension type.

cdef class Item:
    cdef public object line
    cdef public object entry
    cdef public object resource
    cdef public object error
    cdef public object bundle
    cdef public bint blank
    cdef public object raw
