"""the platform's firmware-signing keys (sealed) and each family's signature algorithm

Revision ID: 0012_firmware_signing
Revises: 0011_firmware_images
Create Date: 2026-12-02 00:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0012_firmware_signing"
down_revision: str | None = "0011_firmware_images"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "firmware_signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("serial_hex", sa.String(length=40), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("algorithm"),
    )
    op.create_table(
        "firmware_family_signing",
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("signature_algorithm", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["family_id"], ["hardware_families.id"]),
        sa.PrimaryKeyConstraint("family_id"),
    )


def downgrade() -> None:
    op.drop_table("firmware_family_signing")
    op.drop_table("firmware_signing_keys")
