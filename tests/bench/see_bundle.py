#!/usr/bin/python3
"""A synthetic bundle for the history page's scale tests (report and serve
never open the .so files, so they are empty): N migrations in one chain, the
first needing the base of a chain of A Alembic revisions, and the SQL that
records 95% of them applied (one run each, two workers' worth of overlap),
one failed, and the Alembic head.

    see_bundle.py N A BUNDLE_DIR OUT.sql
"""
import os
import sys

n, a, bundle, out_sql = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
SHA = "5f1c" * 16
os.makedirs(bundle, mode=0o755, exist_ok=True)
os.chmod(bundle, 0o755)
alembic = ["a%04x" % i for i in range(a)]
lines = ["format: 1", "abi: 1", "migrations:"]
for i in range(n):
    rev = "D%05d" % (i + 1)
    dep = "D%05d" % i if i else alembic[0]
    lines += [
        "- revision: %s" % rev,
        "  file: %s.so" % rev,
        "  sha256: %s" % SHA,
        "  identity: %s" % SHA,
        "  description: Load table %d of the staging area" % (i + 1),
        "  depends_on: [%s]" % dep,
    ]
    if not i:
        lines.append("  alembic: [%s]" % dep)
    path = os.path.join(bundle, rev + ".so")
    open(path, "wb").close()
    os.chmod(path, 0o644)
lines += ["alembic:", "  version_table: alembic_version", "  graph:"]
for i, r in enumerate(alembic):
    lines.append("    %s: [%s]" % (r, alembic[i - 1] if i else ""))
with open(os.path.join(bundle, "manifest.yaml"), "w") as f:
    f.write("\n".join(lines) + "\n")
os.chmod(os.path.join(bundle, "manifest.yaml"), 0o644)

applied = n * 95 // 100
with open(out_sql, "w") as f:
    f.write("""
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('%s');
CREATE TABLE delembic_version (revision text PRIMARY KEY, applied_at timestamptz, status text,
  execution_time_seconds double precision, checksum text, hold text);
CREATE TABLE delembic_run_history (id serial PRIMARY KEY, revision text, started_at timestamptz,
  ended_at timestamptz, duration_seconds double precision, status text, exception text,
  username text, hostname text, checksum text);
INSERT INTO delembic_run_history (revision, started_at, ended_at, duration_seconds, status, username, hostname, checksum)
  SELECT 'D' || lpad(g::text, 5, '0'), t0 + (g / 2) * interval '20 ms', t0 + (g / 2 + 1) * interval '20 ms',
         0.02, 'success', 'bench', 'localhost', '%s'
  FROM generate_series(1, %d) g, (SELECT now() - interval '1 hour' AS t0) s;
INSERT INTO delembic_version SELECT revision, ended_at, 'success', duration_seconds, checksum, NULL
  FROM delembic_run_history;
INSERT INTO delembic_run_history (revision, started_at, ended_at, duration_seconds, status, exception, username, hostname)
  VALUES ('D%05d', now() - interval '10 min', now() - interval '9 min', 60, 'failed', 'the load failed: no rows', 'bench', 'localhost');
INSERT INTO delembic_version VALUES ('D%05d', now(), 'failed', 60, NULL, NULL);
""" % (alembic[-1], SHA, applied, applied + 1, applied + 1))
