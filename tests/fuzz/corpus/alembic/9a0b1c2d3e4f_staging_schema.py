"""staging schema for source extracts

Revision ID: 9a0b1c2d3e4f
Revises:
Create Date: 2026-11-27 09:00:00
"""
from alembic import op

revision = '9a0b1c2d3e4f'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE SCHEMA staging")
    op.execute("""CREATE TABLE staging.person (
        source_id bigint PRIMARY KEY, year_of_birth int, gender_source_value text)""")
    op.execute("""CREATE TABLE staging.drug_exposure (
        drug_exposure_id bigint PRIMARY KEY, person_id bigint, ndc_code text,
        drug_exposure_start_date date)""")


def downgrade():
    op.execute("DROP SCHEMA staging CASCADE")
