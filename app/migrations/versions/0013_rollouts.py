"""rollouts: rollouts, waves, targets, active targets per station, request ids, the captured
firmware reports, the command outbox and the worker lease

Revision ID: 0013_rollouts
Revises: 0012_firmware_signing
Create Date: 2026-12-01 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013_rollouts'
down_revision: str | None = '0012_firmware_signing'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'firmware_rollouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('image_id', sa.Integer(), nullable=True),
        sa.Column('family_id', sa.Integer(), nullable=False),
        sa.Column('rollback_of', sa.Integer(), nullable=True),
        sa.Column('policy', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('wave_index', sa.Integer(), nullable=False),
        sa.Column('wave_count', sa.Integer(), nullable=False),
        sa.Column('target_count', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        _utc('created_at'),
        _utc('started_at', True),
        _utc('ended_at', True),
        _utc('updated_at'),
        _utc('ticked_at', True),
        _utc('resumed_at', True),
        sa.Column('wave_sizes', sa.Text(), nullable=False),
        sa.Column('machine', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['family_id'], ['hardware_families.id']),
        sa.ForeignKeyConstraint(['image_id'], ['firmware_images.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_firmware_rollouts_family_id', 'firmware_rollouts', ['family_id'])
    op.create_index('ix_firmware_rollouts_state', 'firmware_rollouts', ['state'])
    op.create_table(
        'firmware_rollout_waves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rollout_id', sa.Integer(), nullable=False),
        sa.Column('index', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        _utc('started_at', True),
        _utc('soak_started_at', True),
        _utc('ended_at', True),
        sa.Column('verdict', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['rollout_id'], ['firmware_rollouts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('rollout_id', 'index'),
    )
    op.create_index(
        'ix_firmware_rollout_waves_rollout_id', 'firmware_rollout_waves', ['rollout_id']
    )
    op.create_table(
        'firmware_rollout_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rollout_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('wave', sa.Integer(), nullable=False),
        sa.Column('image_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('signed', sa.Boolean(), nullable=False),
        _utc('sent_at', True),
        _utc('last_report_at', True),
        _utc('probed_at', True),
        sa.Column('failure', sa.String(length=16), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('old_version', sa.String(length=50), nullable=True),
        sa.Column('new_version', sa.String(length=50), nullable=True),
        sa.Column('report_cursor', sa.BigInteger(), nullable=False),
        sa.Column('machine', sa.Text(), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        _utc('claimed_until', True),
        _utc('created_at'),
        _utc('updated_at'),
        sa.ForeignKeyConstraint(['rollout_id'], ['firmware_rollouts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('rollout_id', 'station_id'),
    )
    op.create_index(
        'ix_firmware_rollout_targets_rollout_id', 'firmware_rollout_targets', ['rollout_id']
    )
    op.create_index(
        'ix_firmware_rollout_targets_station_id', 'firmware_rollout_targets', ['station_id']
    )
    op.create_index('ix_firmware_rollout_targets_state', 'firmware_rollout_targets', ['state'])
    op.create_index(
        'ix_firmware_rollout_targets_wave',
        'firmware_rollout_targets',
        ['rollout_id', 'wave', 'state'],
    )
    op.create_table(
        'firmware_active_targets',
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('rollout_id', sa.Integer(), nullable=False),
        _utc('created_at'),
        sa.ForeignKeyConstraint(['rollout_id'], ['firmware_rollouts.id']),
        sa.PrimaryKeyConstraint('station_id'),
    )
    op.create_index(
        'ix_firmware_active_targets_rollout_id', 'firmware_active_targets', ['rollout_id']
    )
    op.create_table(
        'firmware_request_ids',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        _utc('created_at'),
        sa.ForeignKeyConstraint(['target_id'], ['firmware_rollout_targets.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_firmware_request_ids_station_id', 'firmware_request_ids', ['station_id'])
    op.create_index('ix_firmware_request_ids_target_id', 'firmware_request_ids', ['target_id'])
    op.create_table(
        'firmware_reports',
        sa.Column(
            'id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False
        ),
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=50), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('signed', sa.Boolean(), nullable=False),
        sa.Column('failed', sa.Boolean(), nullable=False),
        sa.Column('detail', sa.String(length=200), nullable=True),
        _utc('at'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_firmware_reports_station', 'firmware_reports', ['station_id', 'id'])
    op.create_table(
        'firmware_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('command', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        _utc('created_at'),
        _utc('sent_at', True),
        _utc('answered_at', True),
        sa.Column('answer', sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(['target_id'], ['firmware_rollout_targets.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_firmware_outbox_target_id', 'firmware_outbox', ['target_id'])
    op.create_table(
        'firmware_worker_lease',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        _utc('until'),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('firmware_worker_lease')
    op.drop_index('ix_firmware_outbox_target_id', table_name='firmware_outbox')
    op.drop_table('firmware_outbox')
    op.drop_index('ix_firmware_reports_station', table_name='firmware_reports')
    op.drop_table('firmware_reports')
    op.drop_index('ix_firmware_request_ids_target_id', table_name='firmware_request_ids')
    op.drop_index('ix_firmware_request_ids_station_id', table_name='firmware_request_ids')
    op.drop_table('firmware_request_ids')
    op.drop_index('ix_firmware_active_targets_rollout_id', table_name='firmware_active_targets')
    op.drop_table('firmware_active_targets')
    for name in ('wave', 'state', 'station_id', 'rollout_id'):
        op.drop_index(f'ix_firmware_rollout_targets_{name}', table_name='firmware_rollout_targets')
    op.drop_table('firmware_rollout_targets')
    op.drop_index('ix_firmware_rollout_waves_rollout_id', table_name='firmware_rollout_waves')
    op.drop_table('firmware_rollout_waves')
    op.drop_index('ix_firmware_rollouts_state', table_name='firmware_rollouts')
    op.drop_index('ix_firmware_rollouts_family_id', table_name='firmware_rollouts')
    op.drop_table('firmware_rollouts')
