/* `delembic serve`: the history page, live, over HTTP (libmicrohttpd).
 *
 *   GET /                  the page (report's), polling the status itself
 *   GET /?part=content     the page's refreshing part (what the poll swaps in)
 *   GET /api/status.json   history --json's document, plus the summary, the
 *                          run in progress and a fingerprint of it all
 *
 * Read-only: its database session is default_transaction_read_only, and it
 * answers GET and HEAD only. It binds to the loopback address by default;
 * another address needs --token (then every request carries it, as
 * "Authorization: Bearer T" or ?token=T); without a token, a request whose
 * Host is not the loopback address it serves on is refused (a web page that
 * rebinds a name to 127.0.0.1 reads nothing). Every response carries a
 * Content-Security-Policy without 'unsafe-inline'. SIGINT and SIGTERM stop it:
 * the request under way ends, the database session closes, exit 0. */
#ifndef DEL_CMD_SERVE_H
#define DEL_CMD_SERVE_H

#include "app.h"

#define SERVE_DEFAULT_PORT 8800
#define SERVE_DEFAULT_BIND "127.0.0.1"
#define SERVE_TOKEN_MIN 16          /* characters a --token must have at least */
#define SERVE_CONNECTION_LIMIT 64   /* connections at once */
#define SERVE_CONNECTION_TIMEOUT_S 30

typedef struct serve_args {
    const char *bind;    /* NULL: SERVE_DEFAULT_BIND */
    int port;            /* -1: SERVE_DEFAULT_PORT; 0: any free port */
    const char *token;   /* NULL: none */
} serve_args;

int cmd_serve(app *a, const serve_args *s, del_err *err);

#endif
