"""OMOP CDM tables

Revision ID: 3d1e3e6abc12
Revises: 9a0b1c2d3e4f
Create Date: 2026-11-27 09:05:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "3d1e3e6abc12"
down_revision: Union[str, None] = "9a0b1c2d3e4f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""CREATE TABLE concept (
        concept_id bigint PRIMARY KEY, concept_name text NOT NULL, domain_id text NOT NULL,
        vocabulary_id text NOT NULL, concept_class_id text NOT NULL, standard_concept text,
        concept_code text NOT NULL, valid_start_date date NOT NULL, valid_end_date date NOT NULL,
        invalid_reason text)""")
    op.execute("CREATE INDEX concept_code_idx ON concept (vocabulary_id, concept_code)")
    op.execute("""CREATE TABLE person (
        person_id bigint PRIMARY KEY, birth_year int NOT NULL, gender_source_value text)""")
    op.execute("""CREATE TABLE drug_exposure (
        drug_exposure_id bigint PRIMARY KEY, person_id bigint NOT NULL,
        drug_concept_id bigint NOT NULL, drug_exposure_start_date date NOT NULL)""")


def downgrade() -> None:
    op.execute("DROP TABLE drug_exposure, person, concept")
