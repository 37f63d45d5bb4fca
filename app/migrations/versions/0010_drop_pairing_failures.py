"""drop pairing_failures: pairing attempts are counted by the atomic throttle (login_failures)

Revision ID: 0010_drop_pairing_failures
Revises: 0009_presence
Create Date: 2026-12-01 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010_drop_pairing_failures'
down_revision: str | None = '0009_presence'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('pairing_failures')


def downgrade() -> None:
    op.create_table('pairing_failures',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
