"""FHIR export: a session's metrics as a Bundle of Observations (FHIR R4, JSON).

``session_<id>.fhir.json`` is a ``Bundle`` of type ``collection`` with one ``Observation`` per
metric of :func:`~rehabbot.export.metrics.session_metrics`:

* ``status`` ``final``, ``category`` ``activity`` (HL7 observation-category);
* ``code``: the metric's LOINC coding where LOINC has one of the same meaning (steps taken
  66334-4, exercise duration 55411-3), then always rehabbot's local coding
  (:data:`~rehabbot.export.metrics.LOCAL_SYSTEM`), and the title as ``text``;
* ``valueQuantity`` with a UCUM unit (``system`` http://unitsofmeasure.org);
* ``subject``: a logical reference by identifier, the patient's keyed pseudonym
  (:data:`PSEUDONYM_SYSTEM`), no resource, name or birth date;
* ``effectivePeriod``: the session's start and end (UTC); ``device``: the robot by name.

The bundle is validated with ``fhir.resources`` (its R4B models: FHIR 4.3, whose Bundle and
Observation are R4's) before it is written; a session without a complete stride has no metrics
and is refused with an :class:`~rehabbot.errors.ExportError`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from rehabbot.errors import ExportError
from rehabbot.export.base import Exporter, SessionData
from rehabbot.export.metrics import (
    LOCAL_BASE,
    LOCAL_SYSTEM,
    LOINC_SYSTEM,
    UCUM_SYSTEM,
    Metric,
    session_metrics,
)
from rehabbot.storage.files import write_private_text

#: Identifier system of patient pseudonyms (keyed per installation, so only meaningful together
#: with the installation that made them).
PSEUDONYM_SYSTEM = f"{LOCAL_BASE}/NamingSystem/patient-pseudonym"
CATEGORY = {"system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "activity", "display": "Activity"}
#: Namespace of the bundle's entry URLs (``urn:uuid:``, derived from session and metric).
_ENTRY_NAMESPACE = uuid.UUID("6f1e2a43-5d0b-4c1e-9a57-3b8e0f7d2c91")


def pseudonym_subject(data: SessionData) -> dict[str, Any]:
    """The ``subject`` of a research export: a logical reference by the patient's pseudonym."""
    return {"identifier": {"system": PSEUDONYM_SYSTEM, "value": data.subject}}


def metric_observation(data: SessionData, metric: Metric,
                       subject: dict[str, Any]) -> dict[str, Any]:
    """One session metric as a FHIR Observation (JSON values) about ``subject``."""
    codings = [] if metric.loinc is None else [
        {"system": LOINC_SYSTEM, "code": metric.loinc[0], "display": metric.loinc[1]}]
    codings.append({"system": LOCAL_SYSTEM, "code": metric.code, "display": metric.title})
    period = {"start": data.info.started_at}
    if data.info.ended_at:
        period["end"] = data.info.ended_at
    return {
        "resourceType": "Observation",
        "id": f"session-{data.info.id}-{metric.code}",
        "status": "final",
        "category": [{"coding": [CATEGORY]}],
        "code": {"coding": codings, "text": metric.title},
        "subject": subject,
        "effectivePeriod": period,
        "valueQuantity": {"value": metric.value, "unit": metric.unit, "system": UCUM_SYSTEM,
                          "code": metric.unit},
        "device": {"display": f"rehabbot robot {data.info.robot_name}"},
    }


def entry_url(subject: str, observation_id: str) -> str:
    """A stable ``urn:uuid:`` for an entry: the same export gives the same bundle."""
    return f"urn:uuid:{uuid.uuid5(_ENTRY_NAMESPACE, f'{subject}/{observation_id}')}"


def session_bundle(data: SessionData) -> dict[str, Any]:
    """The session's metrics as a FHIR Bundle (JSON values), validated.

    Raises:
        ExportError: the session has no metrics (no complete stride), or the bundle does not
            validate (a bug: the message names the first error).
    """
    metrics = session_metrics(data)
    if not metrics:
        raise ExportError(f"session {data.info.id} has no complete stride, so no metrics for a "
                          "FHIR bundle; export its samples in another format (hdf5, csv)")
    observations = [metric_observation(data, m, pseudonym_subject(data)) for m in metrics]
    return validated_bundle([{"fullUrl": entry_url(data.subject, o["id"]), "resource": o}
                             for o in observations], f"session {data.info.id}")


def validated_bundle(entries: list[dict[str, Any]], what: str) -> dict[str, Any]:
    """A FHIR ``collection`` Bundle of ``entries`` (JSON values), validated with fhir.resources.

    Raises:
        ExportError: the bundle is not valid (a bug: the message names ``what`` and the first
            error).
    """
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise ExportError(f"the FHIR bundle of {what} is not valid: {exc.errors()[0]}") from None
    return bundle


class FhirExporter(Exporter):
    """Write ``session_<id>.fhir.json``: a FHIR R4 Bundle of the session's metric Observations."""

    name = "fhir"
    suffix = ".fhir.json"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the bundle into ``out_dir`` and return its path."""
        text = json.dumps(session_bundle(data), indent=2, ensure_ascii=False) + "\n"
        return [write_private_text(out_dir / f"{data.stem}{self.suffix}", text)]
