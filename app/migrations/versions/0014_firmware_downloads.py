"""firmware download log and per-download FTP logins

Revision ID: 0014_firmware_downloads
Revises: 0013_rollouts
Create Date: 2026-12-01 23:58:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014_firmware_downloads'
down_revision: str | None = '0013_rollouts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'firmware_downloads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.String(length=48), nullable=True),
        sa.Column('image_id', sa.Integer(), nullable=True),
        sa.Column('target_id', sa.BigInteger(), nullable=True),
        sa.Column('protocol', sa.String(length=8), nullable=False),
        sa.Column('range_start', sa.BigInteger(), nullable=True),
        sa.Column('range_end', sa.BigInteger(), nullable=True),
        sa.Column('bytes_sent', sa.BigInteger(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sa.Column('client_address', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_firmware_downloads_station_id', 'firmware_downloads', ['station_id'])
    op.create_index('ix_firmware_downloads_target_id', 'firmware_downloads', ['target_id'])
    op.create_index('ix_firmware_downloads_at', 'firmware_downloads', ['at'])
    op.create_table(
        'firmware_ftp_logins',
        sa.Column('username', sa.String(length=32), nullable=False),
        sa.Column('password_hash', sa.String(length=64), nullable=False),
        sa.Column('image_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('target_id', sa.BigInteger(), nullable=True),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('username'),
    )
    op.create_index(
        'ix_firmware_ftp_logins_valid_until', 'firmware_ftp_logins', ['valid_until']
    )


def downgrade() -> None:
    op.drop_index('ix_firmware_ftp_logins_valid_until', table_name='firmware_ftp_logins')
    op.drop_table('firmware_ftp_logins')
    op.drop_index('ix_firmware_downloads_at', table_name='firmware_downloads')
    op.drop_index('ix_firmware_downloads_target_id', table_name='firmware_downloads')
    op.drop_index('ix_firmware_downloads_station_id', table_name='firmware_downloads')
    op.drop_table('firmware_downloads')
