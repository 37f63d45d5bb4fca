"""Imports every table module so that ``SQLModel.metadata`` describes the whole schema."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import app.audit
import app.ca.tables
import app.dashboard.tables
import app.identity.tables  # noqa: F401
import charging.tables  # noqa: F401
import enrollment.ownership.tables  # noqa: F401
import enrollment.tables  # noqa: F401
import firmware.download_tables  # noqa: F401
import firmware.rollout_tables  # noqa: F401
import firmware.tables  # noqa: F401


def metadata() -> MetaData:
    return SQLModel.metadata
