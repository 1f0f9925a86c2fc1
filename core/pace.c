#include "pace.h"

#include <stdio.h>
#include <string.h>

#define SECONDS_PER_MINUTE 60.0
#define SECONDS_PER_HOUR 3600.0
#define SECONDS_PER_DAY 86400.0
#define BYTES_PER_KB 1000.0 /* decimal units, as df -H and the file size people compare with */

void pace_sample(pace *p, double t, long long done)
{
    if (!p->started || done < p->done) { /* a restart counts from here */
        p->t0 = p->t = t;
        p->done0 = p->done = done;
        p->started = 1;
        return;
    }
    p->t = t;
    p->done = done;
}

double pace_rate(const pace *p)
{
    double secs = p->t - p->t0;
    if (!p->started || secs < PACE_MIN_SECONDS || p->done <= p->done0)
        return -1;
    return (double)(p->done - p->done0) / secs;
}

double pace_percent(long long done, long long total)
{
    if (total <= 0)
        return -1;
    double pc = 100.0 * (double)done / (double)total;
    return pc < 0 ? 0 : pc > 100 ? 100 : pc;
}

double pace_eta(long long done, long long total, double rate)
{
    if (total <= 0)
        return -1;
    if (done >= total)
        return 0;
    if (!(rate > 0))
        return -1;
    return (double)(total - done) / rate;
}

double pace_checkpoint_rate(long long rows_done, double started_epoch, double updated_epoch,
                            long long batch_size, double last_batch_seconds, double pause_seconds)
{
    if (pause_seconds < 0)
        pause_seconds = 0;
    if (batch_size > 0 && last_batch_seconds > 0)
        return (double)batch_size / (last_batch_seconds + pause_seconds);
    double secs = updated_epoch - started_epoch;
    if (rows_done > 0 && secs > 0)
        return (double)rows_done / secs;
    return -1;
}

/* the least whole number >= x (x >= 0, well within long long) */
static double up(double x)
{
    long long w = (long long)x;
    return (double)w < x ? (double)(w + 1) : (double)w;
}

void pace_format_left(double seconds, char *buf, size_t n)
{
    if (!(seconds >= 0) || seconds > PACE_LEFT_MAX_SECONDS) {
        snprintf(buf, n, "unknown");
        return;
    }
    double s = up(seconds);
    if (s < SECONDS_PER_MINUTE)
        snprintf(buf, n, "%.0f s", s);
    else if (s < SECONDS_PER_HOUR)
        snprintf(buf, n, "%.0f min", up(s / SECONDS_PER_MINUTE));
    else if (s < SECONDS_PER_DAY) {
        long m = (long)up(s / SECONDS_PER_MINUTE);
        snprintf(buf, n, "%ld h %02ld min", m / 60, m % 60);
    } else {
        long h = (long)up(s / SECONDS_PER_HOUR);
        snprintf(buf, n, "%ld d %02ld h", h / 24, h % 24);
    }
}

static int is_bytes(const char *unit)
{
    return unit && !strcmp(unit, "bytes");
}

static void format_bytes(double b, const char *suffix, char *buf, size_t n)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    size_t u = 0;
    while (b >= BYTES_PER_KB && u + 1 < sizeof units / sizeof units[0]) {
        b /= BYTES_PER_KB;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f %s%s", b, units[u], suffix);
    else
        snprintf(buf, n, "%.1f %s%s", b, units[u], suffix);
}

void pace_format_amount(long long amount, const char *unit, char *buf, size_t n)
{
    if (is_bytes(unit))
        format_bytes((double)amount, "", buf, n);
    else
        snprintf(buf, n, "%lld%s%s", amount, unit && *unit ? " " : "", unit ? unit : "");
}

void pace_format_rate(double rate, const char *unit, char *buf, size_t n)
{
    if (is_bytes(unit))
        format_bytes(rate, "/s", buf, n);
    else
        snprintf(buf, n, "%.0f %s/s", rate, unit && *unit ? unit : "units");
}
