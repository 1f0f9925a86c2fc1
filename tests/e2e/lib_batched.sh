# Helpers of the batched-migration tests (sourced after lib.sh).

# batch settings for the section: batch_setting KEY VALUE
batch_setting() {
    printf '  %s: %s\n' "$1" "$2" >>delembic.yaml
}

# t(id bigint primary key, n int): N rows, n = 0
int_table() {
    sql "CREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);
         INSERT INTO t (id) SELECT g FROM generate_series(1, $1) g; ANALYZE t"
}

# a dm_batch_update migration: REV TABLE KEY SET WHERE(C) VALIDATE(SQL)
bmig() {
    use_plugin batched_update "$1" TABLE="$2" KEY="$3" SET="$4" WHERE="$5" VALIDATE="$6"
}
