# distutils: language = c++
# cython: language_level=3
"""The ingest's native fast path (native/textwalk.hpp): an NDJSON line to a landed row.

Built only where simdjson and OpenSSL's headers are found (setup.py); elsewhere this module
is missing and every resource takes the Python path (worker.Runner.process), which is also
the specification this path is tested against. `NativeWalk.transform` returns None for any
resource it does not take: the caller then parses the line and runs the Python path.
"""

from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.string cimport memcmp
from libcpp cimport bool as cbool
from libcpp.string cimport string
from libcpp.string_view cimport string_view
from libcpp.vector cimport vector

from campus.warehouse import fhir

cdef extern from "native/textwalk.hpp" namespace "campus":
    cdef cppclass Outcome:
        int type_index
        string type_name
        string id
        string patient
        string effective
        string code
        string data
        cbool has_patient
        cbool has_effective
        cbool has_code
        vector[string] references
        vector[size_t] reference_types

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
        cbool transform(const char*, size_t, Outcome&) except +


cdef extern from "native/textwalk.hpp" namespace "campus":
    cbool native_checked_shift "campus::checked_shift"(string, long, string&) except +


cdef inline str _text(const string& value):
    return PyUnicode_DecodeUTF8(value.c_str(), value.size(), NULL)


cdef inline str _ascii(const string& value):
    """A pseudonym or a `Type/pseudonym`: ASCII."""
    return PyUnicode_DecodeASCII(value.c_str(), value.size(), NULL)


cdef class NativeWalk:
    """The native walker of one worker, set up from its Pseudonymiser (key, policy tree)."""

    cdef TextWalk* walk
    cdef Outcome outcome
    cdef dict _nodes
    cdef list _types
    cdef str _patient  # the last patient's pseudonym: consecutive resources often share it

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
        self._patient = ""
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

    def transform(self, bytes raw):
        """(type, id, patient, effective, code, JSON bytes, references) of a landed resource,
        the references as (type length, `Type/pseudonym`) of the targets seen for the first
        time (`first_sight`); None for the Python path."""
        cdef Outcome* out = &self.outcome
        if not self.walk.transform(raw, len(raw), out[0]):
            return None
        references = [
            (out.reference_types[i], _ascii(out.references[i]))
            for i in range(out.references.size())
        ]
        patient = None
        if out.has_patient:
            patient = self._patient
            if out.patient.size() != <size_t>len(patient) or memcmp(
                out.patient.data(), PyUnicode_1BYTE_DATA(patient), out.patient.size()
            ):
                patient = self._patient = _ascii(out.patient)
        return (
            self._types[out.type_index],
            _ascii(out.id),
            patient,
            _text(out.effective) if out.has_effective else None,
            _text(out.code) if out.has_code else None,
            <bytes>out.data,
            references,
        )


def checked_shift(str text, long days):
    """The native date reader (for the tests: the same as fhir.checked_shift)."""
    cdef string out
    if not native_checked_shift(text.encode(), days, out):
        return None
    return _text(out)


cdef extern from "native/textwalk.hpp" namespace "campus":
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
