"""enrollment: hardware families, the MAC pool, devices

Revision ID: 0004_enrollment
Revises: 0003_pki
Create Date: 2026-11-21 14:03:24.851105
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004_enrollment'
down_revision: str | None = '0003_pki'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hardware_families',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('ocpp_version', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('default_channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('mac_ranges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first', sa.BigInteger(), nullable=False),
    sa.Column('last', sa.BigInteger(), nullable=False),
    sa.Column('next_index', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('first')
    )
    op.create_table('devices',
    sa.Column('serial', sqlmodel.sql.sqltypes.AutoString(length=25), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('lot', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('metadata_json', sa.Text(), nullable=False),
    sa.Column('mac', sa.BigInteger(), nullable=False),
    sa.Column('mac_range_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('device_code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('packaging_code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sealed_codes', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('certificate_serial', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decommissioned_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['hardware_families.id'], ),
    sa.ForeignKeyConstraint(['mac_range_id'], ['mac_ranges.id'], ),
    sa.PrimaryKeyConstraint('serial'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('mac')
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_lot'), ['lot'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_mac_range_id'), ['mac_range_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_state'))
        batch_op.drop_index(batch_op.f('ix_devices_mac_range_id'))
        batch_op.drop_index(batch_op.f('ix_devices_lot'))
        batch_op.drop_index(batch_op.f('ix_devices_family_id'))

    op.drop_table('devices')
    op.drop_table('mac_ranges')
    op.drop_table('hardware_families')
