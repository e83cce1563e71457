# Static types for the compiled build of fhir.py (Cython "pure Python" mode): the dates are
# read and moved with C integers; the .py file stays the only source of the logic.
cimport cython

cdef long _FIRST_DAY, _LAST_DAY

@cython.locals(size=Py_ssize_t, year=long, month=long, day=long)
cpdef str checked_shift(str text, long days)

@cython.locals(value=long, index=Py_ssize_t, char=Py_UCS4)
cdef long _digits(str text, Py_ssize_t start, Py_ssize_t count) except? -2

@cython.locals(size=Py_ssize_t, index=Py_ssize_t, char=Py_UCS4, hour=long, minute=long, second=long)
cdef bint _valid_time(str text) except -1

cdef long _month_days(long year, long month)

@cython.locals(y=long, era=long, of_era=long, of_year=long, number=long, shifted=long)
cdef long _moved(long year, long month, long day, long days)

@cython.locals(year=long, month=long, day=long)
cdef str _format(long packed, Py_ssize_t size)

@cython.locals(size=Py_ssize_t, slash=Py_ssize_t, end=Py_ssize_t, char=Py_UCS4)
cpdef tuple relative_reference(str text)
