"""typed"""
from typing import Sequence, Union

revision: str = "ab12"
down_revision: Union[str, None] = "cd34"
branch_labels: Union[str, Sequence[str], None] = None
