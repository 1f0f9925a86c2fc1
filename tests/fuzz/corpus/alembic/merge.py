revision = 'm1'
down_revision = (
    'a',
    'b',
)
