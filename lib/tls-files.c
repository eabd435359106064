/*
 * Copyright (c) 2026 The ovslb authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/*
 * tls-files: a daemon's TLS identity towards the config service (see the
 * header).
 */

#include <config.h>

#include "tls-files.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coverage.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream-ssl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tls_files);

COVERAGE_DEFINE(tls_files_load);
COVERAGE_DEFINE(tls_files_unreadable);

enum { TLS_KEY, TLS_CERT, TLS_CA, TLS_N_FILES };

static const char *const tls_file_names[TLS_N_FILES] = {
    "private key", "certificate", "CA certificate",
};

struct tls_files {
    char *paths[TLS_N_FILES];
    uint32_t given;             /* Signature of what stream-ssl was given. */
    uint32_t seen;              /* Signature at the last check. */
    long long int next_check;   /* Next check, ms of time_msec(). */
    char *error;                /* Files that cannot be read, or NULL. */
    unsigned int n_loads;       /* Times the files were given. */
};

/* Returns a hash of what the files look like now (their identity, size and
 * modification time, or why they cannot be seen), and sets 'tf->error' to
 * the files that cannot be read, if any. */
static uint32_t
tls_files_check(struct tls_files *tf)
{
    struct ds errors = DS_EMPTY_INITIALIZER;
    uint32_t hash = 0;

    for (size_t i = 0; i < TLS_N_FILES; i++) {
        const char *path = tf->paths[i];
        struct {
            uint64_t dev, ino, size, sec, nsec;
            int error;
        } id;
        struct stat s;

        memset(&id, 0, sizeof id);
        if (stat(path, &s)) {
            id.error = errno;
        } else {
            id.dev = s.st_dev;
            id.ino = s.st_ino;
            id.size = s.st_size;
            id.sec = s.st_mtim.tv_sec;
            id.nsec = s.st_mtim.tv_nsec;
            if (access(path, R_OK)) {
                id.error = errno;
            }
        }
        hash = hash_string(path, hash_bytes(&id, sizeof id, hash));
        if (id.error) {
            ds_put_format(&errors, "%scannot read the %s %s (%s)",
                          errors.length ? "; " : "", tls_file_names[i], path,
                          ovs_strerror(id.error));
        }
    }

    char *error = errors.length ? ds_steal_cstr(&errors) : NULL;
    ds_destroy(&errors);
    if (!nullable_string_is_equal(error, tf->error)) {
        if (error) {
            COVERAGE_INC(tls_files_unreadable);
            VLOG_ERR("TLS to the config service: %s", error);
        } else {
            VLOG_INFO("TLS to the config service: every file readable "
                      "again");
        }
    }
    free(tf->error);
    tf->error = error;
    return hash;
}

/* Gives stream-ssl the files, which re-reads those whose name or
 * modification time changed: the certificate before the key, which must
 * match it. */
static void
tls_files_give(struct tls_files *tf)
{
    COVERAGE_INC(tls_files_load);
    stream_ssl_set_certificate_file(tf->paths[TLS_CERT]);
    stream_ssl_set_private_key_file(tf->paths[TLS_KEY]);
    stream_ssl_set_ca_cert_file(tf->paths[TLS_CA], false);
    tf->given = tf->seen;
    tf->n_loads++;
    VLOG_INFO("TLS to the config service: private key %s, certificate %s, "
              "CA certificate %s", tf->paths[TLS_KEY], tf->paths[TLS_CERT],
              tf->paths[TLS_CA]);
}

/* Gives stream-ssl the PEM files 'private_key', 'certificate' and 'ca_cert'
 * (absolute paths) at once, at time 'now' (ms of time_msec()), and returns
 * what keeps them up to date. */
struct tls_files *
tls_files_create(const char *private_key, const char *certificate,
                 const char *ca_cert, long long int now)
{
    struct tls_files *tf = xzalloc(sizeof *tf);

    tf->paths[TLS_KEY] = xstrdup(private_key);
    tf->paths[TLS_CERT] = xstrdup(certificate);
    tf->paths[TLS_CA] = xstrdup(ca_cert);
    tf->seen = tls_files_check(tf);
    tls_files_give(tf);
    tf->next_check = now + TLS_FILES_CHECK_MS;
    return tf;
}

/* Frees 'tf'.  stream-ssl keeps what it was given.  A null 'tf' is a
 * no-op. */
void
tls_files_destroy(struct tls_files *tf)
{
    if (tf) {
        for (size_t i = 0; i < TLS_N_FILES; i++) {
            free(tf->paths[i]);
        }
        free(tf->error);
        free(tf);
    }
}

/* Checks the files if a check is due at 'now' and gives them to stream-ssl
 * again if they changed and then stayed the same for a whole check period.
 * Returns true if it gave them (the caller reconnects what uses them). */
bool
tls_files_run(struct tls_files *tf, long long int now)
{
    if (now < tf->next_check) {
        return false;
    }
    tf->next_check = now + TLS_FILES_CHECK_MS;

    uint32_t sig = tls_files_check(tf);
    if (sig != tf->seen) {
        tf->seen = sig;         /* Changed: give them once they settle. */
        return false;
    }
    if (sig != tf->given) {
        tls_files_give(tf);
        return true;
    }
    return false;
}

/* Arranges for the poll loop to wake when tls_files_run() has work. */
void
tls_files_wait(const struct tls_files *tf)
{
    poll_timer_wait_until(tf->next_check);
}

/* Returns a message naming the files that could not be read at the last
 * check, or NULL if they all could. */
const char *
tls_files_error(const struct tls_files *tf)
{
    return tf->error;
}

/* Returns how many times 'tf' gave the files to stream-ssl (1 after
 * tls_files_create()). */
unsigned int
tls_files_n_loads(const struct tls_files *tf)
{
    return tf->n_loads;
}

/* Appends to 's' a line naming the files, and one with the error if
 * there is one. */
void
tls_files_status(const struct tls_files *tf, struct ds *s)
{
    ds_put_format(s, "tls: private key %s, certificate %s, CA certificate "
                  "%s (%u loads)\n", tf->paths[TLS_KEY],
                  tf->paths[TLS_CERT], tf->paths[TLS_CA], tf->n_loads);
    if (tf->error) {
        ds_put_format(s, "tls: %s\n", tf->error);
    }
}
