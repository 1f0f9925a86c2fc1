/* Hostile text for a terminal: a dm_log line and a dm_fail message that try
 * to clear the screen (ESC [2J), return the cursor (CR), forge an "OK" line
 * and a "Running" line (newline), and send 8-bit CSI (C1 U+009B, raw byte
 * 0x9b). @FAIL@: 1 to fail, 0 to succeed. (build refuses such text in a
 * descriptor: a hostile description comes from a vendor's manifest.yaml,
 * see hostile_descriptions in test_surface.sh.) */
#include <delembic/plugin.h>

#define HOSTILE "\033[2J\r  OK (9.99s)\nRunning FAKE: forged\x7f\xc2\x9b" "31m"

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    (void)conn;
    dm_log(ctx, "log " HOSTILE "\x9b" "1m");
    if (@FAIL@) {
        dm_fail(ctx, "fail " HOSTILE "\x9b" "1m");
        return -1;
    }
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "desc",
             .upgrade = upgrade);
