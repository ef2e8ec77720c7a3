"""The API's typed shapes (pydantic). The report itself is the library's JSON contract
(``Report.to_dict``); :class:`ReportModel` describes it and lets unknown keys through."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AnswerValue = Literal["problem-seen", "looks-fine", "cannot-tell"]


class RegionModel(BaseModel):
    box: list[int] = Field(description="(x, y, w, h) in pixels of the oriented image")
    label: str = ""


class FindingModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    cue: str
    category: str
    status: Literal["generated-evidence", "real-evidence", "clear", "not-applicable", "error"]
    strength: float | None
    reason: str
    regions: list[RegionModel] = []
    details: dict[str, Any] = {}
    seconds: float = 0.0
    version: str = "1"
    decisive: bool = False


class ManualCheckModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    cue: str
    guidance: str
    regions: list[RegionModel] | None = None


class ReportModel(BaseModel):
    """``telltales.inspect(...).to_dict()``, unchanged."""

    model_config = ConfigDict(extra="allow")
    path: str | None
    sha256: str | None
    verdict: Literal["generated", "real", "unsure", "error"]
    p_generated: float | None
    unsure_reason: str | None
    reasons: list[str]
    error: str | None
    image: dict[str, Any]
    findings: list[FindingModel]
    manual_checks: list[ManualCheckModel]
    version: dict[str, Any]
    seconds: float


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cue: str = Field(description="a manual check's cue id, e.g. body.hands", max_length=64)
    answer: AnswerValue
    note: str = Field("", max_length=4000)


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[AnswerIn] = Field(max_length=200)


class AnswerOut(BaseModel):
    cue: str
    answer: AnswerValue
    note: str
    updated_at: dt.datetime | None


class ReviewSummary(BaseModel):
    """The reviewer's judgement from the checklist; never the model's."""

    answered: int
    problem_seen: int
    looks_fine: int
    cannot_tell: int


class AtBaseRate(BaseModel):
    """p_generated for a collection in which ``base_rate`` of the pictures are generated
    (``telltales.at_base_rate``); the report's own p assumes half."""

    base_rate: float
    p: float


class CaseSummary(BaseModel):
    id: int
    sha256: str
    filename: str
    filenames: list[str]
    created_at: dt.datetime
    verdict: str
    p_generated: float
    p_generated_at_base_rate: AtBaseRate | None = Field(
        None, description="p_generated at the base rate asked for (?base_rate=) or the server's "
                          "(serve --base-rate); null when neither is set")
    error: str | None
    width: int | None
    height: int | None
    review: ReviewSummary
    url: str


class CaseDetail(CaseSummary):
    report: ReportModel
    checklist: list[AnswerOut]


class CaseList(BaseModel):
    total: int
    cases: list[CaseSummary]


class ErrorModel(BaseModel):
    error: str


class Health(BaseModel):
    status: str
    in_flight: int
    capacity: int
    parts_missing: list[str] = Field(
        default_factory=list, description="cues the startup analysis could not run because a part is "
                                          "missing or failed its check (`telltales doctor` says which)")


class TaxonomyItem(BaseModel):
    id: str
    category: str
    automated: bool
    failure: str
    guidance: str
