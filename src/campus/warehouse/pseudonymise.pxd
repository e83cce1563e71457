# Static types for the compiled build of pseudonymise.py (Cython "pure Python" mode): the .py
# file stays the only source of the logic and runs as is when the extension is not built.
cimport cython

cdef str _DATE, _REFERENCE, _NAMED_REFERENCE, _NOTHING
cdef dict _KINDS
cdef Py_ssize_t _KINDS_LIMIT, _CACHE_LIMIT
cdef frozenset _LIST_KEYS, _SCALAR_TYPES, _CODING_KEYS
cdef frozenset _RESOURCE_TYPES, _REFERENCE_KEYS, _CODE_LISTS
cdef object _checked_shift
cdef object _relative_reference, _ABSOLUTE_REFERENCE, _CONDITIONAL_REFERENCE

cpdef str _kind(str key)
cpdef _refuse_bare_reference(str text)
cpdef bint _plain_coding(dict item) except -1


@cython.final
cdef class Target:
    cdef readonly str type
    cdef readonly str id
    cdef readonly object pseudonym


@cython.final
cdef class Pseudonymiser:
    cdef public object key
    cdef public object policy
    cdef public dict _roots
    cdef public dict _trees
    cdef public dict _pseudonyms
    cdef public dict _shifts
    cdef public dict _relative
    cdef public object _anywhere
    cdef public frozenset _anywhere_keys
    cdef object _inner
    cdef object _outer

    cpdef bytes _hmac(self, bytes message)
    cdef str _digest(self, str text)
    cpdef str pseudonym(self, str type_name, str source_id)
    cpdef str pseudonym_of(self, object target)
    cpdef object shift_days(self, object patient)
    cpdef object tree(self, str type_name)
    cpdef object target(self, str reference, object resolve)


@cython.final
cdef class _Walk:
    cdef Pseudonymiser owner
    cdef object days
    cdef object resolve
    cdef object on_reference
    cdef object on_identifier

    cpdef under_rules(self, dict data, object node, int depth, bint root=*)
    cpdef reference_display(self, dict data)
    cpdef plain(self, dict data, int depth)
    cpdef fields(self, dict data, int depth)
    cpdef anywhere_rule(self, dict data, str key, int depth)
    cpdef dicts(self, list values, int depth)
    cpdef text(self, dict data, str key, str value, str special)
    cpdef scalar(self, dict data, str key, object value)
    cpdef items(self, str key, list values, object node, int depth)
    cpdef contained(self, object item, int depth)
    cpdef embedded(self, dict item, int depth)
    cpdef bint rule(self, dict data, str key, object value, object node, int depth) except -1
    cpdef act(self, str action, object value)
    cpdef str date(self, object value)
    cpdef str reference(self, str value)
