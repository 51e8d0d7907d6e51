"""The CDS Hooks feedback body (spec §Feedback): which card, accepted or overridden, when."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Coding(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str = Field(min_length=1, max_length=200)
    system: str | None = None


class _OverrideReason(BaseModel):
    model_config = ConfigDict(extra="allow")
    reason: _Coding | None = None
    userComment: str | None = None


class _Accepted(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str


class _FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    card: str = Field(min_length=1, max_length=200)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[_Accepted] | None = None
    overrideReason: _OverrideReason | None = None
    outcomeTimestamp: str = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> _FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when the outcome is accepted")
        return self


class FeedbackRequest(BaseModel):
    feedback: list[_FeedbackItem] = Field(min_length=1, max_length=1000)
