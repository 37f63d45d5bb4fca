"""membership history: when each user held a role on a station

Charging sessions are visible to the members of the time they started. Existing memberships
become open periods from the time they were created.

Revision ID: 0007_membership_history
Revises: 0006_card_scope
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007_membership_history'
down_revision: str | None = '0006_card_scope'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('station_membership_periods',
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_serial', sqlmodel.sql.sqltypes.AutoString(length=25), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['station_serial'], ['devices.serial'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_station_membership_periods_station_serial'), 'station_membership_periods', ['station_serial'], unique=False)
    op.create_index(op.f('ix_station_membership_periods_user_id'), 'station_membership_periods', ['user_id'], unique=False)
    op.execute(
        "INSERT INTO station_membership_periods (station_serial, user_id, role, started_at) "
        "SELECT station_serial, user_id, role, created_at FROM station_memberships"
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_station_membership_periods_user_id'), table_name='station_membership_periods')
    op.drop_index(op.f('ix_station_membership_periods_station_serial'), table_name='station_membership_periods')
    op.drop_table('station_membership_periods')
