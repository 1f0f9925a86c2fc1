/* The history page's renderer and data: escaping, the policy's hashes, the
 * timeline's lanes. */
#include <string.h>

#include <openssl/evp.h>

#include "check_main.h"
#include "cli/render_html.h"
#include "report_data.h"

#define XSS "<img src=x onerror=alert(1)>"

static void one_migration(report_data *rd, rd_migration *m, const char *desc, const char *error)
{
    memset(rd, 0, sizeof *rd);
    memset(m, 0, sizeof *m);
    m->revision = "D\"001<b>";
    m->description = desc;
    m->status = DG_FAILED;
    m->error = error;
    m->progress_done = m->progress_total = -1;
    rd->m = m;
    rd->n = 1;
    rd->count[DG_FAILED] = 1;
    rd->database = (char *)"postgresql://u:***@h/db";
}

START_TEST(hostile_text_is_text)
{
    report_data rd;
    rd_migration m;
    one_migration(&rd, &m, XSS "\x1b[2J\xe2\x80\xae", "line one\n<script>alert(2)</script>");
    html_opts o = {0};
    o.svg_error = "<svg onload=alert(3)>";
    sbuf out = {0};
    render_html(&rd, &o, &out);
    ck_assert_ptr_null(strstr(out.s, "<img"));
    ck_assert_ptr_null(strstr(out.s, "<script>alert"));
    ck_assert_ptr_null(strstr(out.s, "<svg onload"));
    ck_assert_ptr_null(strstr(out.s, "<b>"));
    ck_assert_ptr_nonnull(strstr(out.s, "&lt;img src=x onerror=alert(1)&gt;\\x1b[2J\\u202e"));
    ck_assert_ptr_nonnull(strstr(out.s, "line one\n&lt;script&gt;alert(2)&lt;/script&gt;"));
    /* ids are unique and inert */
    ck_assert_ptr_nonnull(strstr(out.s, "id=\"mig-D.22001.3cb.3e\""));
    sbuf_free(&out);
}
END_TEST

static char *b64_sha256(const char *s, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(s, n, md, &len, EVP_sha256(), NULL);
    static char out[64];
    EVP_EncodeBlock((unsigned char *)out, md, (int)len);
    return out;
}

static void expect_hashed(const char *page, const char *csp, const char *tag)
{
    char open_tag[32], close_tag[32], want[96];
    snprintf(open_tag, sizeof open_tag, "<%s>", tag);
    snprintf(close_tag, sizeof close_tag, "</%s>", tag);
    const char *a = strstr(page, open_tag);
    ck_assert_ptr_nonnull(a);
    a += strlen(open_tag);
    const char *b = strstr(a, close_tag);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(strstr(b + 1, open_tag)); /* one of each */
    snprintf(want, sizeof want, "'sha256-%s'", b64_sha256(a, (size_t)(b - a)));
    ck_assert_ptr_nonnull(strstr(csp, want));
}

START_TEST(policy_allows_exactly_the_page_own_style_and_script)
{
    report_data rd;
    rd_migration m;
    one_migration(&rd, &m, "d", NULL);
    for (int live = 0; live < 2; live++) {
        html_opts o = {0};
        o.live = live;
        sbuf out = {0};
        render_html(&rd, &o, &out);
        char *csp = render_html_csp(live);
        ck_assert_ptr_null(strstr(csp, "unsafe"));
        ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
        ck_assert_ptr_nonnull(strstr(csp, live ? "connect-src 'self'" : "connect-src 'none'"));
        expect_hashed(out.s, csp, "style");
        expect_hashed(out.s, csp, "script");
        free(csp);
        sbuf_free(&out);
    }
}
END_TEST

START_TEST(overlapping_attempts_get_their_own_lanes)
{
    report_data rd;
    memset(&rd, 0, sizeof rd);
    rd_attempt a[4] = {
        {.id = 1, .started = 100, .ended = 110}, /* lane 0 */
        {.id = 2, .started = 105, .ended = 120}, /* overlaps 1: lane 1 */
        {.id = 3, .started = 110, .ended = 115}, /* 1 ended: lane 0 again */
        {.id = 4, .started = 121, .ended = 130}, /* alone: lane 0 */
    };
    rd.a = a;
    rd.na = 4;
    report_data_lanes(&rd);
    ck_assert_uint_eq(rd.lanes, 2);
    ck_assert_uint_eq(a[0].lane, 0);
    ck_assert_uint_eq(a[1].lane, 1);
    ck_assert_uint_eq(a[2].lane, 0);
    ck_assert_uint_eq(a[3].lane, 0);
    ck_assert(rd.first_start == 100 && rd.last_end == 130);
}
END_TEST

START_TEST(status_document_is_history_json_with_extras)
{
    report_data rd;
    rd_migration m;
    one_migration(&rd, &m, XSS, "boom");
    m.in_bundle = 1;
    sbuf out = {0};
    render_status_json(&rd, "fp", &out);
    ck_assert_ptr_nonnull(strstr(out.s, "\"command\":\"history\""));
    ck_assert_ptr_nonnull(strstr(out.s, "\"revision\":\"D\\\"001<b>\",\"status\":\"failed\""));
    ck_assert_ptr_nonnull(strstr(out.s, "\"error\":\"boom\""));
    ck_assert_ptr_nonnull(strstr(out.s, "\"fingerprint\":\"fp\""));
    ck_assert_ptr_nonnull(strstr(out.s, "\"exit_code\":0"));
    sbuf_free(&out);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("see");
    TCase *tc = tcase_create("see");
    ADD(tc, hostile_text_is_text);
    ADD(tc, policy_allows_exactly_the_page_own_style_and_script);
    ADD(tc, overlapping_attempts_get_their_own_lanes);
    ADD(tc, status_document_is_history_json_with_extras);
    suite_add_tcase(s, tc);
    return s;
}
