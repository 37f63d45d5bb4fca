"""firmware images, channels per family, station channel overrides, family signing roots;
stations get an IANA time zone for maintenance windows

Revision ID: 0011_firmware_images
Revises: 0010_drop_pairing_failures
Create Date: 2026-12-01 23:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011_firmware_images'
down_revision: str | None = '0010_drop_pairing_failures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'firmware_images',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('family_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(length=50), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('md5', sa.String(length=32), nullable=False),
        sa.Column('storage_key', sa.String(length=255), nullable=False),
        sa.Column('signature', sa.Text(), nullable=True),
        sa.Column('signing_certificate', sa.Text(), nullable=True),
        sa.Column('signature_algorithm', sa.String(length=32), nullable=True),
        sa.Column('release_notes', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['family_id'], ['hardware_families.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('family_id', 'version'),
    )
    op.create_index('ix_firmware_images_family_id', 'firmware_images', ['family_id'])
    op.create_table(
        'firmware_channels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('family_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('image_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['family_id'], ['hardware_families.id']),
        sa.ForeignKeyConstraint(['image_id'], ['firmware_images.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('family_id', 'name'),
    )
    op.create_index('ix_firmware_channels_family_id', 'firmware_channels', ['family_id'])
    op.create_table(
        'firmware_station_channels',
        sa.Column('station_id', sa.String(length=48), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['station_id'], ['stations.id']),
        sa.PrimaryKeyConstraint('station_id'),
    )
    op.create_table(
        'firmware_family_roots',
        sa.Column('family_id', sa.Integer(), nullable=False),
        sa.Column('certificate', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['family_id'], ['hardware_families.id']),
        sa.PrimaryKeyConstraint('family_id'),
    )
    with op.batch_alter_table('stations') as batch:
        batch.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stations') as batch:
        batch.drop_column('time_zone')
    op.drop_table('firmware_family_roots')
    op.drop_table('firmware_station_channels')
    op.drop_index('ix_firmware_channels_family_id', table_name='firmware_channels')
    op.drop_table('firmware_channels')
    op.drop_index('ix_firmware_images_family_id', table_name='firmware_images')
    op.drop_table('firmware_images')
