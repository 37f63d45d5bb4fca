"""dashboard browser sessions

Revision ID: 0015_dashboard_sessions
Revises: 0014_firmware_downloads
Create Date: 2026-12-02 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015_dashboard_sessions'
down_revision: str | None = '0014_firmware_downloads'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'dashboard_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('name', sa.String(length=254), nullable=False),
        sa.Column('roles', sa.String(length=100), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_dashboard_sessions_subject', 'dashboard_sessions', ['subject'])
    op.create_index('ix_dashboard_sessions_expires_at', 'dashboard_sessions', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_dashboard_sessions_expires_at', table_name='dashboard_sessions')
    op.drop_index('ix_dashboard_sessions_subject', table_name='dashboard_sessions')
    op.drop_table('dashboard_sessions')
