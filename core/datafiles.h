/* The files of a bundle's data/ folder, pinned in manifest.yaml (data:) by
 * sha256 and size: build and `manifest` list them (datafiles_scan); verify
 * and upgrade refuse a missing, extra or changed one before anything runs
 * (datafiles_check); and while a migration runs, the worker hashes what
 * dm_copy_file streams and compares it at the end (datafiles_stream_*), so a
 * file swapped after the check is still caught. The folder is flat, as build
 * copies it: regular files directly in data/. */
#ifndef DEL_DATAFILES_H
#define DEL_DATAFILES_H

#include <stddef.h>

#include "err.h"
#include "manifest.h"

/* The data files a bundle may hold (a larger folder is refused). */
#define DATAFILES_MAX 100000

/* Replace mf's data list with the files in bundle_dir/data (none when there
 * is no such folder), in natural order, each hashed. Anything there that is
 * not a regular file (a link, a folder, a FIFO) is refused, naming it. */
int datafiles_scan(const char *bundle_dir, manifest *mf, del_err *err);

/* Each problem, one line naming the file and what to do. */
typedef void (*datafiles_report_fn)(void *ud, const char *message);

/* Check bundle_dir/data against mf: every listed file present, a regular
 * file with the listed size (and, when hash, sha256); nothing there that is
 * not listed. Without report: stop at the first problem (-1, err). With
 * report: every problem goes to it and the return is -1 when there was one.
 * (upgrade checks sizes always and hashes only when it runs something, so a
 * no-op upgrade stays cheap whatever the size of data/.) */
int datafiles_check(const char *bundle_dir, const manifest *mf, int hash, datafiles_report_fn report,
                    void *ud, del_err *err);

/* Checking one data file as it streams. */
typedef struct datafiles_stream datafiles_stream;

/* path (as the plugin opens it) resolved against bundle_dir: *out is NULL
 * (and 0 returned) when it is not a file of bundle_dir/data; -1 (err) when
 * it is one that manifest.yaml does not list. */
int datafiles_stream_begin(const char *bundle_dir, const manifest *mf, const char *path,
                           datafiles_stream **out, del_err *err);
void datafiles_stream_update(datafiles_stream *s, const void *buf, size_t n);
/* 0 when the bytes seen have the manifest's size and sha256; -1 (err naming
 * the file) otherwise. Frees s (NULL is fine). */
int datafiles_stream_end(datafiles_stream *s, del_err *err);

#endif
