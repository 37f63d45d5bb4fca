"""presence: which edge node holds each station's connection

Revision ID: 0009_presence
Revises: 0008_remote_start
Create Date: 2026-12-01 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_presence'
down_revision: str | None = '0008_remote_start'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stations') as batch:
        batch.add_column(sa.Column('edge_node', sa.String(length=64), nullable=True))
        batch.create_index('ix_stations_edge_node', ['edge_node'])


def downgrade() -> None:
    with op.batch_alter_table('stations') as batch:
        batch.drop_index('ix_stations_edge_node')
        batch.drop_column('edge_node')
