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
 * Unit tests of tls-files: files that cannot be read are named, a replaced
 * file is given to stream-ssl again once it has settled (not while it may
 * be half-written), and not at all when nothing changed.  What OpenSSL
 * makes of real PEM files is tested with ovsdb-server by tests/tls-config.sh.
 */
#include <config.h>
#include "tls-files.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"

static char tmpdir[64];
static char *key, *cert, *ca;

static void
write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void
setup(void)
{
    ovs_strlcpy(tmpdir, "/tmp/check-tls-files.XXXXXX", sizeof tmpdir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    key = xasprintf("%s/node-privkey.pem", tmpdir);
    cert = xasprintf("%s/node-cert.pem", tmpdir);
    ca = xasprintf("%s/cacert.pem", tmpdir);
    /* OpenSSL's complaints about these files are not the subject. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
}

static void
teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);

    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(key);
    free(cert);
    free(ca);
}

START_TEST(test_missing_files)
{
    struct tls_files *tf;
    struct ds s = DS_EMPTY_INITIALIZER;

    write_file(ca, "ca\n");
    tf = tls_files_create(key, cert, ca, 0);
    ck_assert_uint_eq(tls_files_n_loads(tf), 1);
    ck_assert_ptr_nonnull(tls_files_error(tf));
    ck_assert_msg(strstr(tls_files_error(tf), "cannot read the private key")
                  && strstr(tls_files_error(tf), key)
                  && strstr(tls_files_error(tf), "No such file"),
                  "%s", tls_files_error(tf));
    ck_assert_msg(strstr(tls_files_error(tf), "cannot read the certificate")
                  && strstr(tls_files_error(tf), cert),
                  "%s", tls_files_error(tf));
    ck_assert_msg(!strstr(tls_files_error(tf), "CA certificate"), "%s",
                  tls_files_error(tf));

    tls_files_status(tf, &s);
    ck_assert_msg(strstr(ds_cstr(&s), "(1 loads)")
                  && strstr(ds_cstr(&s), "tls: cannot read the private key"),
                  "%s", ds_cstr(&s));
    ds_destroy(&s);

    /* The files appear: the error goes at the next check, and they are
     * given once they look the same at two checks in a row. */
    write_file(key, "key\n");
    write_file(cert, "cert\n");
    ck_assert(!tls_files_run(tf, TLS_FILES_CHECK_MS - 1));
    ck_assert_ptr_nonnull(tls_files_error(tf));
    ck_assert(!tls_files_run(tf, TLS_FILES_CHECK_MS));
    ck_assert_ptr_null(tls_files_error(tf));
    ck_assert_uint_eq(tls_files_n_loads(tf), 1);
    ck_assert(tls_files_run(tf, 2 * TLS_FILES_CHECK_MS));
    ck_assert_uint_eq(tls_files_n_loads(tf), 2);

    /* Nothing changed: not given again. */
    ck_assert(!tls_files_run(tf, 3 * TLS_FILES_CHECK_MS));
    ck_assert(!tls_files_run(tf, 4 * TLS_FILES_CHECK_MS));
    ck_assert_uint_eq(tls_files_n_loads(tf), 2);

    /* A file removed: named again. */
    ck_assert_int_eq(unlink(cert), 0);
    ck_assert(!tls_files_run(tf, 5 * TLS_FILES_CHECK_MS));
    ck_assert_msg(tls_files_error(tf)
                  && strstr(tls_files_error(tf), "certificate"), "%s",
                  tls_files_error(tf));
    tls_files_destroy(tf);
    tls_files_destroy(NULL);
}
END_TEST

START_TEST(test_renewal_settles)
{
    struct tls_files *tf;

    write_file(key, "key\n");
    write_file(cert, "cert\n");
    write_file(ca, "ca\n");
    tf = tls_files_create(key, cert, ca, 0);
    ck_assert_ptr_null(tls_files_error(tf));

    /* The key renewed, then the certificate one check later: nothing is
     * given until both have stayed the same for a whole period. */
    write_file(key, "new key\n");
    ck_assert(!tls_files_run(tf, TLS_FILES_CHECK_MS));
    write_file(cert, "new certificate\n");
    ck_assert(!tls_files_run(tf, 2 * TLS_FILES_CHECK_MS));
    ck_assert_uint_eq(tls_files_n_loads(tf), 1);
    ck_assert(tls_files_run(tf, 3 * TLS_FILES_CHECK_MS));
    ck_assert_uint_eq(tls_files_n_loads(tf), 2);

    /* The CA certificate alone. */
    write_file(ca, "another ca\n");
    ck_assert(!tls_files_run(tf, 4 * TLS_FILES_CHECK_MS));
    ck_assert(tls_files_run(tf, 5 * TLS_FILES_CHECK_MS));
    ck_assert(!tls_files_run(tf, 6 * TLS_FILES_CHECK_MS));
    ck_assert_uint_eq(tls_files_n_loads(tf), 3);
    tls_files_destroy(tf);
}
END_TEST

static Suite *
tls_files_suite(void)
{
    Suite *s = suite_create("tls-files");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_missing_files);
    tcase_add_test(tc, test_renewal_settles);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(tls_files_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
