"""Apply a policy to one resource: pseudonymous ids and references, dates shifted, text removed.

One recursive walk does the structural checks (reference shape, date syntax, nesting depth,
element types) and the policy's actions, in place, so that each resource is visited once.

Rules apply from a resource's root (`Type.path`, `*.path`), or at any depth (`**.path`, for
the data types that turn up anywhere: identifiers, telecom, addresses, notes). A resource found
inside another, in `contained` or anywhere else (Parameters.parameter.resource, an unknown
element), is walked under its own type's rules, so a Patient loses its name wherever it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from campus.warehouse import fhir, messages
from campus.warehouse.policy import Node, Policy

MAX_DEPTH = 48
# The fhir names used per element, bound here once: a module global is a cached lookup in the
# compiled build, where `fhir.NAME` is an attribute lookup on the module at every use.
_RESOURCE_TYPES = fhir.RESOURCE_TYPES
_REFERENCE_KEYS = fhir.REFERENCE_KEYS
_CODE_LISTS = fhir.CODE_LISTS
_relative_reference = fhir.relative_reference
_ABSOLUTE_REFERENCE = fhir.ABSOLUTE_REFERENCE
_CONDITIONAL_REFERENCE = fhir.CONDITIONAL_REFERENCE
_checked_shift = fhir.checked_shift
_CACHE_LIMIT = 100_000


class ResourceProblem(Exception):
    """A resource cannot be landed; `path` is the element path inside it."""

    def __init__(self, message: str, path: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.path = path or []

    @property
    def where(self) -> str:
        return ".".join(self.path)


class Target:
    """What a source reference points at: a type and a source id, or, for a patient found by
    identifier in another file (whose source id is not at hand), its pseudonym.

    A plain class, not a frozen dataclass (whose `__init__` sets each field through
    `object.__setattr__`, 0.4 µs): one is made per reference read, and compiled
    (pseudonymise.pxd) it is an extension type with read-only fields."""

    def __init__(self, type: str, id: str, pseudonym: str | None = None):
        self.type = type
        self.id = id
        self.pseudonym = pseudonym

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Target):
            return NotImplemented
        return (self.type, self.id, self.pseudonym) == (other.type, other.id, other.pseudonym)

    def __hash__(self) -> int:
        return hash((self.type, self.id, self.pseudonym))

    def __repr__(self) -> str:
        return f"Target({self.type!r}, {self.id!r}, pseudonym={self.pseudonym!r})"


# A resolver turns a non-relative reference (urn:uuid, conditional) into a Target, or None.
Resolver = Callable[[str], "Target | None"]


def _merge(base: Node | None, extra: Node | None) -> Node | None:
    if base is None or extra is None:
        return base or extra
    merged = Node(
        action=extra.action or base.action,
        by_url={**base.by_url, **extra.by_url},
        children=dict(base.children),
    )
    for name, child in extra.children.items():
        merged.children[name] = _merge(base.children.get(name), child)  # type: ignore[assignment]
    return merged


def _hmac_states(key: bytes) -> tuple[Any, Any]:
    """The SHA-256 states after HMAC's inner and outer key blocks (RFC 2104), for `_hmac`."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (
        hashlib.sha256(bytes(b ^ 0x36 for b in key)),
        hashlib.sha256(bytes(b ^ 0x5C for b in key)),
    )


class Pseudonymiser:
    """Stateless but for caches: the same key and policy give the same output everywhere."""

    def __init__(self, key: bytes, policy: Policy):
        self.key = key
        # HMAC-SHA256 from copies of the keyed states: a third of the cost of hmac.digest.
        self._inner, self._outer = _hmac_states(key)
        self.policy = policy
        self._roots = policy.tree()
        self._anywhere = self._roots.get("**")
        self._anywhere_keys = frozenset(self._anywhere.children if self._anywhere else ())
        self._trees: dict[str, Node | None] = {}
        self._pseudonyms: dict[str, str] = {}
        self._shifts: dict[str, int] = {}
        self._relative: dict[str, tuple[Target, str]] = {}

    # -- pseudonyms -------------------------------------------------------------------------
    def _hmac(self, message: bytes) -> bytes:
        """HMAC-SHA256(key, message)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def _digest(self, text: str) -> str:
        """The pseudonym of `Type/id`: 32 hex characters of HMAC-SHA256, the one formula."""
        return self._hmac(text.encode())[:16].hex()

    def pseudonym(self, type_name: str, source_id: str) -> str:
        """The keyed pseudonym of a resource, cached (references name the same targets)."""
        text = type_name + "/" + source_id
        cached = self._pseudonyms.get(text)
        if cached is None:
            if len(self._pseudonyms) > _CACHE_LIMIT:
                self._pseudonyms.clear()
            cached = self._digest(text)
            self._pseudonyms[text] = cached
        return cached

    def pseudonym_of(self, target: Target) -> str:
        """The pseudonym of a reference's target: known already, or computed from its id."""
        if target.pseudonym is not None:
            return target.pseudonym
        return self.pseudonym(target.type, target.id)

    def hash_value(self, value: str) -> str:
        return self._hmac(b"value|" + value.encode())[:16].hex()

    def shift_days(self, patient: str | None) -> int:
        """The patient's secret, constant date offset (never 0), or 0 when off or no patient."""
        if patient is None or not self.policy.date_shift:
            return 0
        days = self._shifts.get(patient)
        if days is None:
            if len(self._shifts) > _CACHE_LIMIT:
                self._shifts.clear()
            raw = int.from_bytes(self._hmac(b"dateshift|" + patient.encode())[:4], "big")
            span = self.policy.max_shift_days
            days = (raw % span) + 1
            days = -days if raw & (1 << 31) else days
            self._shifts[patient] = days
        return days

    def tree(self, type_name: str) -> Node | None:
        if type_name not in self._trees:
            self._trees[type_name] = _merge(
                _merge(self._anywhere, self._roots.get("*")), self._roots.get(type_name)
            )
        return self._trees[type_name]

    # -- references -------------------------------------------------------------------------
    def target(self, reference: str, resolve: Resolver) -> Target | None:
        """The target of a source reference; None for a contained (#id) reference.

        Raises ResourceProblem when the reference has no valid shape or cannot be resolved.
        """
        if reference.startswith("#"):
            return None
        parts = _relative_reference(reference)
        if parts is None:
            match = _ABSOLUTE_REFERENCE.match(reference)
            if match:
                parts = (match.group(1), match.group(2))
        if parts is not None:
            if parts[0] not in _RESOURCE_TYPES:
                raise ResourceProblem(
                    messages.UNKNOWN_REFERENCE_TYPE.format(type_name=repr(parts[0]))
                )
            return Target(parts[0], parts[1])
        if reference.startswith(("urn:uuid:", "urn:oid:")) or _CONDITIONAL_REFERENCE.match(
            reference
        ):
            found = resolve(reference)
            if found is None:
                raise ResourceProblem(
                    messages.UNRESOLVED_CONDITIONAL
                    if "?" in reference
                    else messages.UNRESOLVED_FULL_URL
                )
            return found
        raise ResourceProblem(messages.BAD_REFERENCE)

    # -- the walk ---------------------------------------------------------------------------
    def apply(
        self,
        resource: dict[str, Any],
        patient: str | None,
        resolve: Resolver,
        on_reference: Callable[[Target, bool, str], None],
        on_identifier: Callable[[dict], None] | None = None,
    ) -> None:
        """Pseudonymise `resource` in place. `on_reference(target, local, rewritten)` sees each
        target and the `Type/pseudonym` reference that replaces it;
        `on_identifier(identifier)`, when given, sees each single Identifier object (a logical
        reference's, such as a subject given by its INS) before its value is removed."""
        type_name = resource["resourceType"]
        days = self.shift_days(patient)
        walker = _Walk(self, days, resolve, on_reference, on_identifier)
        source_id = resource.get("id")
        if source_id is not None:
            # Not through the cache: a resource's own id is met once (references, many times).
            resource["id"] = self._digest(type_name + "/" + source_id)
        walker.under_rules(resource, self.tree(type_name), 0, root=True)


class _Walk:
    __slots__ = ("days", "on_identifier", "on_reference", "owner", "resolve")

    def __init__(
        self, owner: Pseudonymiser, days: int, resolve: Resolver, on_reference, on_identifier
    ):
        self.owner = owner
        self.days = days
        self.resolve = resolve
        self.on_reference = on_reference
        self.on_identifier = on_identifier

    def under_rules(self, data: dict, node: Node | None, depth: int, root: bool = False) -> None:
        if root:
            if "contained" in data and type(data["contained"]) is not list:
                raise ResourceProblem(messages.CONTAINED_NOT_LIST, ["contained"])
        elif "resourceType" in data:
            self.embedded(data, depth)
            return
        if node is None or not node.children:
            self.fields(data, depth)
            return
        if depth > MAX_DEPTH:
            raise ResourceProblem(messages.TOO_DEEP.format(depth=MAX_DEPTH))
        children = node.children
        anywhere = self.owner._anywhere_keys
        kinds = _KINDS
        # Rules may delete entries: walk a copy of the items.
        for key, value in list(data.items()):
            try:
                child = children.get(key)
                if child is None and key in anywhere:
                    child = self.owner._anywhere.children[key]
                kind = type(value)
                if kind is dict and key == "identifier" and self.on_identifier is not None:
                    self.on_identifier(value)
                if child is None:
                    if kind is str:
                        special = kinds.get(key) or _kind(key)
                        if special is not _NOTHING:
                            self.text(data, key, value, special)
                    elif kind is dict:
                        self.plain(value, depth + 1)
                    elif kind is list:
                        self.items(key, value, None, depth)
                    else:
                        self.scalar(data, key, value)
                    continue
                if (child.action or child.by_url) and self.rule(data, key, value, child, depth):
                    continue
                if kind is dict:
                    self.under_rules(value, child, depth + 1)
                elif kind is list:
                    self.items(key, value, child, depth)
                else:
                    self.scalar(data, key, value)
            except ResourceProblem as problem:
                problem.path.insert(0, key)
                raise
        self.reference_display(data)

    def reference_display(self, data: dict) -> None:
        """A Reference's display names its target (a patient, a practitioner): removed when the
        policy says so, for a literal (`reference`) or a logical (`identifier`) reference."""
        if (
            "display" in data
            and ("reference" in data or "identifier" in data)
            and self.owner.policy.redact_reference_display
        ):
            del data["display"]

    def plain(self, data: dict, depth: int) -> None:
        """An object under no rule: a resource inside the resource, or plain fields."""
        if "resourceType" in data:
            self.embedded(data, depth)
        else:
            self.fields(data, depth)

    def fields(self, data: dict, depth: int) -> None:
        """The walk below any policy rule: references and dates change, and only the `**`
        rules (data types found anywhere) delete or change anything else."""
        if depth > MAX_DEPTH:
            raise ResourceProblem(messages.TOO_DEEP.format(depth=MAX_DEPTH))
        kinds = _KINDS
        anywhere = self.owner._anywhere_keys
        ruled = None
        key = None
        try:
            for key, value in data.items():
                kind = type(value)
                if kind is str:
                    special = kinds.get(key) or _kind(key)
                    if special is not _NOTHING:
                        self.text(data, key, value, special)
                elif kind is dict:
                    if key == "identifier" and self.on_identifier is not None:
                        self.on_identifier(value)
                    if key in anywhere:
                        ruled = [key] if ruled is None else [*ruled, key]
                    else:
                        self.plain(value, depth + 1)
                elif kind is list:
                    if key in anywhere:
                        ruled = [key] if ruled is None else [*ruled, key]
                    elif key in _LIST_KEYS or (kinds.get(key) or _kind(key)) is not _NOTHING:
                        self.items(key, value, None, depth)
                    else:
                        self.dicts(value, depth)
                elif key == "reference":
                    raise ResourceProblem(messages.REFERENCE_NOT_TEXT)
                elif (kinds.get(key) or _kind(key)) is _DATE:
                    self.date(value)
            if ruled is not None:  # after the loop: a rule may delete the element
                for key in ruled:
                    self.anywhere_rule(data, key, depth)
        except ResourceProblem as problem:
            problem.path.insert(0, key)  # type: ignore[arg-type]
            raise
        self.reference_display(data)

    def anywhere_rule(self, data: dict, key: str, depth: int) -> None:
        """Apply a `**` rule to data[key], an object or a list, and walk what is left of it."""
        node = self.owner._anywhere.children[key]
        value = data[key]
        if (node.action or node.by_url) and self.rule(data, key, value, node, depth):
            return
        value = data[key]
        if type(value) is dict:
            self.under_rules(value, node, depth + 1)
        else:
            self.items(key, value, node, depth)

    def dicts(self, values: list, depth: int) -> None:
        """A list under no rule, whose name is neither a date, a reference, contained nor coding."""
        for index, item in enumerate(values):
            try:
                kind = type(item)
                if kind is dict:
                    self.plain(item, depth + 1)
                elif kind is list:
                    raise ResourceProblem(messages.LIST_IN_LIST)
            except ResourceProblem as problem:
                problem.path.insert(0, f"[{index}]")
                raise

    def text(self, data: dict, key: str, value: str, special: str) -> None:
        """A text whose element name is special (`_kind`): a date is checked and shifted, a
        reference rewritten, a Reference sent as a bare text refused."""
        if special is _DATE:
            data[key] = self.date(value)
        elif special is _REFERENCE:
            data[key] = self.reference(value)
        elif special is _NAMED_REFERENCE:
            _refuse_bare_reference(value)

    def scalar(self, data: dict, key: str, value: Any) -> None:
        """A value that is neither an object nor a list (null included)."""
        if type(value) is str:
            self.text(data, key, value, _KINDS.get(key) or _kind(key))
        elif key == "reference":
            raise ResourceProblem(messages.REFERENCE_NOT_TEXT)
        elif (_KINDS.get(key) or _kind(key)) is _DATE:
            self.date(value)

    def items(self, key: str, values: list, node: Node | None, depth: int) -> None:
        if key == "contained":
            for index, item in enumerate(values):
                try:
                    self.contained(item, depth)
                except ResourceProblem as problem:
                    problem.path.insert(0, f"[{index}]")
                    raise
            return
        if key == "coding" and node is None:
            # Codings (system, code, display...) hold no reference or date: only those with
            # extensions, or with anything that is not plain text, need the walk.
            for index, item in enumerate(values):
                if type(item) is dict and _plain_coding(item):
                    continue  # only a Coding's own texts: nothing to check or change
                try:
                    if type(item) is not dict:
                        raise ResourceProblem(messages.CODING_NOT_OBJECT)
                    self.under_rules(item, None, depth + 1)
                except ResourceProblem as problem:
                    problem.path.insert(0, f"[{index}]")
                    raise
            return
        dated = (_KINDS.get(key) or _kind(key)) is _DATE and key not in _CODE_LISTS
        ruled = node is not None and bool(node.children)
        for index, item in enumerate(values):
            kind = type(item)
            try:
                if kind is dict:
                    if ruled:
                        self.under_rules(item, node, depth + 1)
                    else:
                        self.plain(item, depth + 1)
                elif kind is list:
                    raise ResourceProblem(messages.LIST_IN_LIST)
                elif dated:
                    values[index] = self.date(item)
                elif kind is str and key in _REFERENCE_KEYS:  # texts in lists: rare
                    _refuse_bare_reference(item)
            except ResourceProblem as problem:
                problem.path.insert(0, f"[{index}]")
                raise

    def contained(self, item: Any, depth: int) -> None:
        if type(item) is not dict or type(item.get("resourceType")) is not str:
            raise ResourceProblem(messages.CONTAINED_NOT_RESOURCE)
        if item["resourceType"] not in _RESOURCE_TYPES:
            raise ResourceProblem(
                messages.UNKNOWN_CONTAINED_TYPE.format(type_name=repr(item["resourceType"]))
            )
        if item["resourceType"] == "Bundle":
            raise ResourceProblem(messages.BUNDLE_IN_RESOURCE)
        # Contained ids are local (#id), meaningless outside their container: kept.
        self.under_rules(item, self.owner.tree(item["resourceType"]), depth + 1, root=True)

    def embedded(self, item: dict, depth: int) -> None:
        """A resource inside the resource elsewhere than `contained`: checked and walked like a
        contained one, and its id, a real one, pseudonymised like a root id."""
        self.contained(item, depth)
        source_id = item.get("id")
        if type(source_id) is str:
            item["id"] = self.owner.pseudonym(item["resourceType"], source_id)

    def rule(self, data: dict, key: str, value: Any, node: Node, depth: int) -> bool:
        """Apply a policy action to data[key]; True when the element is done."""
        if node.by_url and type(value) is list:
            kept = []
            for item in value:
                url = item.get("url") if type(item) is dict else None
                action = node.by_url.get(url) if type(url) is str else None
                if action is None:
                    kept.append(item)
                elif action != "redact":
                    kept.append(self.act(action, item))
            if not kept:
                del data[key]
                return True
            data[key] = kept
            value = kept
        if node.action is None:
            return False
        if node.action == "redact":
            del data[key]
        else:
            data[key] = self.act(node.action, value)
        return True

    def act(self, action: str, value: Any) -> Any:
        if action == "keep":
            return value
        if type(value) is list:
            return [self.act(action, item) for item in value]
        if action == "generalize":
            return _generalize(value)
        if action == "cryptoHash":
            if type(value) is not str:
                raise ResourceProblem(messages.HASH_NOT_TEXT)
            return self.owner.hash_value(value)
        if action == "dateShift":
            return self.date(value)
        raise ResourceProblem(f"unknown action {action}")  # pragma: no cover - parse checks

    def date(self, value: Any) -> str:
        if type(value) is not str:
            raise ResourceProblem(messages.DATE_NOT_TEXT.format(kind=type(value).__name__))
        shifted = _checked_shift(value, self.days)
        if shifted is None:
            raise ResourceProblem(messages.BAD_DATE)
        return shifted

    def reference(self, value: str) -> str:
        owner = self.owner
        cached = owner._relative.get(value)  # Type/id references do not depend on the file
        if cached is not None:
            self.on_reference(cached[0], False, cached[1])
            return cached[1]
        target = owner.target(value, self.resolve)
        if target is None:
            return value
        local = value.startswith(("urn:", "http")) or "?" in value
        rewritten = target.type + "/" + owner.pseudonym_of(target)
        self.on_reference(target, local, rewritten)
        if not local:
            if len(owner._relative) > _CACHE_LIMIT:
                owner._relative.clear()
            owner._relative[value] = (target, rewritten)
        return rewritten


_DATE = "date"
_REFERENCE = "reference"
_NAMED_REFERENCE = "named reference"  # an element of type Reference: its texts are suspect
_NOTHING = "-"  # truthy, so that `kinds.get(key) or _kind(key)` caches it
# Element name -> what its text values are (a date, a reference, nothing): bounded, since names
# come from the input.
_KINDS: dict[str, str] = {"reference": _REFERENCE}
_KINDS_LIMIT = 4096
_LIST_KEYS = frozenset({"contained", "coding"})
# What a Coding holds (besides extensions, which the walk checks): texts, a flag.
_CODING_KEYS = frozenset({"id", "system", "version", "code", "display", "userSelected"})
CODING_KEYS = _CODING_KEYS  # read by the native path (a cdef global is not importable)


def _kind(key: str) -> str:
    if fhir.is_date_key(key):
        special = _DATE
    elif key in _REFERENCE_KEYS:
        special = _NAMED_REFERENCE
    else:
        special = _NOTHING
    if len(_KINDS) < _KINDS_LIMIT:
        _KINDS[key] = special
    return special


_SCALAR_TYPES = frozenset({str, bool, int, float})


def _refuse_bare_reference(text: str) -> None:
    """A Reference element sent as a text (`"subject": "Patient/123"`): its source id would land
    as it is, neither pseudonymised nor shifted. Refused with the way to write it."""
    if fhir.is_bare_reference(text):
        raise ResourceProblem(messages.REFERENCE_NOT_OBJECT)


def _plain_coding(item: dict) -> bool:
    """Whether an object holds only a Coding's own elements, as texts, numbers or booleans:
    then there is no date, reference, resource or extension in it to check or change."""
    # A loop with `return`, not for-else with `continue` in the caller: compiled by Cython
    # 3.3, that form leaked a reference to each coding. Not all(...): a generator is slower.
    for key, value in item.items():
        if key not in _CODING_KEYS or type(value) not in _SCALAR_TYPES:
            return False
    return True


def _generalize(value: Any) -> Any:
    if type(value) is not str:
        raise ResourceProblem(messages.GENERALIZE_NOT_TEXT)
    if fhir.valid_date(value):
        return value[:7]  # a year-month, or the year of a year-only date
    return value[:2]
