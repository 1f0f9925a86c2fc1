#include "pqguard.h"

#include <dlfcn.h>
#include <stddef.h>

/* Process-wide by nature: PQfinish has no context argument. */
static PGconn *guarded;
static int refused;

void pqguard_protect(PGconn *conn)
{
    guarded = conn;
    refused = 0;
}

int pqguard_refused(void)
{
    int n = refused;
    refused = 0;
    return n;
}

void pqguard_release(void)
{
    guarded = NULL;
    refused = 0;
}

typedef void (*pqfinish_fn)(PGconn *);

void PQfinish(PGconn *conn)
{
    if (conn && conn == guarded) {
        refused++;
        return;
    }
    static pqfinish_fn real;
    if (!real) {
        /* the next definition after this executable's: libpq's */
        void *sym = dlsym(RTLD_NEXT, "PQfinish");
        if (!sym)
            return; /* cannot happen with libpq linked; leak rather than crash */
        *(void **)&real = sym;
    }
    real(conn);
}
