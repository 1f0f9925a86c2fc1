/* The pace of a long piece of work (a batched migration, a COPY): its
 * percent, how fast it goes and about how long is left, from what was done
 * when, and the words for them. Pure: no I/O, no clock (callers pass the
 * times). The live progress line (cli/render_text.c) and history/show of a
 * batched migration under way (cmd_status.c, cmd_ops.c) use it. */
#ifndef DEL_PACE_H
#define DEL_PACE_H

#include <stddef.h>

/* no rate before this many seconds of samples: the first batches say little */
#define PACE_MIN_SECONDS 1.0

typedef struct pace {
    double t0, t;          /* the first sample's time and the latest's (seconds) */
    long long done0, done; /* what was done then */
    int started;
} pace;

/* A sample: done units at time t (the first one starts the pace). */
void pace_sample(pace *p, double t, long long done);
/* Units per second since the first sample; -1 while unknown (under
 * PACE_MIN_SECONDS, or nothing done since). */
double pace_rate(const pace *p);
/* Percent of total done (0..100); -1 when total is unknown (<= 0). */
double pace_percent(long long done, long long total);
/* Seconds left to reach total at rate; -1 when unknown (no total, no rate);
 * 0 once done reaches total. */
double pace_eta(long long done, long long total, double rate);
/* A batched migration's rate from its checkpoint: batch_size rows every
 * last_batch_seconds + pause_seconds (the pace of its latest batch: pauses
 * between runs do not slow it); else rows_done over the seconds between its
 * first and latest batch; -1 when neither is known. */
double pace_checkpoint_rate(long long rows_done, double started_epoch, double updated_epoch,
                            long long batch_size, double last_batch_seconds, double pause_seconds);
/* beyond this, a time left says nothing (a pace of a few rows an hour) */
#define PACE_LEFT_MAX_SECONDS (1000.0 * 86400.0)
/* "5 s", "4 min", "2 h 05 min", "3 d 04 h" (rounded up to the unit shown);
 * "unknown" for a negative time (unknown) or one over PACE_LEFT_MAX_SECONDS. */
void pace_format_left(double seconds, char *buf, size_t n);
/* An amount with its unit: "1234567 rows"; bytes as "12.3 MB". */
void pace_format_amount(long long amount, const char *unit, char *buf, size_t n);
/* A rate with its unit: "2345 rows/s"; bytes as "8.1 MB/s". */
void pace_format_rate(double rate, const char *unit, char *buf, size_t n);

#endif
