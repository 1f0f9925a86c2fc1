#include "txwatch.h"

#include <stdio.h>
#include <string.h>

/* tag is word, or word followed by a space and more ("INSERT 0 1") */
static int tag_is(const char *tag, const char *word)
{
    size_t n = strlen(word);
    return !strncmp(tag, word, n) && (tag[n] == '\0' || tag[n] == ' ');
}

/* Commands that change only the session, never data: outside the host's
 * transaction they cannot have committed anything. */
static int harmless(const char *tag)
{
    static const char *const words[] = {
        "SET", "RESET", "SHOW", "DISCARD", "DEALLOCATE", "PREPARE", "LISTEN", "UNLISTEN", "NOTIFY",
        "SAVEPOINT", "RELEASE", "DECLARE", "FETCH", "MOVE", "CLOSE", "LOAD",
    };
    if (!*tag)
        return 1; /* a protocol-level prepare or describe */
    if (!strcmp(tag, "PREPARE TRANSACTION"))
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tag_is(tag, words[i]))
            return 1;
    return 0;
}

void txwatch_begin(txwatch *w)
{
    int suspect = w->suspect, host_objects = w->host_objects;
    memset(w, 0, sizeof *w);
    w->suspect = suspect;
    w->host_objects = host_objects;
}

/* The host's transaction ended; how says by what, in words for a message. */
static void ended(txwatch *w, const char *how)
{
    w->outside = 1;
    w->errored = 0;
    w->own = w->own_ran = 0;
    /* COMMIT AND CHAIN and ROLLBACK AND CHAIN say COMMIT and ROLLBACK: a
     * transaction like the host's (read-write) may follow */
    w->chain = !strcmp(how, "it ran ROLLBACK") || !strcmp(how, "it ran COMMIT");
    if (!strcmp(how, "refused"))
        snprintf(w->ended_by, sizeof w->ended_by, "its COMMIT failed: %.*s", TXWATCH_TEXT, w->error);
    else if (w->error[0])
        snprintf(w->ended_by, sizeof w->ended_by, "a statement failed (%.*s), then %.*s", TXWATCH_TEXT, w->error,
                 TXWATCH_TEXT / 2, how);
    else
        snprintf(w->ended_by, sizeof w->ended_by, "%.*s", TXWATCH_TEXT, how);
}

/* Session state the commit does not undo by itself (see worker.c). */
static void session_state(txwatch *w, const char *tag)
{
    static const char *const suspects[] = {"PREPARE", "LISTEN", "DECLARE CURSOR", "DO", "CALL"};
    if (!*tag)
        w->suspect = 1;
    for (size_t i = 0; i < sizeof suspects / sizeof suspects[0]; i++)
        if (!strcmp(tag, suspects[i]))
            w->suspect = 1;
    if (tag_is(tag, "DEALLOCATE") || tag_is(tag, "DISCARD"))
        w->host_objects = 1;
}

void txwatch_ok(txwatch *w, const char *tag)
{
    if (!tag)
        tag = "";
    session_state(w, tag);
    if (!w->outside) {
        if (!strcmp(tag, "COMMIT") || !strcmp(tag, "PREPARE TRANSACTION")) {
            /* it committed (past the guard), or can be committed by anyone */
            ended(w, !strcmp(tag, "COMMIT") ? "it ran COMMIT" : "it ran PREPARE TRANSACTION");
            w->may_commit = 1;
            return;
        }
        if (!strcmp(tag, "ROLLBACK")) {
            if (w->savepoints) { /* ROLLBACK TO SAVEPOINT: healthy again */
                w->errored = 0;
                w->error[0] = '\0';
            } else {
                ended(w, "it ran ROLLBACK");
            }
            return;
        }
        if (!w->errored) {
            if (!strcmp(tag, "SAVEPOINT"))
                w->savepoints++;
            return;
        }
        /* a success after a server error: the error ended it (a COMMIT that
         * was refused); this command ran outside */
        ended(w, "refused");
    }
    if (!strcmp(tag, "BEGIN") || !strcmp(tag, "START TRANSACTION")) {
        if (!w->own && !w->chain)
            w->own_ran = 0;
        if (!w->chain)
            w->own = 1; /* (a BEGIN inside a transaction changes nothing) */
        return;
    }
    if (!strcmp(tag, "COMMIT") || !strcmp(tag, "COMMIT PREPARED")) {
        if (((w->own || w->chain) && w->own_ran) || !strcmp(tag, "COMMIT PREPARED"))
            w->may_commit = 1;
        w->own = w->chain = w->own_ran = 0;
        return;
    }
    if (!strcmp(tag, "ROLLBACK") || !strcmp(tag, "ROLLBACK PREPARED")) {
        w->own = w->chain = w->own_ran = 0;
        return;
    }
    if (harmless(tag)) {
        if (tag_is(tag, "SET") || tag_is(tag, "RESET") || !strcmp(tag, "DISCARD ALL"))
            w->rw = 1; /* it may have turned read-write on */
        return;
    }
    if (w->own)
        w->own_ran = 1; /* commits only with a COMMIT */
    else if (w->rw)
        w->may_commit = 1; /* autocommitted in a read-write session (or chained) */
    else if (w->chain)
        w->own_ran = 1; /* it succeeded, so it runs in the chained transaction */
    /* else autocommitted in a read-only session: it wrote nothing durable */
}

void txwatch_error(txwatch *w, const char *message)
{
    if (w->outside)
        return; /* its own transaction is aborted: its COMMIT says ROLLBACK */
    if (!w->errored && !w->error[0])
        snprintf(w->error, sizeof w->error, "%s", message && *message ? message : "a statement failed");
    w->errored = 1;
}

void txwatch_reset(txwatch *w, int read_only)
{
    w->error[0] = '\0';
    if (!w->outside)
        ended(w, "it reset the connection (PQreset)");
    w->own = w->chain = w->own_ran = 0;
    w->rw = !read_only;
    w->reset = 1;
}

void txwatch_read_write(txwatch *w)
{
    w->rw = 1;
}

void txwatch_idle(txwatch *w)
{
    if (!w->outside)
        ended(w, w->errored ? "refused" : "it ended the transaction");
}
