#include "batchsize.h"

void batch_policy_default(batch_policy *p)
{
    p->target = BATCH_DEFAULT_TARGET_S;
    p->min = BATCH_DEFAULT_MIN;
    p->max = BATCH_DEFAULT_MAX;
    p->pause = 0;
    p->lock_timeout = BATCH_DEFAULT_LOCK_TIMEOUT_S;
    p->max_lag = 0;
}

static long long clamp(const batch_policy *p, double n)
{
    if (n < (double)p->min)
        return p->min;
    if (n > (double)p->max)
        return p->max;
    return n < 1 ? 1 : (long long)n;
}

long long batch_first_size(const batch_policy *p, long long saved)
{
    return clamp(p, (double)(saved > 0 ? saved : BATCH_START_SIZE));
}

long long batch_next_size(const batch_policy *p, long long size, double seconds)
{
    double factor = BATCH_STEP_MAX;
    if (seconds > 0 && p->target > 0)
        factor = p->target / seconds;
    if (factor > BATCH_STEP_MAX)
        factor = BATCH_STEP_MAX;
    if (factor < 1 / BATCH_STEP_MAX)
        factor = 1 / BATCH_STEP_MAX;
    return clamp(p, (double)size * factor);
}

double batch_backoff_seconds(int attempt)
{
    double s = BATCH_BACKOFF_FIRST_S;
    for (int i = 1; i < attempt && s < BATCH_BACKOFF_MAX_S; i++)
        s *= 2;
    return s > BATCH_BACKOFF_MAX_S ? BATCH_BACKOFF_MAX_S : s;
}
