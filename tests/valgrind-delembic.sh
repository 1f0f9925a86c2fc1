#!/bin/bash
# Runs the built delembic under valgrind memcheck (used by tests/run.sh with
# VALGRIND=1): any error, or any definite leak, makes it exit 99 and leaves a
# report in $VALGRIND_LOG_DIR. No gdbserver (--vgdb=no): its FIFOs in /tmp
# would outlive a delembic killed with -9.
# graph, report and serve run in delembic-see (delembic would exec it, and
# valgrind does not follow an exec): run that one directly.
real=${DELEMBIC_REAL:?}
for arg in "$@"; do
    case $arg in
    graph | report | serve) real=$(dirname "$real")/delembic-see; break ;;
    esac
done
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --track-fds=no --vgdb=no \
    --suppressions="$(dirname "$0")/graphviz.supp" \
    --log-file="${VALGRIND_LOG_DIR:-/tmp}/vg.%p.log" \
    "$real" "$@"
