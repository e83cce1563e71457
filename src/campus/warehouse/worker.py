"""Turn input tasks into staged, pseudonymised rows: the per-resource pipeline.

A `Runner` holds one worker's state (pseudonymiser, part writer); `run_worker` is the body of a
worker process that pulls tasks from a queue and reports progress and results.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import queue as queue_module
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from campus.optout.service import identifier_keys
from campus.warehouse import fhir, messages
from campus.warehouse.parts import PartWriter
from campus.warehouse.policy import parse
from campus.warehouse.problems import Problem, ProblemLog
from campus.warehouse.pseudonymise import (
    CODING_KEYS,
    MAX_DEPTH,
    Pseudonymiser,
    ResourceProblem,
    Target,
)
from campus.warehouse.sources import Item, Task, read

try:  # the native fast path (textwalk.pyx), built where simdjson and OpenSSL are installed
    from campus.warehouse.textwalk import NativeWalk
except ImportError:  # every resource takes the Python path
    NativeWalk = None

PATIENT_KEYS = ("subject", "patient", "beneficiary")
# The types a conditional reference (`Type?identifier=system|value`) may name across the files
# of one ingest: the directory resources that exports (Synthea's, a Bulk Data server's) put in
# files of their own. Patients are found by their opt-out keys. Workers stage the keyed hashes
# of these resources' identifiers (`idkeys/`); the native path gives their lines back to the
# Python path (textwalk.hpp, `indexed_type`), which stages them. Keep both lists the same.
INDEXED_TYPES = frozenset(
    {
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "HealthcareService",
        "Endpoint",
        "Device",
        "Medication",
        "Substance",
        "RelatedPerson",
        "Group",
    }
)
# A conditional reference as text in serialised JSON: finds the Bundles that hold one.
_CONDITIONAL_IN_TEXT = re.compile(rb'"reference":"([A-Za-z]+\?identifier=(?:[^"\\]|\\.)*)"')
EFFECTIVE_PATHS: tuple[tuple[str, ...], ...] = (
    ("effectiveDateTime",),
    ("effectivePeriod", "start"),
    ("effectiveInstant",),
    ("period", "start"),
    ("onsetDateTime",),
    ("onsetPeriod", "start"),
    ("performedDateTime",),
    ("performedPeriod", "start"),
    ("occurrenceDateTime",),
    ("authoredOn",),
    ("recordedDate",),
    ("issued",),
    ("billablePeriod", "start"),
    ("started",),
    ("created",),
    ("date",),
    ("birthDate",),
)
CODE_KEYS = ("code", "vaccineCode", "medicationCodeableConcept", "type", "class")
# Bound once: a module global is a cached lookup in the compiled build, `fhir.NAME` is not.
_RESOURCE_TYPES = fhir.RESOURCE_TYPES
_ID = fhir.ID
PROGRESS_EVERY = 2000
# Problems a task's result carries in full (beyond, only counted).
TASK_PROBLEMS = 500
GC_YOUNG_THRESHOLD = 50_000


@dataclass(frozen=True)
class Config:
    staging: str
    pseudonym_key: bytes
    optout_secret: bytes
    policy: dict[str, Any]
    registry: frozenset[str]
    strict: bool
    max_resource_bytes: int
    max_json_bytes: int
    # NDJSON lines go through the native fast path first when it is built (False: never; the
    # tests compare both paths).
    native: bool = True


@dataclass
class TaskResult:
    task: int
    lines: int = 0
    bytes: int = 0
    landed: dict[str, int] = field(default_factory=dict)
    dropped_optout: int = 0
    problems: list[Problem] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    deferred: int = 0  # NDJSON resources left for the second pass (`resolve_deferred`)


def effective_of(resource: dict) -> str | None:
    for path in EFFECTIVE_PATHS:  # paths of one or two names
        value = resource.get(path[0])
        if value is None:
            continue
        if len(path) == 2:
            value = value.get(path[1]) if type(value) is dict else None
        if type(value) is str:
            return value
    return None


def _coding(value: Any) -> str | None:
    if type(value) is list:
        value = value[0] if value else None
    if type(value) is not dict:
        return None
    codings = value.get("coding")
    if type(codings) is list and codings:
        value = codings[0]
    if type(value) is dict and type(value.get("code")) is str:
        system = value.get("system")
        return f"{system if type(system) is str else ''}|{value['code']}"
    return None


def identifiers_of(resource: dict) -> list[dict]:
    """The resource's Identifier objects. A single object sent in place of the list counts,
    so that an opt-out is honoured even on a malformed Patient (which is then refused)."""
    value = resource.get("identifier")
    if type(value) is list:
        return [item for item in value if type(item) is dict]
    return [value] if type(value) is dict else []


def code_of(resource: dict) -> str | None:
    for key in CODE_KEYS:
        if key in resource:
            found = _coding(resource[key])
            if found:
                return found
    return None


def _logical_patient(ref: Any) -> str | None:
    """`system|value` (or `value`) of a logical reference to a patient: a Reference with an
    identifier and no literal reference, whose type, when given, is Patient; else None."""
    if type(ref) is not dict or "reference" in ref:
        return None
    identifier = ref.get("identifier")
    if type(identifier) is not dict or ref.get("type", "Patient") != "Patient":
        return None
    system, value = identifier.get("system"), identifier.get("value")
    if type(value) is not str or not value:
        return None
    return f"{system}|{value}" if type(system) is str and system else value


class _BundleIndex:
    """Resolves urn:uuid full URLs and conditional references inside one Bundle."""

    def __init__(self, bundle: dict):
        self.full_urls: dict[str, Target] = {}
        self.identifiers: dict[str, Target] = {}
        self.local: set[tuple[str, str]] = set()
        for entry in bundle.get("entry") or ():
            if type(entry) is not dict or type(entry.get("resource")) is not dict:
                continue
            resource = entry["resource"]
            type_name = resource.get("resourceType")
            if type(type_name) is not str:
                continue
            source_id = resource_id(resource, entry)
            if type(source_id) is not str:  # none, or not a text: reported when it is read
                continue
            target = Target(type_name, source_id)
            self.local.add((type_name, source_id))
            if type(entry.get("fullUrl")) is str:
                self.full_urls[entry["fullUrl"]] = target
            for identifier in identifiers_of(resource):
                system, value = identifier.get("system"), identifier.get("value")
                if type(value) is str:
                    text = f"{type_name}?identifier={system}|{value}" if system else None
                    if text:
                        self.identifiers[text] = target
                    self.identifiers.setdefault(f"{type_name}?identifier={value}", target)

    def resolve(self, reference: str) -> Target | None:
        return self.full_urls.get(reference) or self.identifiers.get(reference)


def resource_id(resource: dict, entry: dict | None) -> str | None:
    """The source id: `id`, else the uuid of a `urn:uuid:` full URL."""
    source_id = resource.get("id")
    if source_id is None and entry is not None:
        full_url = entry.get("fullUrl")
        if type(full_url) is str and full_url.startswith("urn:uuid:"):
            source_id = full_url[9:]
    return source_id


def _no_resolve(reference: str) -> Target | None:
    return None


def conditional_key(secret: bytes, reference: str) -> str:
    """The keyed hash under which a `Type?identifier=...` reference text is looked up among
    the identifiers of the resources landed (`idkeys/`): no identifier is staged in clear."""
    return hmac.new(secret, b"conditional|" + reference.encode(), hashlib.sha256).hexdigest()[:32]


def conditional_texts(type_name: str, resource: dict) -> list[str]:
    """The conditional reference texts that name this resource, as `_BundleIndex` reads them:
    `Type?identifier=system|value` and `Type?identifier=value`."""
    texts = []
    for identifier in identifiers_of(resource):
        system, value = identifier.get("system"), identifier.get("value")
        if type(value) is str:
            if type(system) is str and system:
                texts.append(f"{type_name}?identifier={system}|{value}")
            texts.append(f"{type_name}?identifier={value}")
    return texts


def _local_references(value: Any, index: _BundleIndex) -> None:
    """Rewrite in place every reference of `value` that its Bundle resolves (a `urn:uuid:`
    full URL, a conditional reference to an entry) as the `Type/id` it names: a resource
    deferred out of its Bundle keeps the links the Bundle gave it."""
    if type(value) is dict:
        for key, item in value.items():
            if key == "reference" and type(item) is str:
                target = index.resolve(item)
                if target is not None:
                    value[key] = f"{target.type}/{target.id}"
            else:
                _local_references(item, index)
    elif type(value) is list:
        for item in value:
            _local_references(item, index)


def _external_conditionals(bundle: dict, index: _BundleIndex) -> bool:
    """Whether the Bundle holds a conditional reference that none of its entries matches."""
    for match in _CONDITIONAL_IN_TEXT.finditer(orjson.dumps(bundle)):
        if index.resolve(orjson.loads(b'"' + match.group(1) + b'"')) is None:
            return True
    return False


class Runner:
    """One worker: reads tasks, checks, pseudonymises, drops opted-out patients, stages rows."""

    def __init__(self, config: Config, worker: int):
        self.config = config
        self.pseudonymiser = Pseudonymiser(config.pseudonym_key, parse(config.policy))
        self.writer = PartWriter(Path(config.staging), worker)
        self.opted: set[str] = set()
        self._seen_targets: set[str] = set()
        self._models: dict[str, Any] = {}
        # Set for the second pass: resolves a patient named by identifier in another file.
        self.elsewhere: Any = None
        self.native: Any = None
        if NativeWalk is not None and config.native and not config.strict:
            self.native = NativeWalk(
                self.pseudonymiser,
                bool(config.registry),
                EFFECTIVE_PATHS,
                CODE_KEYS,
                PATIENT_KEYS,
                CODING_KEYS,
            )

    def close(self) -> None:
        if self.native is not None:  # the rows the native path staged and has not written
            for type_name in self.native.pending():
                self.writer.batch(type_name, self.native.take(type_name))
        self.writer.close()

    def run(self, task: Task, progress=None) -> TaskResult:
        result = TaskResult(task.index, bytes=task.size)
        log = ProblemLog(limit=TASK_PROBLEMS)
        index: _BundleIndex | None = None
        bundle_id = None
        external = False
        position = reported = 0
        native = self.native is not None and self.elsewhere is None
        for item in read(
            task, self.config.max_resource_bytes, self.config.max_json_bytes, not native
        ):
            position += 1
            if progress is not None and position - reported >= PROGRESS_EVERY:
                progress(0, position - reported, 0)
                reported = position
            if item.line is not None:
                result.lines = item.line
            if item.blank:
                continue
            if item.error is not None:
                log.add(Problem("error", task.label, item.error, item.line, item.entry))
                continue
            if native and item.resource is None:  # an NDJSON line, not parsed yet
                if self._native(task, item, (task.index << 32) | position, result):
                    continue
                try:
                    item.resource = orjson.loads(item.raw)
                except orjson.JSONDecodeError as error:
                    log.add(
                        Problem(
                            "error", task.label, messages.NOT_JSON.format(error=error), item.line
                        )
                    )
                    continue
            if item.bundle is not None and id(item.bundle) != bundle_id:
                index, bundle_id = _BundleIndex(item.bundle), id(item.bundle)
                self._screen_patients(item.bundle)
                external = self.elsewhere is None and _external_conditionals(item.bundle, index)
            if item.bundle is not None and external and type(item.resource) is dict:
                # The entry may name a resource of another file: its source is kept so that
                # it can be deferred to the second pass (`resolve_deferred`) as it was read.
                item.raw = orjson.dumps(item.resource)
            self.process(task, item, index, (task.index << 32) | position, result, log)
        if native:  # the targets it staged have this task's file, index and chunk
            self._native_targets(task)
        if progress is not None:
            progress(task.size, position - reported, 0)
        result.problems, result.errors, result.warnings = log.items, log.errors, log.warnings
        return result

    def _native(self, task, item: Item, order: int, result: TaskResult) -> bool:
        """Land an NDJSON line by the native path, which stages its row itself; False when
        the Python path must take it (which then does everything again, from the parse)."""
        landed = self.native.transform(item.raw, order, item.line, self.config.max_resource_bytes)
        if landed is None:
            return False
        type_name, full, targets_full = landed
        if type_name is None:
            result.dropped_optout += 1
            return True
        result.landed[type_name] = result.landed.get(type_name, 0) + 1
        if full:
            self.writer.batch(type_name, self.native.take(type_name))
        if targets_full:
            self._native_targets(task)
        return True

    def _native_targets(self, task) -> None:
        """Write the reference targets the native path staged for this task, with the
        columns that are the task's."""
        type_column, target, line, source_type = self.native.take_targets()
        count = len(target)
        if count:
            self.writer.refs.write(
                [
                    type_column,
                    target,
                    pa.repeat(pa.scalar(task.label, pa.string()), count),
                    line,
                    pa.nulls(count, pa.int64()),
                    source_type,
                    pa.repeat(pa.scalar(task.index, pa.int64()), count),
                    pa.repeat(pa.scalar(task.chunk, pa.int64()), count),
                ]
            )

    def _opt_out(self, patient: str) -> None:
        """Drop this patient's resources from now on, on both paths."""
        self.opted.add(patient)
        if self.native is not None:
            self.native.opt_out(patient)

    def _screen_patients(self, bundle: dict) -> None:
        """Find the Bundle's opted-out patients before writing any of their resources."""
        for entry in bundle.get("entry") or ():
            resource = entry.get("resource") if type(entry) is dict else None
            if type(resource) is dict and resource.get("resourceType") == "Patient":
                source_id = resource_id(resource, entry)
                if type(source_id) is str and self._patient_keys(resource) & self.config.registry:
                    self._opt_out(self.pseudonymiser.pseudonym("Patient", source_id))

    def _patient_keys(self, resource: dict) -> set[str]:
        return self._keys_of(identifiers_of(resource))

    def _keys_of(self, identifiers: list[dict]) -> set[str]:
        secret = self.config.optout_secret
        return {
            key
            for identifier in identifiers
            for key in identifier_keys(secret, identifier.get("system"), identifier.get("value"))
        }

    def process(self, task, item: Item, index, order: int, result: TaskResult, log) -> None:
        """Land one item read from `task` (or report it, drop it for an opt-out, defer it)."""
        resource = item.resource
        entry = None
        if item.bundle is not None and item.entry is not None:
            entry = item.bundle["entry"][item.entry]

        def problem(message: str, type_name=None, source_id=None, path=None, severity="error"):
            log.add(
                Problem(
                    severity,
                    task.label,
                    message,
                    item.line,
                    item.entry,
                    type_name,
                    source_id if type(source_id) is str else None,
                    path,
                )
            )

        if type(resource) is not dict:
            return problem(messages.NOT_AN_OBJECT)
        type_name = resource.get("resourceType")
        if type(type_name) is not str:
            return problem(messages.NO_RESOURCE_TYPE, path="resourceType")
        if type_name not in _RESOURCE_TYPES:
            unknown = messages.UNKNOWN_TYPE.format(type_name=repr(type_name))
            return problem(unknown, path="resourceType")
        if type_name == "Bundle":
            return problem(messages.NESTED_BUNDLE, type_name)
        source_id = resource_id(resource, entry)
        if source_id is None:
            return problem(messages.NO_ID, type_name)
        if type(source_id) is not str or not _ID.match(source_id):
            return problem(messages.BAD_ID, type_name, None, "id")
        resource["id"] = source_id
        # A conditional reference may name a resource of another file (in NDJSON, a patient
        # named by identifier too): such a resource is deferred to a second pass that looks
        # the identifier up among the resources landed (`resolve_deferred`), rather than
        # refused or landed without its patient. An NDJSON line is deferred as read; a Bundle
        # entry, when its Bundle names resources it does not hold (`Runner.run`).
        deferrable = self.elsewhere is None and item.raw is not None

        def failed(error: ResourceProblem) -> None:
            """Report the problem, or defer the resource when what it names by identifier may
            be in another file."""
            if deferrable and error.message == messages.UNRESOLVED_CONDITIONAL:
                return self._defer(task, item, order, result, index, source_id)
            return problem(error.message, type_name, source_id, error.where)

        if index is not None:
            resolve = index.resolve
        else:
            resolve = self.elsewhere if self.elsewhere is not None else _no_resolve
        try:
            patient = self._patient(resource, type_name, source_id, resolve)
        except ResourceProblem as error:
            return failed(error)
        # Opt-outs first: a patient who opted out is dropped even if the resource is invalid.
        if patient is not None and patient in self.opted:
            result.dropped_optout += 1
            return None
        optout_rows = []
        if type_name == "Patient":
            keys = self._patient_keys(resource)
            optout_rows = [(key, patient) for key in sorted(keys)]
            if keys & self.config.registry:
                # Staged so that finalise drops this patient's resources read by other workers
                # or earlier files; never published (finalise filters opted-out patients).
                for row in optout_rows:
                    self.writer.optout.add(row)
                self._opt_out(patient)  # type: ignore[arg-type]
                result.dropped_optout += 1
                return None
        if "identifier" in resource and type(resource["identifier"]) is not list:
            return problem(messages.IDENTIFIER_NOT_LIST, type_name, source_id, "identifier")
        if self.config.strict:
            found = self._strict(resource)
            if found is not None:
                return problem(found[1], type_name, source_id, found[0])
        references: list[tuple[Target, bool, str]] = []
        # Logical references (a patient given by identifier, anywhere in the resource): seen
        # by the walk before it removes their values, then matched against the registry.
        logical: list[dict] = []
        # A patient known only by identifier (outside its Bundle) is not the `patient` column,
        # but its resources' dates are still shifted, by an offset of that identifier's own.
        shift_for = patient
        if patient is None:
            shift_for = self._logical_shift_key(resource)
            if shift_for is not None and deferrable and index is None:
                return self._defer(task, item, order, result, None, source_id)
        indexed = conditional_texts(type_name, resource) if type_name in INDEXED_TYPES else ()
        try:
            self.pseudonymiser.apply(
                resource,
                shift_for,
                resolve,
                lambda t, local, rewritten: references.append((t, local, rewritten)),
                (lambda i: logical.append({"system": i.get("system"), "value": i.get("value")}))
                if self.config.registry
                else None,
            )
        except ResourceProblem as error:
            return failed(error)
        if logical and self._keys_of(logical) & self.config.registry:
            result.dropped_optout += 1
            return None
        data = orjson.dumps(resource)
        if len(data) > self.config.max_resource_bytes:
            return problem(
                f"the resource takes {len(data)} bytes, over the {self.config.max_resource_bytes}"
                " limit: an element is far too large",
                type_name,
                source_id,
            )
        local = index.local if index is not None else ()
        for target, resolved, rewritten in references:
            if resolved or (target.type, target.id) in local:
                continue
            self._target(task, item, type_name, target.type, rewritten)
        for row in optout_rows:
            self.writer.optout.add(row)
        if indexed:
            pseudonym = self.pseudonymiser.pseudonym(type_name, source_id)
            secret = self.config.pseudonym_key
            for text in indexed:
                self.writer.idkeys.add((conditional_key(secret, text), type_name, pseudonym))
        self.writer.resource(
            type_name,
            resource["id"],
            patient,
            effective_of(resource),
            code_of(resource),
            order,
            data,
        )
        result.landed[type_name] = result.landed.get(type_name, 0) + 1
        return None

    def _target(self, task, item: Item, type_name: str, target_type: str, rewritten: str) -> None:
        """Stage a reference's `Type/pseudonym` target for finalise's check, the first time
        this worker sees it (bounded): one row per target, at the first place it was seen."""
        if self.native is not None:  # the set the native path keeps
            if not self.native.first_sight(rewritten):
                return
        elif rewritten in self._seen_targets:
            return
        else:
            if len(self._seen_targets) > 200_000:
                self._seen_targets.clear()
            self._seen_targets.add(rewritten)
        self.writer.refs.add(
            (
                target_type,
                rewritten[len(target_type) + 1 :],
                task.label,
                item.line,
                item.entry,
                type_name,
                task.index,
                task.chunk,
            )
        )

    def _defer(
        self, task, item: Item, order: int, result: TaskResult, index, source_id: str
    ) -> None:
        """Stage the resource's source for the second pass: counted there, not here. A Bundle
        entry goes with its id (maybe its full URL's) and the references its Bundle resolves
        written as `Type/id`."""
        raw = item.raw
        if index is not None:
            resource = orjson.loads(raw)
            resource["id"] = source_id
            _local_references(resource, index)
            raw = orjson.dumps(resource)
        self.writer.deferred.add((task.index, item.line, item.entry, order, raw), len(raw))
        result.deferred += 1

    def _patient(self, resource: dict, type_name: str, source_id: str, resolve) -> str | None:
        if type_name == "Patient":
            return self.pseudonymiser.pseudonym("Patient", source_id)
        for key in PATIENT_KEYS:
            ref = resource.get(key)
            text = _logical_patient(ref)
            if text is not None:
                # A logical reference: the Patient with that identifier, in the same Bundle or
                # (second pass) among the Patients landed from any file.
                target = resolve("Patient?identifier=" + text)
                if target is not None and target.type == "Patient":
                    return self.pseudonymiser.pseudonym_of(target)
                continue
            if type(ref) is dict and type(ref.get("reference")) is str:
                cached = self.pseudonymiser._relative.get(ref["reference"])
                if cached is not None:
                    if cached[0].type == "Patient":
                        return cached[1][8:]
                    continue
                try:
                    target = self.pseudonymiser.target(ref["reference"], resolve)
                except ResourceProblem as error:
                    error.path[:0] = [key, "reference"]
                    raise
                if target is not None and target.type == "Patient":
                    return self.pseudonymiser.pseudonym_of(target)
        # No subject, patient or beneficiary: the first Patient referenced anywhere
        # (Appointment.participant.actor, Group.member.entity, Provenance.target...), so that
        # the resource follows its patient's opt-out and date shift.
        return self._patient_anywhere(resource, resolve, 0)

    def _logical_shift_key(self, resource: dict) -> str | None:
        for key in PATIENT_KEYS:
            text = _logical_patient(resource.get(key))
            if text is not None:
                return "identifier|" + text
        return None

    def _patient_anywhere(self, value: Any, resolve, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return None  # the walk reports the nesting
        if type(value) is list:
            for item in value:
                found = self._patient_anywhere(item, resolve, depth + 1)
                if found is not None:
                    return found
        elif type(value) is dict:
            reference = value.get("reference")
            if type(reference) is str:
                try:
                    target = self.pseudonymiser.target(reference, resolve)
                except ResourceProblem:
                    target = None  # the walk reports it with its path
                if target is not None and target.type == "Patient":
                    return self.pseudonymiser.pseudonym_of(target)
            for item in value.values():
                if type(item) is dict or type(item) is list:
                    found = self._patient_anywhere(item, resolve, depth + 1)
                    if found is not None:
                        return found
        return None

    def _strict(self, resource: dict) -> tuple[str, str] | None:
        """Validate against the R4 models of fhir.resources; (path, message) of the first error."""
        from pydantic import ValidationError

        type_name = resource["resourceType"]
        model = self._models.get(type_name)
        if model is None:
            from fhir.resources.R4B import get_fhir_model_class

            try:
                model = get_fhir_model_class(type_name)
            except (KeyError, ValueError, ImportError):
                return ("resourceType", f"strict mode has no R4 model for {type_name}")
            self._models[type_name] = model
        try:
            model.model_validate(resource)
        except ValidationError as error:
            first = error.errors()[0]
            path = ".".join(str(p) for p in first.get("loc", ()))
            return (path, f"strict R4 validation: {first.get('msg', 'invalid')}")
        except (ValueError, TypeError) as error:
            return ("", f"strict R4 validation: {error}")
        except KeyError:  # the models' lookup of a nested resource's type
            return ("", messages.STRICT_UNKNOWN_NESTED_TYPE)
        except Exception as error:
            # The models' own failure stops this resource, not the ingest. Only the class is
            # reported: the exception's text may quote the input.
            return ("", messages.STRICT_FAILED.format(kind=type(error).__name__))
        return None


def run_worker(config: Config, worker: int, tasks, results) -> None:
    """Body of a worker process: pull tasks until a None, send progress and results back."""
    parent = os.getppid()
    runner = Runner(config, worker)
    # Each resource allocates a few dozen short-lived containers without cycles: collecting
    # the young generation every 700 allocations (the default) only burns CPU. Objects made at
    # start-up (modules, policy, caches' first entries) are frozen out of the collections.
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)
    try:
        while True:
            try:
                task = tasks.get(timeout=1.0)
            except queue_module.Empty:
                if os.getppid() != parent:  # the ingest was killed: stop, write nothing more
                    return
                continue
            if task is None:
                break
            result = runner.run(task, lambda b, r, e: results.put(("progress", worker, (b, r, e))))
            results.put(("result", worker, result))
        runner.close()
        results.put(("done", worker, None))
    except BaseException:
        results.put(("failed", worker, traceback.format_exc(limit=8)))
        raise
