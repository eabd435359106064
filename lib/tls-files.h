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

/* tls-files: a daemon's TLS identity towards the config service, given to
 * libopenvswitch's stream-ssl (the "ssl:" streams) and kept up to date.
 *
 * A node names three PEM files in its settings (node-settings.h): its
 * private key, its certificate, and the CA certificate that the config
 * service's certificate must be signed by.  tls_files_create() gives them
 * to stream-ssl at once; tls_files_run() then checks them once every
 * TLS_FILES_CHECK_MS and gives them again when one was replaced, so that
 * renewed certificates take effect without a restart.  A replaced file is
 * given only once the three files have looked the same at two checks in a
 * row, and the certificate before the key: a key and certificate written
 * one after the other are never loaded half-renewed (OpenSSL refuses a key
 * that does not match the certificate it already has).
 *
 * stream-ssl's settings belong to the whole process, so a process has at
 * most one 'struct tls_files' at a time.  A file that cannot be read is
 * reported by tls_files_error() (and logged once); what OpenSSL thinks of
 * the contents is logged by stream-ssl, and an ssl: connection made
 * without a usable identity fails with ENOPROTOOPT.
 *
 * Single-threaded: call everything from the thread that runs the loop. */

#ifndef OVSLB_TLS_FILES_H
#define OVSLB_TLS_FILES_H 1

#include <stdbool.h>

struct ds;

#define TLS_FILES_CHECK_MS 1000

struct tls_files *tls_files_create(const char *private_key,
                                   const char *certificate,
                                   const char *ca_cert, long long int now);
void tls_files_destroy(struct tls_files *);
bool tls_files_run(struct tls_files *, long long int now);
void tls_files_wait(const struct tls_files *);
const char *tls_files_error(const struct tls_files *);
unsigned int tls_files_n_loads(const struct tls_files *);
void tls_files_status(const struct tls_files *, struct ds *);

#endif /* tls-files.h */
