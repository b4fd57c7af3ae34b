"""Typed API responses (what /docs shows)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from nca.verdict import VERDICTS

from .jobs.model import PHASES, STATUSES

Verdict = Literal[VERDICTS]  # type: ignore[valid-type]
JobStatus = Literal[STATUSES]  # type: ignore[valid-type]
JobPhase = Literal[PHASES]  # type: ignore[valid-type]


class ModelSummary(BaseModel):
    id: str = Field(description="server-side id; for trained models the id of the job that made them")
    name: str = Field(description="display name")
    bundled: bool = Field(description="shipped with the studio (read-only) rather than trained here")
    channels: int
    hidden: int
    parameter_count: int
    created: str | None = None
    bundle_url: str = Field(description="directory URL to pass to NCA.load(); model.json lives there")
    thumbnail_url: str
    downloads: dict[str, str] = Field(default_factory=dict,
                                      description="download URLs: bundle (zip), checkpoint (.pt), standalone (.html)")
    job_id: str | None = None
    training: dict[str, Any] = Field(default_factory=dict)
    verdict: Verdict | None = Field(None, description="quality check of the model: good, drifts, poor or failed")
    quality: dict[str, Any] = Field(default_factory=dict, description="the check's figures per step count")
    grafts_with: list[str] = Field(default_factory=list,
                                   description="ids of the models that graft well with this one (the page's graft "
                                               "brush): the same channel count, and marked good in the models "
                                               "directory's grafts.json")


class ModelDetail(ModelSummary):
    bundle: dict[str, Any] = Field(description="the bundle's model.json")


class Job(BaseModel):
    id: str
    name: str
    preset: str
    options: dict[str, Any]
    status: JobStatus
    phase: JobPhase | None = None
    start: int = Field(1, description="which try trains: 2 once the verdict was not good and a second try trains "
                                      "(longer, or from another base), 3 and 4 for a third and a steadying fourth; "
                                      "live iterations then count on from the earlier tries'")
    created: str
    started: str | None = None
    ended: str | None = None
    iteration: int
    iterations: int | None = None
    loss: float | None = None
    it_per_s: float | None = None
    eta_s: float | None = Field(None, description="seconds of training iterations left")
    remaining: dict[str, float] = Field(default_factory=dict,
                                        description="estimated seconds left per phase still to come: training, "
                                                    "probing, evaluating, exporting")
    remaining_s: float | None = Field(None, description="their sum: the job's estimated remaining time")
    live_iteration: int | None = Field(None, description="the iteration of the newest live bundle")
    live_url: str | None = Field(None, description="bundle directory URL of the weights training has now, for "
                                                   "NCA.load (while the job trains, and after a cancel)")
    preview_url: str | None = Field(None, description="latest training preview (pool samples), when there is one")
    style_url: str | None = None
    error: str | None = None
    model_id: str | None = Field(None, description="the exported model, once finished")
    verdict: Verdict | None = Field(None, description="the finished model's quality check (failed = learned nothing)")
    stopped_early: bool = Field(False, description="the finished model's run ended at a probe whose texture held, "
                                                   "before its last iteration (nca train --stop-below)")
    queue_position: int | None = Field(None, description="1 = next to run, while queued")
    resumable: bool
    runs: int
    upload_bytes: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    models: int
    jobs_running: int
    jobs_queued: int
    presets: list[str]
    max_upload_bytes: int


class ErrorResponse(BaseModel):
    detail: str
