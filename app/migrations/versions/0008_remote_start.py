"""remote start: one remoteStartId per request, and the transaction it started

Revision ID: 0008_remote_start
Revises: 0007_membership_history
Create Date: 2026-11-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008_remote_start'
down_revision: str | None = '0007_membership_history'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('remote_starts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('evse_id', sa.Integer(), nullable=True),
    sa.Column('id_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_remote_starts_station_id'), 'remote_starts', ['station_id'], unique=False)
    op.add_column('transactions', sa.Column('remote_start_id', sa.Integer(), nullable=True))
    op.add_column(
        'transactions',
        sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    )
    op.create_index(
        op.f('ix_transactions_remote_start_id'), 'transactions', ['remote_start_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_transactions_remote_start_id'), table_name='transactions')
    with op.batch_alter_table('transactions') as batch:
        batch.drop_column('started_by')
        batch.drop_column('remote_start_id')
    op.drop_index(op.f('ix_remote_starts_station_id'), table_name='remote_starts')
    op.drop_table('remote_starts')
