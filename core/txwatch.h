/* What a migration's commands did to the host's transaction, read from the
 * results they produced on the worker's connection. The worker's libpq event
 * procedure hands every result here in order (whatever libpq call the plugin
 * used), so the worker knows, when a callback returns, whether the plugin
 * left the transaction the host opened, and whether anything it ran after
 * that may have committed on its own (autocommitted, or in a transaction it
 * began and committed): such work is held, never run again by itself.
 *
 * libpq reports the transaction status only at the end of a query string, so
 * this reads command tags (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...) and server
 * errors instead:
 *  - the host's transaction ends at a COMMIT or ROLLBACK tag, at PREPARE
 *    TRANSACTION, at a PQreset, or at a server error after which a command
 *    other than ROLLBACK succeeds (in an aborted transaction nothing else
 *    can: the error was the end, a COMMIT the guard refused). After a
 *    SAVEPOINT, a ROLLBACK tag is taken for ROLLBACK TO SAVEPOINT;
 *  - outside it the worker's session is read-only (the worker sets
 *    default_transaction_read_only), so a command that succeeds there wrote
 *    nothing durable (temporary tables aside), unless the session was made
 *    read-write (SET or RESET after the end, default_transaction_read_only
 *    reported off, a reset connection that could not be made read-only):
 *    then any command but a harmless one (SET, SHOW, LISTEN, ...) may have
 *    committed. A transaction the plugin began, or the chained one that a
 *    ROLLBACK or COMMIT AND CHAIN opens (read-write like the host's), commits
 *    only with a COMMIT tag, which then counts when it ran anything.
 * Pure: no I/O. */
#ifndef DEL_TXWATCH_H
#define DEL_TXWATCH_H

#define TXWATCH_TEXT 256

typedef struct txwatch {
    /* the host's transaction, for the running migration (txwatch_begin) */
    int outside;          /* it has ended */
    int savepoints;       /* SAVEPOINTs seen in it */
    int errored;          /* a server error since: aborted, or ended (a refused COMMIT) */
    int own;              /* outside: in a transaction of the plugin's own (BEGIN) */
    int chain;            /* outside: maybe in the chained transaction of a ROLLBACK or
                             COMMIT AND CHAIN */
    int own_ran;          /* ... either of which ran something */
    int rw;               /* outside: the session may be read-write */
    int may_commit;       /* something may have committed outside the host's transaction */
    int reset;            /* the connection was reset (PQreset) */
    char ended_by[2 * TXWATCH_TEXT]; /* how it ended, in words for a message */
    char error[TXWATCH_TEXT];     /* the first server error since it was last healthy */
    /* session state (kept across migrations until the worker clears it) */
    int suspect;          /* PREPARE, LISTEN, DECLARE CURSOR, DO, CALL or a protocol-level
                             prepare: the next transaction opens with the checked form */
    int host_objects;     /* DEALLOCATE or DISCARD: the host's prepared statements or its
                             guard may be gone */
} txwatch;

/* A migration starts, in the host's freshly opened transaction. */
void txwatch_begin(txwatch *w);
/* A command completed: tag is its command tag ("INSERT 0 1", "COMMIT", ""
 * for a protocol-level prepare or describe). */
void txwatch_ok(txwatch *w, const char *tag);
/* The server refused a command (message: its primary message). */
void txwatch_error(txwatch *w, const char *message);
/* The connection was reset: a new session, outside any transaction,
 * read-only if the worker could make it so. */
void txwatch_reset(txwatch *w, int read_only);
/* The callback returned with the session outside any transaction: if no
 * tag said so, a server error ended it (a COMMIT the guard refused). */
void txwatch_idle(txwatch *w);
/* The server reported default_transaction_read_only off. */
void txwatch_read_write(txwatch *w);

#endif
