"""The station page's remote command forms: parsed into the REST API's command bodies and sent
through the same command service (``app.api.commands``), the station's answer kept for display.

Each form's fields are named ``<command>-<field>`` (``start-id_token``), so that the forms of one
page never share an input id. A failure the station or the gateway causes (offline, no answer,
a CALLERROR) is an answer too: a message on the page, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from app import audit
from app.api.commands import COMMANDS, CertificateTrigger, StartBody, dispatch, start_charging
from app.platform import Platform
from app.problems import Problem
from charging.commands import ResetMode, TriggerKind
from charging.events import IdToken, IdTokenType
from ocpp_edge.errors import InvalidReplyError, UnsupportedError
from ocpp_edge.session import CommandTimeout, StationCallError, StationOffline

ECHO_LENGTH = 200
"""Values sent back into a re-rendered form are cut to this (a 100 kB paste is not echoed)."""


@dataclass(frozen=True, slots=True)
class CommandForm:
    name: str
    title: str
    body: type[BaseModel]
    fields: tuple[str, ...]
    lists: tuple[str, ...] = ()
    """Fields entered as comma-separated lists."""


FORMS: dict[str, CommandForm] = {
    form.name: form
    for form in (
        CommandForm("start", "Start charging", StartBody, ("id_token", "id_token_type", "evse_id")),
        CommandForm("stop", "Stop charging", COMMANDS["stop"][1], ("transaction_ref",)),
        CommandForm("reset", "Reset", COMMANDS["reset"][1], ("mode",)),
        CommandForm(
            "unlock", "Unlock connector", COMMANDS["unlock"][1], ("evse_id", "connector_id")
        ),
        CommandForm(
            "availability",
            "Change availability",
            COMMANDS["availability"][1],
            ("operative", "evse_id"),
        ),
        CommandForm(
            "get-configuration",
            "Read configuration",
            COMMANDS["get-configuration"][1],
            ("keys",),
            lists=("keys",),
        ),
        CommandForm(
            "configure", "Change configuration", COMMANDS["configure"][1], ("key", "value")
        ),
        CommandForm("trigger", "Trigger a message", COMMANDS["trigger"][1], ("message", "evse_id")),
    )
}

CHOICES: dict[str, list[tuple[str, str]]] = {
    "start-id_token_type": [(t.value, t.value) for t in IdTokenType],
    "reset-mode": [(m.value, m.value) for m in ResetMode],
    "availability-operative": [("true", "Operative"), ("false", "Inoperative")],
    "trigger-message": [(t.value, t.value) for t in (*TriggerKind, *CertificateTrigger)],
}
"""The options of the forms' select fields."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What became of one command: the station's status and payload, or why there is none."""

    command: str
    ok: bool
    status: str
    message: str = ""
    payload: str = ""
    values: Mapping[str, str | None] = field(default_factory=dict)
    remote_start_id: int | None = None
    problems: tuple[str, ...] = ()
    """What is wrong with the form's fields (the form was not sent)."""


@dataclass(frozen=True, slots=True)
class Parsed:
    form: CommandForm
    body: BaseModel | None
    values: dict[str, str]
    errors: dict[str, str]

    def refusal(self) -> Answer:
        """The answer to a form with errors: nothing was sent, each field's problem named."""
        problems = tuple(
            f"{name.removeprefix(self.form.name + '-').replace('_', ' ')}: {message}"
            for name, message in self.errors.items()
        )
        return Answer(
            self.form.title, False, "Not sent", "Correct the fields marked.", problems=problems
        )


def parse(form: CommandForm, data: Mapping[str, Any]) -> Parsed:
    """The form's body, or the error of each field (keyed by the input's name)."""
    raw: dict[str, Any] = {}
    values: dict[str, str] = {}
    for name in form.fields:
        value = data.get(f"{form.name}-{name}")
        if not isinstance(value, str) or not value.strip():
            continue
        values[f"{form.name}-{name}"] = value[:ECHO_LENGTH]
        text = value.strip()
        raw[name] = [k for k in text.replace(",", " ").split() if k] if name in form.lists else text
    try:
        return Parsed(form, form.body.model_validate(raw), values, {})
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else form.fields[0]
            errors.setdefault(f"{form.name}-{where}", error["msg"])
        return Parsed(form, None, values, errors)


def _pretty(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, default=str)


async def run(
    platform: Platform,
    session: Session,
    actor: audit.Actor,
    station_id: str,
    form: CommandForm,
    body: BaseModel,
) -> Answer:
    """Send the command; the station's answer, or the reason it gave none.

    Raises:
        Problem: 404, the station is unknown.
    """
    try:
        if isinstance(body, StartBody):
            token = IdToken(body.id_token, body.id_token_type)
            answer = await start_charging(platform, session, actor, station_id, token, body.evse_id)
        else:
            command = COMMANDS[form.name][2](body)
            answer = await dispatch(platform, session, actor, station_id, command)
    except StationOffline:
        return Answer(form.title, False, "Offline", "The station is offline: nothing was sent.")
    except CommandTimeout:
        return Answer(form.title, False, "No answer", "The station did not answer in time.")
    except StationCallError as exc:
        return Answer(
            form.title, False, exc.code, f"The station answered with an error: {exc.description}"
        )
    except (UnsupportedError, InvalidReplyError) as exc:
        return Answer(form.title, False, "Not sent", str(exc))
    except Problem as exc:
        if exc.status == 404:
            raise
        return Answer(form.title, False, "Not sent", exc.detail)
    return Answer(
        form.title,
        answer.status == "Accepted",
        answer.status,
        payload=_pretty(answer.payload),
        values=answer.values,
        remote_start_id=answer.remote_start_id,
    )
