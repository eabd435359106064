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

/* check-entry-key: the tracker entries' compact keys
 * (controller/entry-key.c): a key gives its CP back, keys of one VIP end
 * share its index, an end is forgotten with its last entry and its index
 * reused, and a full table refuses a new end. */
#include <config.h>

#include <check.h>
#include <stdlib.h>

#include "controller/entry-key.h"
#include "packets.h"
#include "util.h"

static struct flow_key
cp_v4(uint32_t client, uint16_t client_port, uint32_t vip, uint16_t port,
      uint8_t proto)
{
    struct flow_key cp;

    flow_key_init_v4(&cp, htonl(client), htons(client_port), htonl(vip),
                     htons(port), proto);
    return cp;
}

START_TEST(test_round_trip)
{
    struct flow_key a = cp_v4(0xc6336402, 40000, 0xcb00710a, 80,
                              IPPROTO_TCP);
    struct flow_key b = cp_v4(0xc6336403, 40001, 0xcb00710a, 80,
                              IPPROTO_TCP);
    struct flow_key c = cp_v4(0xc6336402, 40000, 0xcb00710a, 80,
                              IPPROTO_UDP);
    struct entry_key ka, kb, kc, found;
    struct entry_keys keys;
    struct flow_key back;

    entry_keys_init(&keys);
    ck_assert(!entry_key_find(&keys, &a, &found));

    ck_assert(entry_key_ref(&keys, &a, &ka));
    ck_assert(entry_key_ref(&keys, &b, &kb));
    ck_assert(entry_key_ref(&keys, &c, &kc));
    ck_assert_uint_eq(entry_keys_count(&keys), 2);   /* TCP and UDP :80. */
    ck_assert_uint_eq(ka.vip_end, kb.vip_end);
    ck_assert_uint_ne(ka.vip_end, kc.vip_end);
    ck_assert(!entry_key_equals(&ka, &kb));
    ck_assert(!entry_key_equals(&ka, &kc));     /* Same client end. */

    ck_assert(entry_key_find(&keys, &a, &found));
    ck_assert(entry_key_equals(&found, &ka));
    entry_key_to_cp(&keys, &ka, &back);
    ck_assert(flow_key_equals(&back, &a));
    entry_key_to_cp(&keys, &kc, &back);
    ck_assert(flow_key_equals(&back, &c));

    /* The end of a and b stays while either uses it. */
    entry_key_unref(&keys, &ka);
    ck_assert(entry_key_find(&keys, &b, &found));
    entry_key_to_cp(&keys, &kb, &back);
    ck_assert(flow_key_equals(&back, &b));
    entry_key_unref(&keys, &kb);
    ck_assert(!entry_key_find(&keys, &a, &found));
    ck_assert_uint_eq(entry_keys_count(&keys), 1);

    /* Its index is free again: the next new end takes it. */
    struct flow_key d = cp_v4(0xc6336402, 40000, 0xcb00710b, 443,
                              IPPROTO_TCP);
    struct entry_key kd;
    ck_assert(entry_key_ref(&keys, &d, &kd));
    ck_assert_uint_eq(kd.vip_end, ka.vip_end);
    entry_key_to_cp(&keys, &kd, &back);
    ck_assert(flow_key_equals(&back, &d));

    entry_key_unref(&keys, &kc);
    entry_key_unref(&keys, &kd);
    ck_assert_uint_eq(entry_keys_count(&keys), 0);
    entry_keys_destroy(&keys);
}
END_TEST

/* IPv6 ends are kept whole. */
START_TEST(test_ipv6)
{
    struct flow_key cp, back;
    struct entry_keys keys;
    struct entry_key k;

    memset(&cp, 0, sizeof cp);
    ck_assert(ipv6_parse("2001:db8::1", &cp.client));
    ck_assert(ipv6_parse("2001:db8:ffff::10", &cp.vip));
    cp.client_port = htons(50000);
    cp.vip_port = htons(80);
    cp.proto = IPPROTO_TCP;

    entry_keys_init(&keys);
    ck_assert(entry_key_ref(&keys, &cp, &k));
    entry_key_to_cp(&keys, &k, &back);
    ck_assert(flow_key_equals(&back, &cp));
    entry_key_unref(&keys, &k);
    entry_keys_destroy(&keys);
}
END_TEST

/* A table of ENTRY_KEYS_MAX ends refuses a new one, takes more entries of
 * the ends it has, and takes a new one again once an end is gone. */
START_TEST(test_full)
{
    struct entry_key *k = xmalloc(ENTRY_KEYS_MAX * sizeof *k);
    struct entry_keys keys;
    struct entry_key extra;
    struct flow_key cp;

    entry_keys_init(&keys);
    for (uint32_t i = 0; i < ENTRY_KEYS_MAX; i++) {
        cp = cp_v4(0xc6336402, 40000, 0xcb000000 + (i >> 2), 80 + (i & 3),
                   IPPROTO_TCP);
        ck_assert(entry_key_ref(&keys, &cp, &k[i]));
        ck_assert_uint_eq(k[i].vip_end, i);
    }
    cp = cp_v4(0xc6336402, 40000, 0xcc000000, 80, IPPROTO_TCP);
    ck_assert(!entry_key_ref(&keys, &cp, &extra));
    ck_assert(!entry_key_find(&keys, &cp, &extra));
    ck_assert_uint_eq(entry_keys_count(&keys), ENTRY_KEYS_MAX);

    struct flow_key again = cp_v4(0xc6336499, 1, 0xcb000000, 80,
                                  IPPROTO_TCP);
    ck_assert(entry_key_ref(&keys, &again, &extra));
    ck_assert_uint_eq(extra.vip_end, 0);
    entry_key_unref(&keys, &extra);

    entry_key_unref(&keys, &k[1000]);
    ck_assert(entry_key_ref(&keys, &cp, &extra));
    ck_assert_uint_eq(extra.vip_end, 1000);

    entry_key_unref(&keys, &extra);
    for (uint32_t i = 0; i < ENTRY_KEYS_MAX; i++) {
        if (i != 1000) {
            entry_key_unref(&keys, &k[i]);
        }
    }
    ck_assert_uint_eq(entry_keys_count(&keys), 0);
    entry_keys_destroy(&keys);
    free(k);
}
END_TEST

static Suite *
entry_key_suite(void)
{
    Suite *s = suite_create("entry-key");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_ipv6);
    tcase_add_test(tc, test_full);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(entry_key_suite());
    int n_failed;

    srunner_run_all(sr, CK_NORMAL);
    n_failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
