/* How a batched migration (DM_BATCHED) is paced: the section's settings
 * (batch_target, batch_min, batch_max, batch_pause, batch_lock_timeout,
 * max_replication_lag), the size of the first batch, the next size from how
 * long the last one took (toward batch_target, as GitLab's batch optimizer
 * does: scaled by target/actual, at most BATCH_STEP_MAX times up or
 * 1/BATCH_STEP_MAX down per step, within batch_min..batch_max), and the wait
 * before retrying a batch that timed out on a lock. Pure: no I/O. */
#ifndef DEL_BATCHSIZE_H
#define DEL_BATCHSIZE_H

#define BATCH_DEFAULT_TARGET_S 0.5
#define BATCH_DEFAULT_MIN 100LL
#define BATCH_DEFAULT_MAX 1000000LL
#define BATCH_DEFAULT_LOCK_TIMEOUT_S 2.0
#define BATCH_START_SIZE 1000LL    /* the first batch, clamped to min..max */
#define BATCH_SIZE_LIMIT 1000000000LL /* the largest batch_min/batch_max accepted */
#define BATCH_STEP_MAX 2.0         /* one step changes the size at most 2x either way */
/* A batch that timed out on a lock (SQLSTATE 55P03) is rolled back and tried
 * again after a backoff (BATCH_BACKOFF_FIRST_S, doubling, at most
 * BATCH_BACKOFF_MAX_S), at most BATCH_LOCK_RETRIES times in a row. */
#define BATCH_LOCK_RETRIES 5
#define BATCH_BACKOFF_FIRST_S 0.2
#define BATCH_BACKOFF_MAX_S 5.0
/* How often the lag of the replicas is read again while it is too high. */
#define BATCH_LAG_POLL_S 0.5

typedef struct batch_policy {
    double target;        /* seconds per batch */
    long long min, max;   /* rows per batch */
    double pause;         /* seconds between batches */
    double lock_timeout;  /* seconds; each batch's lock_timeout */
    double max_lag;       /* seconds of replica replay lag; 0: not checked */
} batch_policy;

/* The defaults above, no pause, no lag check. */
void batch_policy_default(batch_policy *p);
/* The first batch: the size saved in the checkpoint (> 0) or
 * BATCH_START_SIZE, within min..max. */
long long batch_first_size(const batch_policy *p, long long saved);
/* The next batch after one of size rows that took seconds. */
long long batch_next_size(const batch_policy *p, long long size, double seconds);
/* The wait before retry attempt (1, 2, ...) of a batch that timed out on a lock. */
double batch_backoff_seconds(int attempt);

#endif
