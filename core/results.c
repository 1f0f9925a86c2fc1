/* What results share (results.h). */
#include "results.h"

del_outcome del_outcome_of(int code, const del_err *err)
{
    if (!code)
        return (del_outcome){0};
    return (del_outcome){.exit_code = del_exit_code(err),
                         .error = err->msg[0] ? err->msg : NULL,
                         .error_kind = del_kind_name(err->kind),
                         .hint = err->hint[0] ? err->hint : NULL};
}
