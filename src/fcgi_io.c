/* fcgi_io: FastCGI <-> struct req/resp; see fcgi_io.h.
 * The body is read in full before dispatch (nginx has already buffered it)
 * and capped at REQ_BODY_MAX: a longer body is refused with 413 from its
 * Content-Length, before reading it. */
#include "fcgi_io.h"

#include <fcgiapp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "req.h"
#include "resp.h"

static const char *param(FCGX_Request *fr, const char *name)
{
    return FCGX_GetParam(name, fr->envp);
}

/* The decoded path without query string and without trailing slashes. */
static char *clean_path(struct arena *a, const char *doc_uri, const char *req_uri)
{
    const char *src = doc_uri;
    size_t len;
    char *p;
    long n;

    if (src == NULL || *src == '\0') {
        src = req_uri ? req_uri : "/";
        len = strcspn(src, "?");
        if ((p = arena_alloc(a, len + 2)) == NULL)
            return NULL;
        /* a malformed escape, or a %00 that would cut the path short as a C
         * string ("/metrics%00" read as "/metrics"): keep it raw, it will
         * match no route */
        if ((n = req_url_decode(p, src, len, false)) < 0 || memchr(p, '\0', (size_t)n) != NULL) {
            memcpy(p, src, len);
            n = (long)len;
        }
        p[n] = '\0';
    } else {
        if ((p = arena_strdup(a, src)) == NULL)
            return NULL;
        n = (long)strlen(p);
    }
    if (n == 0 || p[0] != '/') {
        if ((p = arena_sprintf(a, "/%s", p)) == NULL)
            return NULL;
        n++;
    }
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    return p;
}

static int read_body(FCGX_Request *fr, struct arena *a, struct req *rq, struct resp *rs)
{
    const char *cl = param(fr, "CONTENT_LENGTH");
    long long want = -1;
    size_t got = 0;
    char *buf;

    if (cl != NULL && *cl != '\0') {
        char *end;
        want = strtoll(cl, &end, 10);
        if (*end != '\0' || want < 0)
            return resp_error(rs, 400, "Invalid Content-Length");
        if (want > REQ_BODY_MAX)
            return resp_error(rs, 413, "Request body too large");
    }
    if (want == 0)
        return 0;
    if ((buf = arena_alloc(a, REQ_BODY_MAX + 2)) == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    for (;;) {
        int n = FCGX_GetStr(buf + got, (int)(REQ_BODY_MAX + 1 - got), fr->in);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got > REQ_BODY_MAX)
            return resp_error(rs, 413, "Request body too large");
        if (want >= 0 && got >= (size_t)want)
            break;
    }
    buf[got] = '\0';
    rq->body = buf;
    rq->body_len = got;
    return 0;
}

int fcgi_io_read(struct FCGX_Request *fr, struct arena *a, struct req *rq, struct resp *rs)
{
    const char *q;
    int status;

    rq->arena = a;
    rq->env = fr->envp;
    rq->method = param(fr, "REQUEST_METHOD");
    if (rq->method == NULL)
        rq->method = "GET";
    rq->content_type = param(fr, "CONTENT_TYPE");
    rq->request_id = param(fr, "REQUEST_ID");
    rq->remote_addr = param(fr, "REMOTE_ADDR");
    q = param(fr, "QUERY_STRING");
    rq->query = q ? q : "";
    rq->path = clean_path(a, param(fr, "DOCUMENT_URI"), param(fr, "REQUEST_URI"));
    if (rq->path == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    /* a refused query string is answered by the dispatcher, after the
     * limiter and the token check, like every other invalid input */
    rq->query_rc = req_parse_urlencoded(a, rq->query, strlen(rq->query), &rq->query_params,
                                        &rq->nquery, &rq->query_bad);
    if ((status = read_body(fr, a, rq, rs)) != 0)
        return status;
    return 0;
}

void fcgi_io_write(struct FCGX_Request *fr, const struct resp *rs)
{
    char head[256];
    bool has_body = rs->status != 204 && rs->status != 304;
    int n;

    /* libfcgi's own printf lacks %zu: format with libc, write once */
    n = snprintf(head, sizeof(head), "Status: %d %s\r\n", rs->status, resp_reason(rs->status));
    if (rs->content_type != NULL && has_body)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n", rs->content_type);
    if (has_body)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n", rs->body_len);
    FCGX_PutStr(head, n, fr->out);
    if (rs->headers_len)
        FCGX_PutStr(rs->headers, (int)rs->headers_len, fr->out);
    FCGX_PutStr("\r\n", 2, fr->out);
    if (rs->body_len && has_body)
        FCGX_PutStr(rs->body, (int)rs->body_len, fr->out);
}
