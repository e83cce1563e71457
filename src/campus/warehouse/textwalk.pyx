# distutils: language = c++
# cython: language_level=3
"""The ingest's native fast path (native/textwalk.hpp): an NDJSON line to a landed row.

Built only where simdjson and OpenSSL's headers are found (setup.py); elsewhere this module
is missing and every resource takes the Python path (worker.Runner.process), which is also
the specification this path is tested against. `NativeWalk.transform` returns None for any
resource it does not take: the caller then parses the line and runs the Python path.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.stdint cimport int64_t
from libcpp cimport bool as cbool
from libcpp.string cimport string
from libcpp.string_view cimport string_view
from libcpp.vector cimport vector

import pyarrow as pa

from campus.warehouse import fhir

cdef extern from "native/textwalk.hpp" namespace "campus":
    cdef cppclass TextColumn:
        string data
        vector[int] offsets
        size_t nulls
        string bitmap()

    cdef cppclass Staged:
        TextColumn id
        TextColumn patient
        TextColumn effective
        TextColumn code
        TextColumn resource
        vector[int64_t] order
        size_t rows()
        void clear()

    cdef cppclass StagedTargets:
        TextColumn type
        TextColumn target
        TextColumn source_type
        vector[int64_t] line
        size_t rows()
        void clear()

    cdef cppclass Outcome:  # the fields read here
        cbool dropped
        cbool full
        cbool targets_full
        int type_index

    cdef cppclass TextWalk:
        TextWalk(const string&, cbool, long, cbool, cbool) except +
        int new_node(const string&) except +
        void add_url(int, const string&, const string&) except +
        void add_child(int, const string&, int) except +
        void set_root(const string&, int) except +
        void set_anywhere(int) except +
        void add_name(int, const string&) except +
        string digest(string) except +
        cbool first_sight(const string&) except +
        cbool transform(const char*, size_t, long long, long long, size_t, Outcome&) except +
        StagedTargets& targets()
        void opt_out(const string&) except +
        Staged& staged(int) except +
        size_t types()


cdef extern from "native/checked_shift.hpp" namespace "campus":
    cbool native_checked_shift "campus::checked_shift"(string, long, string&) except +


cdef inline str _text(const string& value):
    return PyUnicode_DecodeUTF8(value.c_str(), value.size(), NULL)


cdef inline str _ascii(const string& value):
    """A pseudonym or a `Type/pseudonym`: ASCII."""
    return PyUnicode_DecodeASCII(value.c_str(), value.size(), NULL)


cdef object _strings(TextColumn& column, Py_ssize_t count):
    """A staged text column as an Arrow string array (its buffers copied once)."""
    offsets = pa.py_buffer(
        PyBytes_FromStringAndSize(<char*>column.offsets.data(), column.offsets.size() * 4)
    )
    data = pa.py_buffer(PyBytes_FromStringAndSize(column.data.data(), column.data.size()))
    validity = None
    if column.nulls:
        bits = column.bitmap()
        validity = pa.py_buffer(PyBytes_FromStringAndSize(bits.data(), bits.size()))
    return pa.StringArray.from_buffers(count, offsets, data, validity, column.nulls)


cdef object _int64s(vector[int64_t]& values, Py_ssize_t count):
    """A staged integer column as an Arrow int64 array (its buffer copied once)."""
    data = pa.py_buffer(PyBytes_FromStringAndSize(<char*>values.data(), count * 8))
    return pa.Array.from_buffers(pa.int64(), count, [None, data])


cdef class NativeWalk:
    """The native walker of one worker, set up from its Pseudonymiser (key, policy tree)."""

    cdef TextWalk* walk
    cdef Outcome outcome
    cdef dict _nodes
    cdef list _types
    cdef dict _index

    def __cinit__(self, pseudonymiser, bint watch_identifiers, effective_paths, code_keys,
                  patient_keys, coding_keys):
        policy = pseudonymiser.policy
        self.walk = new TextWalk(
            pseudonymiser.key,
            policy.date_shift,
            policy.max_shift_days,
            policy.redact_reference_display,
            watch_identifiers,
        )
        self._nodes = {}
        self._types = sorted(fhir.RESOURCE_TYPES)
        self._index = {name: rank for rank, name in enumerate(self._types)}
        names = (
            sorted(fhir.RESOURCE_TYPES),
            sorted(fhir.DATE_KEYS),
            list(fhir.DATE_SUFFIXES),
            sorted(fhir.REFERENCE_KEYS),
            sorted(fhir.CODE_LISTS),
            [".".join(path) for path in effective_paths],
            list(code_keys),
            list(patient_keys),
            sorted(coding_keys),
        )
        for which, group in enumerate(names):
            for name in group:
                self.walk.add_name(which, name.encode())
        for type_name in sorted(fhir.RESOURCE_TYPES):
            self.walk.set_root(type_name.encode(), self._node(pseudonymiser.tree(type_name)))
        self.walk.set_anywhere(self._node(pseudonymiser._anywhere))

    def __dealloc__(self):
        del self.walk

    cdef int _node(self, node) except -2:
        """The native copy of a policy Node (-1 for None), each Node copied once."""
        if node is None:
            return -1
        found = self._nodes.get(id(node))
        if found is not None:
            return found[0]
        number = self.walk.new_node((node.action or "").encode())
        self._nodes[id(node)] = (number, node)  # the Node is kept alive: its id stays unique
        for url, action in node.by_url.items():
            self.walk.add_url(number, url.encode(), action.encode())
        for name, child in node.children.items():
            self.walk.add_child(number, name.encode(), self._node(child))
        return number

    def digest(self, str text):
        """The pseudonym of `Type/id` (for the tests: the same as Pseudonymiser's)."""
        return _text(self.walk.digest(text.encode()))

    def first_sight(self, str target):
        """Whether this worker sees a reference's `Type/pseudonym` target for the first time:
        one set for both paths, so that each target is staged once, at its first place."""
        return self.walk.first_sight(target.encode())

    def transform(self, bytes raw, long long order, long long line, size_t limit):
        """Land an NDJSON line: None when the Python path must take it, else (type, full,
        targets_full): `type` None when its patient opted out (nothing staged), `full` when
        the type's staged rows make a batch (`take`), `targets_full` when the reference
        targets seen for the first time, staged at `line`, make one (`take_targets`). A text
        over `limit` bytes is the Python path's to report."""
        cdef Outcome* out = &self.outcome
        if not self.walk.transform(raw, len(raw), order, line, limit, out[0]):
            return None
        if out.dropped:
            return _DROPPED
        return (self._types[out.type_index], out.full, out.targets_full)

    def take_targets(self):
        """The staged reference targets as the columns type, target, line and source_type of
        parts.REFS_SCHEMA (the others are the task's); they are forgotten here."""
        cdef StagedTargets* rows = &self.walk.targets()
        cdef Py_ssize_t count = rows.rows()
        columns = [
            _strings(rows.type, count),
            _strings(rows.target, count),
            _int64s(rows.line, count),
            _strings(rows.source_type, count),
        ]
        rows.clear()
        return columns

    def opt_out(self, str patient):
        """A patient's pseudonym found on the opt-out registry: their resources are dropped."""
        self.walk.opt_out(patient.encode())

    def pending(self):
        """The types with staged rows not taken yet."""
        return [
            self._types[i] for i in range(self.walk.types()) if self.walk.staged(i).rows()
        ]

    def take(self, str type_name):
        """A type's staged rows as the columns of parts.PART_SCHEMA; they are forgotten here."""
        cdef Staged* rows = &self.walk.staged(self._index[type_name])
        cdef Py_ssize_t count = rows.rows()
        columns = [
            _strings(rows.id, count),
            _strings(rows.patient, count),
            _strings(rows.effective, count),
            _strings(rows.code, count),
            _strings(rows.resource, count),
            _int64s(rows.order, count),
        ]
        rows.clear()
        return columns


_DROPPED = (None, False, False)


def checked_shift(str text, long days):
    """The native date reader (for the tests: the same as fhir.checked_shift)."""
    cdef string out
    if not native_checked_shift(text.encode(), days, out):
        return None
    return _text(out)


cdef extern from "native/relative_reference.hpp" namespace "campus":
    cbool native_relative_reference "campus::relative_reference"(
        string_view, string_view&, string_view&
    ) except +


def relative_reference(str text):
    """The native reference reader (for the tests: the same as fhir.relative_reference)."""
    cdef string data = text.encode()
    cdef string_view type_name, source_id
    if not native_relative_reference(string_view(data.data(), data.size()), type_name, source_id):
        return None
    return (
        PyUnicode_DecodeUTF8(type_name.data(), type_name.size(), NULL),
        PyUnicode_DecodeUTF8(source_id.data(), source_id.size(), NULL),
    )
