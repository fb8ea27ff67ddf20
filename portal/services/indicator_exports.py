"""Exports of the A2 indicators (INDICATORS.md): summary and detailed, as CSV,
JSON and XLSX, all from ``portal.services.indicators`` (the dashboard's engine).

* **summary**: one row per indicator × breakdown × measure
  (columns: indicator, name, unit, <by…>, measure, value).
* **detailed**: one row per counted event: the collaboration, opportunity or
  partner it counts, as ids and snapshot dimensions only (pseudonymised: no
  names, no person keys); see ``indicators.DETAIL_COLUMNS``.
* **JSON**: the INDICATORS.md shape ({"meta", "indicators"}); with
  ``detailed`` it also carries ``"detail": [...]``.
* **CSV**: a header row and the same rows as the JSON/XLSX; CSV has no place
  for metadata, so the command prints it (JSON and XLSX carry it).
* **XLSX**: sheets "summary" (and "detail"), "definitions" and "metadata"
  (period, filters, by, generated_at, last_event_id).

Rendering is deterministic: two exports of the same request differ only in
``generated_at``.
"""

from __future__ import annotations

import csv
import io
import json

from portal.services import indicators as engine

FORMATS = ("csv", "json", "xlsx")


def summary_rows(result: dict) -> list[dict]:
    by = result["meta"]["by"]
    rows = []
    for ind in result["indicators"]:
        for r in ind["rows"]:
            rows.append({"indicator": ind["id"], "name": ind["name"], "unit": ind["unit"],
                         **{k: r.get(k) for k in by}, "measure": r["measure"],
                         "value": r["value"]})
    return rows


def summary_columns(result: dict) -> list[str]:
    return ["indicator", "name", "unit", *result["meta"]["by"], "measure", "value"]


def render(result: dict, fmt: str, *, detail: list[dict] | None = None) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "json":
        doc = dict(result)
        if detail is not None:
            doc["detail"] = detail
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "csv":
        buf = io.StringIO()
        if detail is not None:
            columns, rows = list(engine.DETAIL_COLUMNS), detail
        else:
            columns, rows = summary_columns(result), summary_rows(result)
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in columns})
        return buf.getvalue().encode()
    return _xlsx(result, detail)


def _xlsx(result: dict, detail: list[dict] | None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    cols = summary_columns(result)
    ws.append(cols)
    for r in summary_rows(result):
        ws.append([r.get(c) for c in cols])
    if detail is not None:
        wd = wb.create_sheet("detail")
        wd.append(list(engine.DETAIL_COLUMNS))
        for r in detail:
            wd.append([r.get(c) for c in engine.DETAIL_COLUMNS])
    wdef = wb.create_sheet("definitions")
    wdef.append(["id", "name", "unit", "measures", "definition"])
    for d in engine.definitions():
        wdef.append([d["id"], d["name"], d["unit"], ", ".join(d["measures"]), d["definition"]])
    wm = wb.create_sheet("metadata")
    meta = result["meta"]
    wm.append(["key", "value"])
    wm.append(["period_from", meta["period"]["from"]])
    wm.append(["period_to", meta["period"]["to"]])
    wm.append(["by", ",".join(meta["by"])])
    wm.append(["filters", json.dumps(meta["filters"], sort_keys=True)])
    wm.append(["generated_at", meta["generated_at"]])
    wm.append(["last_event_id", meta["last_event_id"]])
    wm.append(["export", "detailed" if detail is not None else "summary"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export(db, *, date_from, date_to, by=None, unit=None, as_of=None, fmt="csv",
           detailed: bool = False, now=None) -> tuple[dict, bytes]:
    """Compute and render; raises ValidationFailed before producing anything."""
    if fmt not in FORMATS:
        from portal.services.errors import ValidationFailed

        raise ValidationFailed({"format": [f"unknown format {fmt!r} (csv, json or xlsx)"]})
    req = engine.make_request(db, date_from=date_from, date_to=date_to, by=by, unit=unit,
                              as_of=as_of, now=now)
    result = engine.compute_request(db, req)
    detail = engine.detail_rows(db, req) if detailed else None
    return result, render(result, fmt, detail=detail)
